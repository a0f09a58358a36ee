/**
 * Fleet outputs: `fleet.json` (the aggregate, with readable statistics beside the sketches), one
 * SVG histogram per distribution, and a self-contained `report.html`.
 *
 * fleet.json is a pure function of the aggregate: no wall time, no host, no shard number (shards
 * are recorded as the patient ranges they cover). So `itpump fleet merge` of all shards writes a
 * fleet.json byte-identical to one run over the whole fleet, and the same charts. The statistics
 * (means, quantiles, pooled rates) are derived from the per-patient values, sketches and totals on
 * every write; a reader takes only the values, sketches, totals, coverage and spec back
 * (`parseFleetJson`) and checks them, so a hand-edited statistic cannot leak into a merge.
 *
 * Percentiles are nearest-rank order statistics of the patients' values (the value of the
 * ⌈p·n/100⌉-th patient in order), exact; only where a distribution had more than
 * EXACT_VALUES_MAX patients are they estimated from its sketch, within one bin, and fleet.json
 * says so (`quantiles: "within one bin"`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { alarmCatalogue, alarmCodes } from '../../src/alarms.js';
import { denyReasons } from '../../src/pump/types.js';
import {
  DAY_MS,
  formatDosePgExact,
  formatDurationMs,
  NL_PER_ML,
  PG_PER_NG,
} from '../../src/units.js';
import { AnalysisInputError } from '../analysis/inputError.js';
import { readUserFile } from '../inputError.js';
import {
  parseSketch,
  sketchMean,
  sketchQuantile,
  type HistogramSketch,
} from '../analysis/sketch.js';
import {
  histogramChartSvg,
  percentileBandChartSvg,
  type BandChartInput,
} from '../report/charts.js';
import { recordCharts } from '../report/chartManifest.js';
import { buildReportHtml, type ReportFigure, type ReportSection } from '../report/html.js';
import type { HistogramChartInput } from '../report/types.js';
import { describeZodError, InputError } from '../scenario.js';
import {
  BAND_POINTS_MAX,
  distributionKeys,
  EXACT_VALUES_MAX,
  FLEET_FORMAT,
  mergeAggregates,
  missingPatients,
  sketchOf,
  specDifference,
  type FleetAggregate,
} from './aggregate.js';
import { shardRange } from './runFleet.js';
import { YEAR_MS } from './patient.js';

export interface Statistics {
  count: number;
  mean: number | null;
  p05: number | null;
  median: number | null;
  p95: number | null;
  min: number | null;
  max: number | null;
  /** The sketch's unit divided by this gives `displayUnit`. */
  displayUnit: string;
  /** How p05, median and p95 were found: from the patients' values, or from the sketch. */
  quantiles: 'exact' | 'within one bin';
}

/**
 * The nearest-rank p-th percentile (p an integer percent, 0 to 100) of sorted values: the value of
 * the ⌈p·n/100⌉-th (at least the first); undefined for no values. p·n is an integer, so the
 * rank is computed exactly.
 */
export function nearestRank(sorted: ArrayLike<number>, percent: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((percent * sorted.length) / 100));
  return sorted[rank - 1];
}

/** A distribution's percentile: exact from its sorted values, else estimated from its sketch. */
export function percentileOf(d: Pick<Distribution, 'sketch' | 'sorted'>, percent: number) {
  return d.sorted !== null
    ? nearestRank(d.sorted, percent)
    : sketchQuantile(d.sketch, percent / 100);
}

/** Readable statistics in display units, rounded so the JSON stays short and stable. */
export function statistics(
  d: Pick<Distribution, 'sketch' | 'sorted'>,
  perDisplayUnit: number,
  displayUnit: string,
): Statistics {
  const show = (v: number | undefined | null) =>
    v === undefined || v === null ? null : Number((v / perDisplayUnit).toPrecision(6));
  const { sketch } = d;
  return {
    count: sketch.count,
    mean: show(sketchMean(sketch)),
    p05: show(percentileOf(d, 5)),
    median: show(percentileOf(d, 50)),
    p95: show(percentileOf(d, 95)),
    min: show(sketch.min),
    max: show(sketch.max),
    displayUnit,
    quantiles: d.sorted !== null ? 'exact' : 'within one bin',
  };
}

/** Per distribution: its name, sketch, display unit, and the file its chart goes to. */
export interface Distribution {
  key: string;
  title: string;
  sketch: HistogramSketch;
  /** The patients' values in ascending order, or null where they were too many to keep. */
  sorted: Float64Array | null;
  chart: HistogramChartInput;
  file: string;
}

/** The patients' values of a distribution, sorted (a copy), or null where they were not kept. */
function sortedValues(a: FleetAggregate, key: string): Float64Array | null {
  const values = a.perPatient[key];
  return values ? Float64Array.from(values).sort() : null;
}

export function distributions(a: FleetAggregate): Distribution[] {
  return distributionsWithoutValues(a).map((d) => ({ ...d, sorted: sortedValues(a, d.key) }));
}

function distributionsWithoutValues(a: FleetAggregate): Omit<Distribution, 'sorted'>[] {
  const s = a.sketches;
  const days = (
    key: string,
    title: string,
    sketch: HistogramSketch,
  ): Omit<Distribution, 'sorted'> => ({
    key,
    title,
    sketch,
    chart: { metric: title, displayUnit: 'days', perDisplayUnit: DAY_MS },
    file: `${key}.svg`,
  });
  return [
    days(
      'timeToLowReservoirAlarm',
      'Days to the first low-reservoir alarm',
      s.timeToLowReservoirAlarm,
    ),
    days(
      'timeToEmptyReservoirAlarm',
      'Days to the first empty-reservoir alarm',
      s.timeToEmptyReservoirAlarm,
    ),
    days('timeToTrueEmpty', 'Days until the true reservoir ran dry', s.timeToTrueEmpty),
    ...(['any', ...denyReasons] as const).map((reason) => ({
      key: `deniedFraction.${reason}`,
      title: reason === 'any' ? 'Share of presses denied' : `Share of presses denied: ${reason}`,
      sketch: s.deniedFraction[reason],
      chart: {
        metric: reason === 'any' ? 'Presses denied' : `Presses denied (${reason})`,
        displayUnit: '%',
        perDisplayUnit: 10_000,
      },
      file: `denied-${reason}.svg`,
    })),
    ...alarmCodes.map((code) => ({
      key: `alarmRate.${code}`,
      title: `${code} alarms per patient-year`,
      sketch: s.alarmRate[code],
      chart: { metric: `${code} alarms`, displayUnit: 'per patient-year', perDisplayUnit: 1_000 },
      file: `alarm-rate-${code}.svg`,
    })),
    ...a.spec.drugs.map(({ drug }) => ({
      key: `highest24hDoseOfHardMax.${drug}`,
      title: `Highest 24-h dose of ${drug}, % of its hard daily maximum`,
      sketch: s.highest24hDoseOfHardMax[drug]!,
      chart: {
        metric: `Highest 24-h dose of ${drug}`,
        displayUnit: '% of hard max',
        perDisplayUnit: 100,
      },
      file: `highest-24h-dose-${drug}.svg`,
    })),
    {
      key: 'strokeVolumeError',
      title: 'Systematic stroke-volume error drawn per patient',
      sketch: s.strokeVolumeError,
      chart: { metric: 'Stroke-volume error', displayUnit: '%', perDisplayUnit: 10_000 },
      file: 'stroke-volume-error.svg',
    },
  ];
}

const round6 = (x: number) => Number(x.toPrecision(6));

/** fleet.json's object: spec, coverage, totals, derived statistics, worst patients, sketches. */
export function fleetJsonObject(a: FleetAggregate): unknown {
  const t = a.totals;
  const patientYears = t.simulatedMs / YEAR_MS;
  const missing = missingPatients(a);
  return {
    format: FLEET_FORMAT,
    spec: a.spec,
    ...(a.shard ? { shard: a.shard } : {}),
    coverage: a.coverage,
    complete: missing.length === 0,
    missing,
    totals: t,
    statistics: {
      patientYears: round6(patientYears),
      deniedFractionPooled: Object.fromEntries(
        denyReasons.map((r) => [
          r,
          t.pressesRequested > 0 ? round6(t.deniedByReason[r] / t.pressesRequested) : null,
        ]),
      ),
      alarmsPerPatientYearPooled: Object.fromEntries(
        alarmCodes.map((c) => [
          c,
          patientYears > 0 ? round6(t.alarmsRaised[c] / patientYears) : null,
        ]),
      ),
      distributions: Object.fromEntries(
        distributions(a).map((d) => [
          d.key,
          statistics(d, d.chart.perDisplayUnit, d.chart.displayUnit),
        ]),
      ),
    },
    worst: a.worst,
    perPatient: perPatientJson(a),
    sketches: a.sketches,
    bands: a.bands,
  };
}

/**
 * Per distribution, its patients' values as distinct values ascending and how many patients had
 * each (most patients share a few values: no alarm is 0), or null where they were not kept.
 */
function perPatientJson(a: FleetAggregate): Record<string, PerPatientJson | null> {
  return Object.fromEntries(
    distributionKeys(a.spec).map((key) => {
      const sorted = sortedValues(a, key);
      if (sorted === null) return [key, null];
      const values: number[] = [];
      const counts: number[] = [];
      for (const v of sorted) {
        if (values[values.length - 1] === v) counts[counts.length - 1]!++;
        else (values.push(v), counts.push(1));
      }
      return [key, { values, counts }];
    }),
  );
}

interface PerPatientJson {
  values: number[];
  counts: number[];
}

/**
 * fleet.json's text: indented, but each list of numbers on one line (a sketch's bins, a coverage
 * range), so the bands' few hundred sketches stay a few hundred lines.
 */
export function fleetJson(a: FleetAggregate): string {
  const text = JSON.stringify(fleetJsonObject(a), null, 2);
  return (
    text.replace(
      /\[\n\s*(-?[\d.e+-]+(?:,\n\s*-?[\d.e+-]+)*)\n\s*\]/g,
      (_all, numbers: string) => `[${numbers.split(/,\n\s*/).join(', ')}]`,
    ) + '\n'
  );
}

// ---------------------------------------------------------------------------------------------
// Reading fleet.json back

const int = z.number().int();
const nonNegative = int.nonnegative();
const countsOf = (keys: readonly string[]) =>
  z.object(Object.fromEntries(keys.map((k) => [k, nonNegative])));
const fleetFileSchema = z.object({
  format: z.literal(FLEET_FORMAT),
  spec: z.object({
    scenario: z.string(),
    scenarioDigest: z.string(),
    baseSeed: nonNegative,
    patients: int.positive(),
    durationMs: int.positive(),
    sampleEveryMs: int.positive(),
    variation: z.object({
      motorErrorSdPpm: z.number().nonnegative(),
      stallsPerYear: z.number().nonnegative(),
      stallDurationMs: int.positive(),
      clinicResponseMs: int.nonnegative(),
    }),
    drugs: z.array(z.object({ drug: z.string(), dailyDoseNgHardMax: int.positive() })),
    reservoirCapacityNl: int.positive(),
    bandStepMs: int.positive(),
    bandPoints: int.positive().max(BAND_POINTS_MAX),
  }),
  shard: z.object({ index: nonNegative, count: int.positive() }).optional(),
  coverage: z.array(z.tuple([nonNegative, nonNegative])),
  totals: z.object({
    patients: nonNegative,
    simulatedMs: nonNegative,
    controllerEvents: nonNegative,
    pressesRequested: nonNegative,
    patientsWithPresses: nonNegative,
    deniedByReason: countsOf(denyReasons),
    alarmsRaised: countsOf(alarmCodes),
    patientsWithAlarm: countsOf(alarmCodes),
    reachedLowReservoirAlarm: nonNegative,
    reachedEmptyReservoirAlarm: nonNegative,
    trueReservoirRanDry: nonNegative,
  }),
  worst: z.array(
    z.object({ index: nonNegative, seed: nonNegative, drug: z.string(), basisPoints: int }),
  ),
  sketches: z.object({
    timeToLowReservoirAlarm: z.unknown(),
    timeToEmptyReservoirAlarm: z.unknown(),
    timeToTrueEmpty: z.unknown(),
    deniedFraction: z.record(z.string(), z.unknown()),
    alarmRate: z.record(z.string(), z.unknown()),
    highest24hDoseOfHardMax: z.record(z.string(), z.unknown()),
    strokeVolumeError: z.unknown(),
  }),
  bands: z.object({
    reservoirNl: z.array(z.unknown()),
    dailyDoseOfHardMax: z.record(z.string(), z.array(z.unknown())),
  }),
  perPatient: z.record(
    z.string(),
    z.object({ values: z.array(int), counts: z.array(int.positive()) }).nullable(),
  ),
});

/**
 * The per-patient values of a checked fleet.json, expanded, each checked against its
 * distribution's sketch: ascending distinct values, as many patients as the sketch counts, the
 * same min and max; null only past EXACT_VALUES_MAX.
 */
function parsePerPatient(
  f: z.infer<typeof fleetFileSchema>,
  sketches: FleetAggregate['sketches'],
): FleetAggregate['perPatient'] {
  return Object.fromEntries(
    distributionKeys(f.spec).map((key) => {
      const field = `perPatient.${key}`;
      const sketch = sketchOf(sketches, key);
      const raw = f.perPatient[key];
      if (raw === undefined) throw new AnalysisInputError('mismatch', field, 'is missing');
      if (raw === null) {
        if (sketch.count > EXACT_VALUES_MAX) return [key, null];
        throw new AnalysisInputError(
          'mismatch',
          field,
          `is null, but the sketch counts only ${sketch.count} patients (values are dropped past ${EXACT_VALUES_MAX})`,
        );
      }
      const { values, counts } = raw;
      const patients = counts.reduce((n, c) => n + c, 0);
      if (
        values.length !== counts.length ||
        values.some((v, k) => k > 0 && v <= values[k - 1]!) ||
        patients !== sketch.count ||
        (patients > 0 && (values[0] !== sketch.min || values[values.length - 1] !== sketch.max))
      )
        throw new AnalysisInputError(
          'mismatch',
          field,
          `does not fit its sketch: ${patients} patients from ${values[0]} to ${values[values.length - 1]}, the sketch ${sketch.count} from ${sketch.min} to ${sketch.max} (values ascending, one count each)`,
        );
      return [key, values.flatMap((v, k) => Array<number>(counts[k]!).fill(v))];
    }),
  );
}

/** fleet.json's format, refused by name when it is another version's (an older itpump's shard). */
function checkFormat(raw: unknown, file: string): void {
  const format = (raw as { format?: unknown } | null)?.format;
  if (format === FLEET_FORMAT || typeof format !== 'string' || !format.startsWith('itpump-fleet/'))
    return;
  throw new InputError(
    `${file}: format ${format} is not ${FLEET_FORMAT}: it was written by another version of itpump ` +
      '(version 4 holds the per-patient values that exact percentiles need); run that fleet or shard again with this version',
  );
}

/** A band's sketches, one per point of the spec, naming the field at fault. */
function bandSketches(raw: readonly unknown[] | undefined, points: number, field: string) {
  if (raw === undefined) throw new AnalysisInputError('mismatch', field, 'is missing');
  if (raw.length !== points)
    throw new AnalysisInputError(
      'mismatch',
      field,
      `has ${raw.length} points, spec.bandPoints is ${points}`,
    );
  return raw.map((sketch, k) => parseSketch(sketch, `${field}[${k}]`));
}

/** Reads a sketch per key, in the given order, naming the field at fault. */
function sketchRecord<K extends string>(
  raw: Record<string, unknown>,
  keys: readonly K[],
  field: string,
): Record<K, HistogramSketch> {
  return Object.fromEntries(
    keys.map((k) => {
      if (!(k in raw)) throw new AnalysisInputError('mismatch', `${field}.${k}`, 'is missing');
      return [k, parseSketch(raw[k], `${field}.${k}`)];
    }),
  ) as Record<K, HistogramSketch>;
}

/** The sketches of a checked fleet.json, each checked and named by its path. */
function parseSketches(f: z.infer<typeof fleetFileSchema>): FleetAggregate['sketches'] {
  const s = f.sketches;
  return {
    timeToLowReservoirAlarm: parseSketch(
      s.timeToLowReservoirAlarm,
      'sketches.timeToLowReservoirAlarm',
    ),
    timeToEmptyReservoirAlarm: parseSketch(
      s.timeToEmptyReservoirAlarm,
      'sketches.timeToEmptyReservoirAlarm',
    ),
    timeToTrueEmpty: parseSketch(s.timeToTrueEmpty, 'sketches.timeToTrueEmpty'),
    deniedFraction: sketchRecord(
      s.deniedFraction,
      ['any', ...denyReasons] as const,
      'sketches.deniedFraction',
    ),
    alarmRate: sketchRecord(s.alarmRate, alarmCodes, 'sketches.alarmRate'),
    highest24hDoseOfHardMax: sketchRecord(
      s.highest24hDoseOfHardMax,
      f.spec.drugs.map((d) => d.drug),
      'sketches.highest24hDoseOfHardMax',
    ),
    strokeVolumeError: parseSketch(s.strokeVolumeError, 'sketches.strokeVolumeError'),
  };
}

/** Parses and checks a fleet.json (a shard's or a whole fleet's). Bad content is an InputError. */
export function parseFleetJson(text: string, file: string): FleetAggregate {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  checkFormat(raw, file);
  const parsed = fleetFileSchema.safeParse(raw);
  if (!parsed.success)
    throw new InputError(describeZodError(file, parsed.error, raw, fleetFileSchema));
  const f = parsed.data;
  try {
    const sketches = parseSketches(f);
    const aggregate: FleetAggregate = {
      format: FLEET_FORMAT,
      spec: f.spec,
      ...(f.shard ? { shard: f.shard } : {}),
      coverage: f.coverage,
      totals: f.totals as FleetAggregate['totals'],
      sketches,
      worst: f.worst,
      bands: {
        reservoirNl: bandSketches(f.bands.reservoirNl, f.spec.bandPoints, 'bands.reservoirNl'),
        dailyDoseOfHardMax: Object.fromEntries(
          f.spec.drugs.map(({ drug }) => [
            drug,
            bandSketches(
              f.bands.dailyDoseOfHardMax[drug],
              f.spec.bandPoints,
              `bands.dailyDoseOfHardMax.${drug}`,
            ),
          ]),
        ),
      },
      perPatient: parsePerPatient(f, sketches),
    };
    const covered = aggregate.coverage.reduce((n, [from, to]) => n + (to - from), 0);
    if (covered !== aggregate.totals.patients) {
      throw new AnalysisInputError(
        'mismatch',
        'coverage',
        `covers ${covered} patients but totals.patients is ${aggregate.totals.patients}`,
      );
    }
    return aggregate;
  } catch (e) {
    if (e instanceof AnalysisInputError) throw new InputError(`${file}: ${e.message}`);
    throw e;
  }
}

export function readFleetDir(dir: string): FleetAggregate {
  const file = join(dir, 'fleet.json');
  return parseFleetJson(readUserFile(file, 'the output of an `itpump fleet`'), file);
}

/** "2-3" for the patients [from, to). */
const patientRange = ([from, to]: [number, number]) => `${from}-${to - 1}`;

/** "shard 1", "shards 1 and 3", "shards 1, 3 and 5". */
function shardList(indices: readonly number[]): string {
  const names = indices.map(String);
  const last = names.pop()!;
  return names.length === 0 ? `shard ${last}` : `shards ${names.join(', ')} and ${last}`;
}

/**
 * One line naming the patients of the fleet that no shard covers, as shards where they are whole
 * shards of the count every shard file names ("shard 1 of 3 (patients 2-3 of 6) is missing").
 */
export function describeMissing(
  missing: readonly [number, number][],
  patients: number,
  shardCount: number | undefined,
): string {
  const ranges = `patients ${missing.map(patientRange).join(', ')} of ${patients}`;
  if (shardCount === undefined) return `${ranges} are in none of the shards`;
  // The shards (of at least one patient) all of whose patients are missing.
  const size = ([from, to]: readonly [number, number]) => to - from;
  const whole = Array.from({ length: shardCount }, (_, index) => index).filter((index) => {
    const [from, to] = shardRange(patients, { index, count: shardCount });
    return to > from && missing.some(([a, b]) => a <= from && to <= b);
  });
  const wholePatients = whole.reduce(
    (n, index) => n + size(shardRange(patients, { index, count: shardCount })),
    0,
  );
  if (whole.length > 0 && wholePatients === missing.reduce((n, r) => n + size(r), 0))
    return `${shardList(whole)} of ${shardCount} (${ranges}) ${whole.length === 1 ? 'is' : 'are'} missing`;
  return `${ranges} are missing (not whole shards of ${shardCount}: was one interrupted?)`;
}

/**
 * Joins shard outputs into the fleet's aggregate. Refuses, in one line naming the files: shards of
 * different fleets, shards that overlap (the same patients twice) and, unless `partial`, a set
 * that misses patients (naming the missing shards). With `partial` the merge of what there is is
 * returned; `missingPatients` of it says what it lacks.
 */
export function mergeFleetDirs(
  dirs: readonly string[],
  options: { partial?: boolean } = {},
): FleetAggregate {
  return mergeShardDirs(dirs, options).aggregate;
}

/** As `mergeFleetDirs`, with the line naming what is missing when `partial` let it through. */
export function mergeShardDirs(
  dirs: readonly string[],
  { partial = false }: { partial?: boolean } = {},
): {
  aggregate: FleetAggregate;
  shards: { dir: string; aggregate: FleetAggregate }[];
  incomplete?: string;
} {
  if (dirs.length === 0) throw new InputError('fleet merge: name at least one shard directory');
  const shards = dirs.map((dir) => ({
    dir,
    file: join(dir, 'fleet.json'),
    aggregate: readFleetDir(dir),
  }));
  const first = shards[0]!;
  for (const { file, aggregate } of shards.slice(1)) {
    const difference = specDifference(first.aggregate.spec, aggregate.spec);
    if (difference !== undefined)
      throw new InputError(
        `fleet merge: ${file} is not of the fleet of ${first.file}: ${difference}`,
      );
  }
  const patients = first.aggregate.spec.patients;
  // Overlaps, between the two files that hold the same patients.
  const owned = shards
    .flatMap(({ file, aggregate }) => aggregate.coverage.map((range) => ({ file, range })))
    .sort((x, y) => x.range[0] - y.range[0]);
  for (let k = 1; k < owned.length; k++) {
    const before = owned.slice(0, k).find((o) => o.range[1] > owned[k]!.range[0]);
    if (before !== undefined) {
      const both: [number, number] = [
        owned[k]!.range[0],
        Math.min(before.range[1], owned[k]!.range[1]),
      ];
      throw new InputError(
        `fleet merge: overlapping: patients ${patientRange(both)} of ${patients} are in both ${before.file} and ${owned[k]!.file}`,
      );
    }
  }
  let merged = first.aggregate;
  for (const { aggregate } of shards.slice(1)) merged = mergeAggregates(merged, aggregate);
  const { shard: _shard, ...whole } = merged; // a merge is no shard, even of one file
  const missing = missingPatients(whole);
  if (missing.length === 0) return { aggregate: whole, shards };
  const counts = new Set(shards.map((s) => s.aggregate.shard?.count));
  const incomplete = describeMissing(
    missing,
    patients,
    counts.size === 1 ? [...counts][0] : undefined,
  );
  if (!partial)
    throw new InputError(`fleet merge: incomplete: ${incomplete} (--partial merges what there is)`);
  return { aggregate: whole, shards, incomplete };
}

// ---------------------------------------------------------------------------------------------
// Charts and report

function pct(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : 'n/a';
}

/** Writes fleet.json, the charts and report.html into `dir`; returns the paths written. */
export async function writeFleetOutputs(a: FleetAggregate, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    written.push(file);
  };
  write('fleet.json', fleetJson(a));
  const charts: string[] = [];
  const figures = await writeFleetCharts(a, (name, text) => {
    write(name, text);
    charts.push(name);
  });
  const pick = (keys: string[]) => keys.flatMap((k) => (figures.has(k) ? [figures.get(k)!] : []));
  write('report.html', fleetReportHtml(a, pick));
  recordCharts(dir, charts);
  return written;
}

/** A chart per distribution that has something to show, written as it is drawn; by key. */
async function writeFleetCharts(
  a: FleetAggregate,
  write: (name: string, text: string) => void,
): Promise<Map<string, ReportFigure>> {
  const figures = new Map<string, ReportFigure>();
  for (const d of distributions(a)) {
    // An empty distribution (no patient reached the event) or one that is zero for every patient
    // (an alarm nobody had) gets no chart: the tables and fleet.json say so.
    if (d.sketch.count === 0 || (d.sketch.min === 0 && d.sketch.max === 0)) continue;
    const svg = await histogramChartSvg(d.sketch, d.chart, {
      title: d.title,
      percentile: (percent) => percentileOf(d, percent),
    });
    write(d.file, svg);
    figures.set(d.key, { svg, caption: d.title });
  }
  for (const b of bandCharts(a)) {
    if (b.input.points.every((p) => p.sketch.count === 0)) continue;
    const svg = await percentileBandChartSvg(b.input, { title: b.title });
    write(b.file, svg);
    figures.set(b.key, { svg, caption: b.title });
  }
  return figures;
}

/** The percentile bands over time: the true reservoir, and each drug's dose of the last 24 h. */
function bandCharts(a: FleetAggregate): {
  key: string;
  title: string;
  file: string;
  input: BandChartInput;
}[] {
  const at = (sketches: HistogramSketch[]) =>
    sketches.map((sketch, k) => ({ timeMs: k * a.spec.bandStepMs, sketch }));
  return [
    {
      key: 'bands.reservoir',
      title: 'True reservoir volume across patients',
      file: 'reservoir-bands.svg',
      input: {
        metric: 'True reservoir volume',
        displayUnit: 'mL',
        perDisplayUnit: NL_PER_ML,
        points: at(a.bands.reservoirNl),
      },
    },
    ...a.spec.drugs.map(({ drug, dailyDoseNgHardMax }) => {
      const sketches = a.bands.dailyDoseOfHardMax[drug]!;
      // The limit is drawn when some patient comes within half of it; else it would squash the bands.
      const near = sketches.some((s) => (s.max ?? 0) >= 5_000);
      const hardMax = `${formatDosePgExact(dailyDoseNgHardMax * PG_PER_NG)}/day`;
      const limit = `hard daily maximum (${hardMax})`;
      return {
        key: `bands.dailyDose.${drug}`,
        title: `Dose of ${drug} in the last 24 h across patients`,
        file: `daily-dose-bands-${drug}.svg`,
        input: {
          metric: `Dose of ${drug} in the last 24 h`,
          displayUnit: '% of hard max',
          perDisplayUnit: 100,
          points: at(sketches),
          note: `100 % is the hard daily maximum, ${hardMax}`,
          ...(near ? { rule: { value: 10_000, label: limit } } : {}),
        },
      };
    }),
  ];
}

/** The charts of these distribution keys that were drawn, in that order. */
type PickFigures = (keys: string[]) => ReportFigure[];

/** The fleet's report page: what ran, the headline figures, then a section per topic. */
function fleetReportHtml(a: FleetAggregate, pick: PickFigures): string {
  const t = a.totals;
  const patientYears = t.simulatedMs / YEAR_MS;
  const missing = missingPatients(a);
  return buildReportHtml({
    title: `Fleet report: ${a.spec.scenario}`,
    subtitle: [
      `${t.patients} of ${a.spec.patients} patients, seeds ${a.spec.baseSeed} + index; ${formatDurationMs(a.spec.durationMs)} each.`,
      ...(missing.length > 0
        ? [
            `Incomplete: patients ${missing.map(([f, to]) => `${f}–${to - 1}`).join(', ')} are missing.`,
          ]
        : []),
    ],
    summary: [
      { label: 'Scenario', value: a.spec.scenario },
      { label: 'Patients', value: t.patients },
      { label: 'Patient-years', value: patientYears.toFixed(2) },
      { label: 'Controller events', value: t.controllerEvents },
      {
        label: 'Presses denied',
        value: pct(
          Object.values(t.deniedByReason).reduce((x, y) => x + y, 0),
          t.pressesRequested,
        ),
      },
      { label: 'Reached low-reservoir alarm', value: pct(t.reachedLowReservoirAlarm, t.patients) },
    ],
    sections: [
      reservoirSection(a, pick),
      pressSection(t, pick),
      alarmSection(t, patientYears, pick),
      highestDoseSection(a, pick),
      variationSection(a.spec.variation, pick),
    ],
  });
}

type FleetTotals = FleetAggregate['totals'];

/** What the percentile bands are, for the sections that show them. */
function bandsNote(a: FleetAggregate, binWidth: string): string {
  return (
    `The bands are the 5th–95th and 25th–75th percentiles and the median across patients at ${a.spec.bandPoints} points, ` +
    `every ${formatDurationMs(a.spec.bandStepMs)}; each within one bin (${binWidth}) of the exact value.`
  );
}

function reservoirSection(a: FleetAggregate, pick: PickFigures): ReportSection {
  const t = a.totals;
  return {
    heading: 'Reservoir',
    paragraphs: [
      `Low-reservoir alarm reached by ${t.reachedLowReservoirAlarm} of ${t.patients} patients (${pct(t.reachedLowReservoirAlarm, t.patients)}), ` +
        `empty-reservoir alarm by ${t.reachedEmptyReservoirAlarm}, true reservoir ran dry for ${t.trueReservoirRanDry}. ` +
        'Times count from the start of the run; the distributions are over the patients who reached the event.',
      bandsNote(a, '1 % of the reservoir'),
    ],
    figures: pick([
      'bands.reservoir',
      'timeToLowReservoirAlarm',
      'timeToEmptyReservoirAlarm',
      'timeToTrueEmpty',
    ]),
  };
}

function pressSection(t: FleetTotals, pick: PickFigures): ReportSection {
  return {
    heading: 'Patient presses',
    paragraphs: [
      `${t.pressesRequested} presses by ${t.patientsWithPresses} patients. The per-patient shares below are over patients who pressed at least once.`,
    ],
    tables: [
      {
        caption: 'Presses denied, pooled over the fleet',
        columns: ['Reason', 'Presses', 'Share of all presses'],
        rows: denyReasons.map((r) => [
          r,
          t.deniedByReason[r],
          pct(t.deniedByReason[r], t.pressesRequested),
        ]),
      },
    ],
    figures: pick([
      'deniedFraction.any',
      ...denyReasons.filter((r) => t.deniedByReason[r] > 0).map((r) => `deniedFraction.${r}`),
    ]),
  };
}

function alarmSection(t: FleetTotals, patientYears: number, pick: PickFigures): ReportSection {
  return {
    heading: 'Alarms',
    tables: [
      {
        caption: `Alarms over ${patientYears.toFixed(1)} patient-years`,
        columns: ['Alarm', 'Priority', 'Raised', 'Patients with it', 'Per patient-year (pooled)'],
        rows: alarmCodes.map((c) => [
          c,
          alarmCatalogue[c].priority,
          t.alarmsRaised[c],
          t.patientsWithAlarm[c],
          patientYears > 0 ? (t.alarmsRaised[c] / patientYears).toFixed(3) : 'n/a',
        ]),
      },
    ],
    figures: pick(alarmCodes.filter((c) => t.alarmsRaised[c] > 0).map((c) => `alarmRate.${c}`)),
  };
}

function highestDoseSection(a: FleetAggregate, pick: PickFigures): ReportSection {
  return {
    heading: 'Highest 24-hour dose',
    paragraphs: [
      'Per patient and drug, the highest true dose in any rolling 24 hours (sampled every ' +
        formatDurationMs(a.spec.sampleEveryMs) +
        "), as a share of the drug's hard daily maximum; and over time, the dose of the 24 hours before each point.",
      bandsNote(a, '1 % of the limit'),
    ],
    tables: [
      {
        caption:
          'Patients with the highest 24-h dose against its limit (replay with itpump run --seed)',
        columns: ['Patient', 'Seed', 'Drug', '% of hard max'],
        rows: a.worst.map((w) => [w.index, w.seed, w.drug, (w.basisPoints / 100).toFixed(2)]),
      },
    ],
    figures: pick(
      a.spec.drugs.flatMap((d) => [
        `bands.dailyDose.${d.drug}`,
        `highest24hDoseOfHardMax.${d.drug}`,
      ]),
    ),
  };
}

function variationSection(
  v: FleetAggregate['spec']['variation'],
  pick: PickFigures,
): ReportSection {
  return {
    heading: 'Patient variation',
    paragraphs: [
      `Per patient: systematic stroke-volume error ~ normal(scenario value, ${v.motorErrorSdPpm / 10_000} %); ` +
        `motor stalls at ${v.stallsPerYear} per patient-year lasting ${formatDurationMs(v.stallDurationMs)}, alarms cleared at the clinic ${formatDurationMs(v.clinicResponseMs)} after each; ` +
        'demand and noise from the seed.',
    ],
    figures: pick(['strokeVolumeError']),
  };
}

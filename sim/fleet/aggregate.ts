/**
 * The fleet's streaming aggregate: what N patients add up to, in memory that does not grow with N.
 *
 * Each patient's outcome (patient.ts) is folded in with `recordPatient` and then dropped. The
 * aggregate holds exact integer totals (patients, presses, alarms, simulated time), one fixed-bin
 * `HistogramSketch` per distribution (sim/analysis/sketch.ts, for the histograms and the bands
 * over time), a short list of the patients worth replaying, and per distribution the patients'
 * own values (`perPatient`), from which the percentiles are exact. The sketches' size depends on
 * the scenario (drugs, run length), never on N; the values take 8 bytes per patient and
 * distribution (a fleet of two drugs has 22: 10,000 patients took 1.9 MB of heap, measured) up to EXACT_VALUES_MAX patients,
 * past which a distribution's values are dropped and its percentiles come from its sketch,
 * within one bin.
 *
 * Merging is exact: `mergeAggregates` of shards gives, field for field, the aggregate of one run
 * over all their patients, because every part is order-independent (integer sums, min/max, sketch
 * merges, a top-k list sorted by value then seed, the values as a multiset, dropped exactly when
 * the fleet's count passes the limit). Patients are identified by index ranges (`coverage`), so a
 * merge can refuse overlapping shards and say which patients are missing.
 *
 * Plain data, JSON-safe; it knows nothing about threads or files.
 */
import { alarmCodes, type AlarmCode } from '../../src/alarms.js';
import { denyReasons, type DenyReason } from '../../src/pump/types.js';
import { DAY_MS, PG_PER_NG } from '../../src/units.js';
import { AnalysisInputError } from '../analysis/inputError.js';
import {
  createSketch,
  mergeSketches,
  recordObservation,
  type HistogramSketch,
  type HistogramSpec,
} from '../analysis/sketch.js';
import { YEAR_MS, type FleetVariation, type PatientOutcome } from './patient.js';

/**
 * Version 2: sketches count the observations at their min and max (exact quantiles there).
 * Version 3: the percentile bands over time (`bands`), and the spec's reservoir capacity and band
 * points.
 * Version 4: every distribution's per-patient values (`perPatient`), so its percentiles are exact.
 * An older file is refused by name (output.ts): its shard is run again with this version.
 */
export const FLEET_FORMAT = 'itpump-fleet/4';
/**
 * Per distribution, the patients whose values are kept, at most: 100,000 values are 800 KB per
 * distribution. Past it the distribution's values are dropped (`perPatient[key]` null) and its
 * percentiles are estimated from its sketch, within one bin.
 */
export const EXACT_VALUES_MAX = 100_000;
/** At most this many points in time for the percentile bands, whatever the run's length. */
export const BAND_POINTS_MAX = 200;
/** How many patients the aggregate names as worth replaying. */
export const WORST_PATIENTS_KEPT = 10;

/** What every shard of one fleet must agree on. */
export interface FleetSpec {
  scenario: string;
  /** sha256 of the parsed scenario: shards of different scenario files cannot be merged. */
  scenarioDigest: string;
  baseSeed: number;
  /** N, the patients of the whole fleet (all shards). */
  patients: number;
  durationMs: number;
  sampleEveryMs: number;
  variation: FleetVariation;
  /** The drugs followed, with the hard daily maximum each dose is compared with. */
  drugs: { drug: string; dailyDoseNgHardMax: number }[];
  /** The pump's reservoir: the range of the reservoir band's bins. */
  reservoirCapacityNl: number;
  /** The bands' points in time: k · bandStepMs for k = 0 … bandPoints − 1 (bandStepMs a multiple of sampleEveryMs). */
  bandStepMs: number;
  bandPoints: number;
}

/**
 * How the patients spread over time, for percentile bands: at each point in time, a sketch over
 * the patients of their true reservoir volume (nL), and per drug of their dose in the 24 h ending
 * then (basis points of the drug's hard daily maximum). bandPoints × (100 + 200 per drug) counts:
 * bounded by BAND_POINTS_MAX whatever N and the run's length, merged exactly as every sketch.
 */
export interface FleetBands {
  reservoirNl: HistogramSketch[];
  dailyDoseOfHardMax: Record<string, HistogramSketch[]>;
}

/** The points in time of a run's bands: a multiple of the sampling, at most BAND_POINTS_MAX. */
export function bandPointsOf(
  durationMs: number,
  sampleEveryMs: number,
): { bandStepMs: number; bandPoints: number } {
  const bandStepMs =
    sampleEveryMs * Math.max(1, Math.ceil(durationMs / (sampleEveryMs * (BAND_POINTS_MAX - 1))));
  return { bandStepMs, bandPoints: Math.floor(durationMs / bandStepMs) + 1 };
}

export interface FleetTotals {
  patients: number;
  simulatedMs: number;
  controllerEvents: number;
  pressesRequested: number;
  /** Patients who pressed at least once (the denied fractions are over these). */
  patientsWithPresses: number;
  deniedByReason: Record<DenyReason, number>;
  alarmsRaised: Record<AlarmCode, number>;
  patientsWithAlarm: Record<AlarmCode, number>;
  reachedLowReservoirAlarm: number;
  reachedEmptyReservoirAlarm: number;
  trueReservoirRanDry: number;
}

export interface FleetSketches {
  /** ms from the start to the first low-reservoir alarm, over the patients who had one. */
  timeToLowReservoirAlarm: HistogramSketch;
  timeToEmptyReservoirAlarm: HistogramSketch;
  timeToTrueEmpty: HistogramSketch;
  /** ppm of a patient's presses denied, in all and by reason (patients with presses only). */
  deniedFraction: Record<'any' | DenyReason, HistogramSketch>;
  /** Alarms raised per patient-year, in thousandths, per alarm. */
  alarmRate: Record<AlarmCode, HistogramSketch>;
  /** Highest true dose in any 24 h as basis points (1/10,000) of the hard daily maximum, per drug. */
  highest24hDoseOfHardMax: Record<string, HistogramSketch>;
  /** The drawn systematic stroke-volume error, ppm. */
  strokeVolumeError: HistogramSketch;
}

export interface WorstPatient {
  index: number;
  seed: number;
  drug: string;
  /** Highest 24-h dose as basis points of the drug's hard daily maximum. */
  basisPoints: number;
}

export interface FleetAggregate {
  format: typeof FLEET_FORMAT;
  spec: FleetSpec;
  /**
   * The shard this run was (0-based index of count), so that a merge can name a missing shard;
   * absent for a whole fleet and for a merge, whose fleet.json is then that of one run.
   */
  shard?: { index: number; count: number };
  /** Patient index ranges [from, to) included, sorted and joined. */
  coverage: [number, number][];
  totals: FleetTotals;
  sketches: FleetSketches;
  /** Patients with the highest 24-h dose against its limit, highest first (ties: lower index). */
  worst: WorstPatient[];
  bands: FleetBands;
  /**
   * Per distribution (`distributionKeys`), the value of each patient it is over, in its sketch's
   * integer unit and in no particular order (readers sort); null once more than EXACT_VALUES_MAX
   * patients had one.
   */
  perPatient: Record<string, number[] | null>;
}

/**
 * The distributions of a fleet, by key: a sketch path ("alarmRate.motorStall" is
 * `sketches.alarmRate.motorStall`), in the order fleet.json lists them.
 */
export function distributionKeys(spec: FleetSpec): string[] {
  return [
    'timeToLowReservoirAlarm',
    'timeToEmptyReservoirAlarm',
    'timeToTrueEmpty',
    ...['any', ...denyReasons].map((r) => `deniedFraction.${r}`),
    ...alarmCodes.map((c) => `alarmRate.${c}`),
    ...spec.drugs.map((d) => `highest24hDoseOfHardMax.${d.drug}`),
    'strokeVolumeError',
  ];
}

/** The sketch of a distribution key. */
export function sketchOf(sketches: FleetSketches, key: string): HistogramSketch {
  const dot = key.indexOf('.');
  const found =
    dot < 0
      ? (sketches as unknown as Record<string, HistogramSketch>)[key]
      : (sketches as unknown as Record<string, Record<string, HistogramSketch>>)[
          key.slice(0, dot)
        ]?.[key.slice(dot + 1)];
  if (found === undefined) throw new AnalysisInputError('mismatch', key, 'is no distribution');
  return found;
}

/** Records a patient's value of one distribution: in its sketch and among the values kept. */
function observe(aggregate: FleetAggregate, key: string, value: number): void {
  recordObservation(sketchOf(aggregate.sketches, key), value);
  const kept = aggregate.perPatient[key];
  if (kept === null || kept === undefined) return;
  if (kept.length >= EXACT_VALUES_MAX) aggregate.perPatient[key] = null;
  else kept.push(value);
}

/** Both inputs' values of a distribution, or null when either had dropped them or they pass the limit. */
function mergeValues(
  a: number[] | null | undefined,
  b: number[] | null | undefined,
): number[] | null {
  if (!a || !b || a.length + b.length > EXACT_VALUES_MAX) return null;
  return a.concat(b);
}

const record = <K extends string, V>(keys: readonly K[], value: (key: K) => V): Record<K, V> =>
  Object.fromEntries(keys.map((k) => [k, value(k)])) as Record<K, V>;

/** Bins of the time-to-event sketches: one per day of the run. */
function timeSpec(durationMs: number): HistogramSpec {
  const days = Math.max(1, Math.ceil(durationMs / DAY_MS));
  return { unit: 'ms', lowest: 0, highest: days * DAY_MS, binCount: Math.min(days, 3_650) };
}
/** 1 % bins from 0 to 101 %, so 100 % has a bin of its own. */
const FRACTION_SPEC: HistogramSpec = { unit: 'ppm', lowest: 0, highest: 1_010_000, binCount: 101 };
/** 0.5 per patient-year bins up to 100 a year; more is overflow. */
const RATE_SPEC: HistogramSpec = {
  unit: 'milli per patient-year',
  lowest: 0,
  highest: 100_000,
  binCount: 200,
};
/** 1 % bins up to 200 % of the hard maximum. */
const DOSE_SPEC: HistogramSpec = {
  unit: 'basis points',
  lowest: 0,
  highest: 20_000,
  binCount: 200,
};
/** 0.1 % bins over ±20 %. */
const MOTOR_SPEC: HistogramSpec = {
  unit: 'ppm',
  lowest: -200_000,
  highest: 200_000,
  binCount: 400,
};

/** 1 % bins of the capacity (and a little over, so a full reservoir is in the last bin). */
function reservoirSpec(capacityNl: number): HistogramSpec {
  return { unit: 'nL', lowest: 0, highest: capacityNl + 1, binCount: 100 };
}

export function createAggregate(spec: FleetSpec): FleetAggregate {
  const points = <T>(make: () => T) => Array.from({ length: spec.bandPoints }, make);
  return {
    format: FLEET_FORMAT,
    spec,
    coverage: [],
    totals: {
      patients: 0,
      simulatedMs: 0,
      controllerEvents: 0,
      pressesRequested: 0,
      patientsWithPresses: 0,
      deniedByReason: record(denyReasons, () => 0),
      alarmsRaised: record(alarmCodes, () => 0),
      patientsWithAlarm: record(alarmCodes, () => 0),
      reachedLowReservoirAlarm: 0,
      reachedEmptyReservoirAlarm: 0,
      trueReservoirRanDry: 0,
    },
    sketches: {
      timeToLowReservoirAlarm: createSketch(timeSpec(spec.durationMs)),
      timeToEmptyReservoirAlarm: createSketch(timeSpec(spec.durationMs)),
      timeToTrueEmpty: createSketch(timeSpec(spec.durationMs)),
      deniedFraction: record(['any', ...denyReasons] as const, () => createSketch(FRACTION_SPEC)),
      alarmRate: record(alarmCodes, () => createSketch(RATE_SPEC)),
      highest24hDoseOfHardMax: record(
        spec.drugs.map((d) => d.drug),
        () => createSketch(DOSE_SPEC),
      ),
      strokeVolumeError: createSketch(MOTOR_SPEC),
    },
    worst: [],
    bands: {
      reservoirNl: points(() => createSketch(reservoirSpec(spec.reservoirCapacityNl))),
      dailyDoseOfHardMax: record(
        spec.drugs.map((d) => d.drug),
        () => points(() => createSketch(DOSE_SPEC)),
      ),
    },
    perPatient: record(distributionKeys(spec), () => []),
  };
}

/** Inserts [from, to) into sorted, joined ranges; throws if it overlaps one. */
function addCoverage(coverage: [number, number][], from: number, to: number): [number, number][] {
  if (to <= from) return coverage;
  const all = [...coverage, [from, to] as [number, number]].sort((a, b) => a[0] - b[0]);
  const joined: [number, number][] = [];
  for (const [a, b] of all) {
    const last = joined[joined.length - 1];
    if (last && a < last[1])
      throw new AnalysisInputError(
        'mismatch',
        'coverage',
        `patients ${a} to ${Math.min(b, last[1]) - 1} are counted twice`,
      );
    if (last && a === last[1]) last[1] = b;
    else joined.push([a, b]);
  }
  return joined;
}

function byBasisPoints(a: WorstPatient, b: WorstPatient): number {
  return (
    b.basisPoints - a.basisPoints ||
    a.index - b.index ||
    (a.drug < b.drug ? -1 : a.drug > b.drug ? 1 : 0)
  );
}

/**
 * What the distributions take of one patient, in their integer units; patients.csv has the same
 * numbers, so a row is exactly what the patient added to the fleet's statistics.
 */
export interface PatientFigures {
  /** ppm of the patient's presses denied, in all and per reason; null for a patient who never pressed. */
  deniedPpm: Record<'any' | DenyReason, number> | null;
  /** Alarms raised per patient-year, in thousandths, per code; null for a run of no time. */
  alarmRateMilliPerYear: Record<AlarmCode, number> | null;
  /** Per drug of the spec, its highest 24-h dose as basis points of its hard daily maximum. */
  highest24hBasisPoints: number[];
}

export function patientFigures(spec: FleetSpec, outcome: PatientOutcome): PatientFigures {
  const denied = denyReasons.reduce((n, reason) => n + outcome.deniedByReason[reason], 0);
  const ppm = (n: number) => Math.round((n * 1_000_000) / outcome.pressesRequested);
  return {
    deniedPpm:
      outcome.pressesRequested > 0
        ? { any: ppm(denied), ...record(denyReasons, (r) => ppm(outcome.deniedByReason[r])) }
        : null,
    alarmRateMilliPerYear:
      outcome.simulatedMs > 0
        ? record(alarmCodes, (code) =>
            Math.round((outcome.alarmsRaised[code] * 1_000 * YEAR_MS) / outcome.simulatedMs),
          )
        : null,
    highest24hBasisPoints: spec.drugs.map((d, k) =>
      basisPointsOf(outcome.highest24hPg[k] ?? 0, d.dailyDoseNgHardMax),
    ),
  };
}

/** Folds one patient into the aggregate, in place. */
export function recordPatient(aggregate: FleetAggregate, outcome: PatientOutcome): void {
  const { spec, totals } = aggregate;
  const see = (key: string, value: number) => observe(aggregate, key, value);
  aggregate.coverage = addCoverage(aggregate.coverage, outcome.index, outcome.index + 1);
  totals.patients++;
  totals.simulatedMs += outcome.simulatedMs;
  totals.controllerEvents += outcome.controllerEvents;
  totals.pressesRequested += outcome.pressesRequested;
  see('strokeVolumeError', outcome.strokeVolumeErrorPpm);

  if (outcome.firstLowReservoirAlarmMs !== null) {
    totals.reachedLowReservoirAlarm++;
    see('timeToLowReservoirAlarm', outcome.firstLowReservoirAlarmMs);
  }
  if (outcome.firstEmptyReservoirAlarmMs !== null) {
    totals.reachedEmptyReservoirAlarm++;
    see('timeToEmptyReservoirAlarm', outcome.firstEmptyReservoirAlarmMs);
  }
  if (outcome.trueReservoirDryAtMs !== null) {
    totals.trueReservoirRanDry++;
    see('timeToTrueEmpty', outcome.trueReservoirDryAtMs);
  }

  const figures = patientFigures(spec, outcome);
  for (const reason of denyReasons) totals.deniedByReason[reason] += outcome.deniedByReason[reason];
  if (figures.deniedPpm !== null) {
    totals.patientsWithPresses++;
    see('deniedFraction.any', figures.deniedPpm.any);
    for (const reason of denyReasons) see(`deniedFraction.${reason}`, figures.deniedPpm[reason]);
  }

  for (const code of alarmCodes) {
    const raised = outcome.alarmsRaised[code];
    totals.alarmsRaised[code] += raised;
    if (raised > 0) totals.patientsWithAlarm[code]++;
    if (figures.alarmRateMilliPerYear !== null)
      see(`alarmRate.${code}`, figures.alarmRateMilliPerYear[code]);
  }

  spec.drugs.forEach((d, k) => {
    const basisPoints = figures.highest24hBasisPoints[k]!;
    see(`highest24hDoseOfHardMax.${d.drug}`, basisPoints);
    aggregate.worst.push({ index: outcome.index, seed: outcome.seed, drug: d.drug, basisPoints });
  });
  aggregate.worst = keepWorst(aggregate.worst);

  const { bands } = aggregate;
  outcome.series.reservoirNl.forEach((nl, k) => {
    if (k < spec.bandPoints) recordObservation(bands.reservoirNl[k]!, nl);
  });
  spec.drugs.forEach((d, j) => {
    const sketches = bands.dailyDoseOfHardMax[d.drug]!;
    (outcome.series.dailyDosePg[j] ?? []).forEach((pg, k) => {
      if (k < spec.bandPoints)
        recordObservation(sketches[k]!, basisPointsOf(pg, d.dailyDoseNgHardMax));
    });
  });
}

/** A dose in pg as basis points (1/10,000) of a limit in ng. */
const basisPointsOf = (pg: number, limitNg: number) =>
  Math.round((pg * 10_000) / (limitNg * PG_PER_NG));

/** The highest entries, one per patient (its worst drug). */
function keepWorst(entries: readonly WorstPatient[]): WorstPatient[] {
  const seen = new Set<number>();
  const kept: WorstPatient[] = [];
  for (const entry of [...entries].sort(byBasisPoints)) {
    if (seen.has(entry.index)) continue;
    seen.add(entry.index);
    kept.push(entry);
    if (kept.length === WORST_PATIENTS_KEPT) break;
  }
  return kept;
}

/** The first field in which two fleets' specs differ, or undefined when they are one fleet's. */
export function specDifference(a: FleetSpec, b: FleetSpec): string | undefined {
  for (const key of Object.keys(a) as (keyof FleetSpec)[]) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key]))
      return `spec.${key} differs: ${JSON.stringify(a[key])} and ${JSON.stringify(b[key])}`;
  }
  return undefined;
}

const sumRecord = <K extends string>(
  a: Record<K, number>,
  b: Record<K, number>,
): Record<K, number> =>
  Object.fromEntries(Object.keys(a).map((k) => [k, a[k as K] + b[k as K]])) as Record<K, number>;
const mergeRecord = <K extends string>(
  a: Record<K, HistogramSketch>,
  b: Record<K, HistogramSketch>,
): Record<K, HistogramSketch> =>
  Object.fromEntries(Object.keys(a).map((k) => [k, mergeSketches(a[k as K], b[k as K])])) as Record<
    K,
    HistogramSketch
  >;

/** The aggregate of both inputs' patients: exactly what one run over all of them gives. */
export function mergeAggregates(a: FleetAggregate, b: FleetAggregate): FleetAggregate {
  const difference = specDifference(a.spec, b.spec);
  if (difference !== undefined)
    throw new AnalysisInputError('mismatch', 'spec', `cannot merge fleets: ${difference}`);
  let coverage = a.coverage.map(([x, y]) => [x, y] as [number, number]);
  for (const [from, to] of b.coverage) coverage = addCoverage(coverage, from, to);
  const t = a.totals;
  const u = b.totals;
  return {
    format: FLEET_FORMAT,
    spec: a.spec,
    coverage,
    totals: {
      patients: t.patients + u.patients,
      simulatedMs: t.simulatedMs + u.simulatedMs,
      controllerEvents: t.controllerEvents + u.controllerEvents,
      pressesRequested: t.pressesRequested + u.pressesRequested,
      patientsWithPresses: t.patientsWithPresses + u.patientsWithPresses,
      deniedByReason: sumRecord(t.deniedByReason, u.deniedByReason),
      alarmsRaised: sumRecord(t.alarmsRaised, u.alarmsRaised),
      patientsWithAlarm: sumRecord(t.patientsWithAlarm, u.patientsWithAlarm),
      reachedLowReservoirAlarm: t.reachedLowReservoirAlarm + u.reachedLowReservoirAlarm,
      reachedEmptyReservoirAlarm: t.reachedEmptyReservoirAlarm + u.reachedEmptyReservoirAlarm,
      trueReservoirRanDry: t.trueReservoirRanDry + u.trueReservoirRanDry,
    },
    sketches: {
      timeToLowReservoirAlarm: mergeSketches(
        a.sketches.timeToLowReservoirAlarm,
        b.sketches.timeToLowReservoirAlarm,
      ),
      timeToEmptyReservoirAlarm: mergeSketches(
        a.sketches.timeToEmptyReservoirAlarm,
        b.sketches.timeToEmptyReservoirAlarm,
      ),
      timeToTrueEmpty: mergeSketches(a.sketches.timeToTrueEmpty, b.sketches.timeToTrueEmpty),
      deniedFraction: mergeRecord(a.sketches.deniedFraction, b.sketches.deniedFraction),
      alarmRate: mergeRecord(a.sketches.alarmRate, b.sketches.alarmRate),
      highest24hDoseOfHardMax: mergeRecord(
        a.sketches.highest24hDoseOfHardMax,
        b.sketches.highest24hDoseOfHardMax,
      ),
      strokeVolumeError: mergeSketches(a.sketches.strokeVolumeError, b.sketches.strokeVolumeError),
    },
    worst: keepWorst([...a.worst, ...b.worst]),
    bands: {
      reservoirNl: a.bands.reservoirNl.map((x, k) => mergeSketches(x, b.bands.reservoirNl[k]!)),
      dailyDoseOfHardMax: Object.fromEntries(
        Object.entries(a.bands.dailyDoseOfHardMax).map(([drug, xs]) => [
          drug,
          xs.map((x, k) => mergeSketches(x, b.bands.dailyDoseOfHardMax[drug]![k]!)),
        ]),
      ),
    },
    perPatient: Object.fromEntries(
      distributionKeys(a.spec).map((key) => [
        key,
        mergeValues(a.perPatient[key], b.perPatient[key]),
      ]),
    ),
  };
}

/** Patients of the fleet not covered yet, as ranges (empty when the fleet is complete). */
export function missingPatients(aggregate: FleetAggregate): [number, number][] {
  const missing: [number, number][] = [];
  let next = 0;
  for (const [from, to] of aggregate.coverage) {
    if (from > next) missing.push([next, from]);
    next = to;
  }
  if (next < aggregate.spec.patients) missing.push([next, aggregate.spec.patients]);
  return missing;
}

/**
 * The fleet aggregate takes constant memory whatever N, merges exactly in any grouping, and the
 * shards of a fleet partition its patients. Synthetic outcomes: no simulation needed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alarmCodes } from '../../src/alarms.js';
import { denyReasons } from '../../src/pump/types.js';
import { DAY_MS } from '../../src/units.js';
import {
  bandPointsOf,
  createAggregate,
  distributionKeys,
  EXACT_VALUES_MAX,
  mergeAggregates,
  missingPatients,
  recordPatient,
  sketchOf,
  type FleetAggregate,
  type FleetSpec,
} from '../../sim/fleet/aggregate.js';
import { fleetHeadline } from '../../sim/fleet/headline.js';
import { fleetJson, parseFleetJson, type Statistics } from '../../sim/fleet/output.js';
import type { PatientOutcome } from '../../sim/fleet/patient.js';
import { createProgress } from '../../sim/fleet/progress.js';
import { parseShard, shardRange } from '../../sim/fleet/runFleet.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 100 * Number(process.env.FC_RUNS_FACTOR ?? 1));

const SPEC: FleetSpec = {
  scenario: 'synthetic',
  scenarioDigest: '0',
  baseSeed: 1000,
  patients: 100_000,
  durationMs: 365 * DAY_MS,
  sampleEveryMs: 3_600_000,
  variation: {
    motorErrorSdPpm: 25_000,
    stallsPerYear: 0.1,
    stallDurationMs: 7_200_000,
    clinicResponseMs: 86_400_000,
  },
  drugs: [
    { drug: 'morphine', dailyDoseNgHardMax: 20_000_000 },
    { drug: 'clonidine', dailyDoseNgHardMax: 1_000_000 },
  ],
  reservoirCapacityNl: 20_000_000,
  // Monthly points keep 20,000 synthetic patients fast; a real fleet has up to BAND_POINTS_MAX.
  ...bandPointsOf(365 * DAY_MS, 30 * DAY_MS),
};

/** A deterministic, varied outcome for patient i (a cheap hash, no simulation). */
function outcome(index: number): PatientOutcome {
  const h = (k: number) => Math.imul(index + 1, 2_654_435_761 + k * 40_503) >>> 0;
  const presses = h(1) % 40;
  const denied = Object.fromEntries(
    denyReasons.map((r, k) => [
      r,
      k === 4 ? Math.floor(presses / 3) : k === 5 ? Math.floor(presses / 9) : 0,
    ]),
  ) as PatientOutcome['deniedByReason'];
  const alarms = Object.fromEntries(
    alarmCodes.map((c, k) => [c, k < 3 ? h(k + 2) % 3 : 0]),
  ) as PatientOutcome['alarmsRaised'];
  return {
    index,
    seed: SPEC.baseSeed + index,
    simulatedMs: SPEC.durationMs,
    controllerEvents: 2_000 + (h(6) % 500),
    strokeVolumeErrorPpm: (h(7) % 100_000) - 50_000,
    stalls: h(8) % 2,
    firstLowReservoirAlarmMs: h(9) % 4 === 0 ? null : h(10) % SPEC.durationMs,
    firstEmptyReservoirAlarmMs: h(11) % 3 === 0 ? h(12) % SPEC.durationMs : null,
    trueReservoirDryAtMs: null,
    pressesRequested: presses,
    deniedByReason: denied,
    alarmsRaised: alarms,
    highest24hPg: [h(13) % 30_000_000_000, h(14) % 900_000_000],
    series: {
      reservoirNl: range(0, SPEC.bandPoints).map((k) =>
        Math.max(0, 20_000_000 - k * (h(15) % 200_000)),
      ),
      dailyDosePg: [
        range(0, SPEC.bandPoints).map((k) => (h(16 + k) % 2_000_000_000) + 1),
        range(0, SPEC.bandPoints).map((k) => h(17 + k) % 60_000_000),
      ],
    },
  };
}

function fleetOf(indices: Iterable<number>): FleetAggregate {
  const aggregate = createAggregate(SPEC);
  for (const i of indices) recordPatient(aggregate, outcome(i));
  return aggregate;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
/**
 * The aggregate's JSON without its per-patient values, every number and string value blanked: its
 * shape, which is what costs memory.
 */
const shape = ({ perPatient: _values, ...a }: FleetAggregate) =>
  JSON.stringify(a, (_key, value: unknown) =>
    typeof value === 'number' ? 0 : typeof value === 'string' ? '' : value,
  );

describe('fleet aggregate', () => {
  it('has sketches of the same size for 10 patients and for 20,000, and one value per patient', () => {
    const small = fleetOf(range(0, 10));
    const large = fleetOf(range(0, 20_000));
    expect(large.totals.patients).toBe(20_000);
    expect(shape(large) === shape(small)).toBe(true); // (a diff of two 40 KB strings would drown the report)
    expect(large.worst).toHaveLength(10);
    expect(large.coverage).toEqual([[0, 20_000]]);
    // The values kept: one per patient a distribution is over, as many as its sketch counts.
    for (const key of distributionKeys(SPEC))
      expect(large.perPatient[key], key).toHaveLength(sketchOf(large.sketches, key).count);
    const kept = Object.values(large.perPatient).reduce((n, v) => n + v!.length, 0);
    expect(kept).toBeLessThanOrEqual(20_000 * distributionKeys(SPEC).length);
  });

  it('merges shards into exactly the aggregate of one run, in any grouping and order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 199 }), { maxLength: 6 }),
        fc.boolean(),
        (cuts, reverse) => {
          const edges = [0, ...[...cuts].sort((a, b) => a - b), 200];
          const shards = edges.slice(1).map((to, k) => fleetOf(range(edges[k]!, to)));
          const ordered = reverse ? [...shards].reverse() : shards;
          const merged = ordered.reduce((a, b) => mergeAggregates(a, b));
          expect(fleetJson(merged)).toBe(fleetJson(fleetOf(range(0, 200))));
        },
      ),
      { seed, numRuns: Math.min(numRuns, 30) },
    );
  });

  it('records patients in any order with the same result', () => {
    const forwards = fleetOf(range(0, 300));
    const shuffled = fleetOf(
      range(0, 300).sort((a, b) => ((a * 7_919) % 300) - ((b * 7_919) % 300)),
    );
    expect(fleetJson(shuffled)).toBe(fleetJson(forwards));
  });

  it('says which patients are missing', () => {
    const partial = mergeAggregates(fleetOf(range(0, 10)), fleetOf(range(20, 30)));
    expect(partial.coverage).toEqual([
      [0, 10],
      [20, 30],
    ]);
    expect(missingPatients(partial)).toEqual([
      [10, 20],
      [30, SPEC.patients],
    ]);
    expect(JSON.parse(fleetJson(partial))).toMatchObject({
      complete: false,
      missing: [
        [10, 20],
        [30, SPEC.patients],
      ],
    });
  });
});

/**
 * A known fleet of 200 patients, a year each: 3 of them had one motor-stall alarm, the others none;
 * 20 had a highest 24-h morphine dose of 137·k + 3 basis points (k = 1 … 20), the others none.
 */
function knownOutcome(index: number): PatientOutcome {
  const base = outcome(index);
  const k = index - 179; // patients 180 … 199
  return {
    ...base,
    simulatedMs: 365 * DAY_MS,
    alarmsRaised: { ...base.alarmsRaised, motorStall: [17, 93, 150].includes(index) ? 1 : 0 },
    // 20 mg/day hard maximum: one basis point is 2,000 ng = 2,000,000 pg.
    highest24hPg: [k >= 1 ? (137 * k + 3) * 2_000_000 : 0, 0],
  };
}

const knownFleet = (from: number, to: number) => {
  const a = createAggregate(SPEC);
  for (const i of range(from, to)) recordPatient(a, knownOutcome(i));
  return a;
};

type Distributions = Record<string, Statistics>;
const statisticsOf = (a: FleetAggregate): Distributions =>
  (JSON.parse(fleetJson(a)) as { statistics: { distributions: Distributions } }).statistics
    .distributions;

describe('exact fleet statistics', () => {
  const check = (d: Distributions) => {
    // Reached the situation: 3 of 200 stalled, 20 of 200 had a morphine dose.
    expect(d['alarmRate.motorStall']!.count).toBe(200);
    expect(d['alarmRate.motorStall']).toMatchObject({
      quantiles: 'exact',
      median: 0,
      p95: 0,
      max: 1,
      mean: 0.015,
    });
    // p95 is the 190th of 200: the 10th dose, 137·10 + 3 = 1,373 bp = 13.73 % (a bin estimate says 14).
    const sum = range(1, 21).reduce((n, k) => n + 137 * k + 3, 0);
    expect(d['highest24hDoseOfHardMax.morphine']).toMatchObject({
      quantiles: 'exact',
      p05: 0,
      median: 0,
      p95: 13.73,
      min: 0,
      max: 27.43,
      mean: Number((sum / 200 / 100).toPrecision(6)),
    });
  };

  it('are the nearest-rank percentiles and the mean of a known distribution, in one process', () => {
    check(statisticsOf(knownFleet(0, 200)));
  });

  it('are the same from shards merged through their fleet.json', () => {
    const shards = [
      [134, 200],
      [0, 67],
      [67, 134],
    ].map(([from, to]) => parseFleetJson(fleetJson(knownFleet(from!, to!)), `shard-${from}`));
    const merged = shards.reduce((a, b) => mergeAggregates(a, b));
    check(statisticsOf(merged));
    expect(fleetJson(merged)).toBe(fleetJson(knownFleet(0, 200)));
  });

  it('are what the headline table shows', () => {
    const lines = fleetHeadline(knownFleet(0, 200)).split('\n');
    expect(lines.find((l) => l.startsWith('motorStall alarms'))).toMatch(
      /^motorStall alarms\s+0\.00\s+0\.00\s+1\.00\s+per patient-year\s+3 of 200 had one$/,
    );
    expect(lines.find((l) => l.startsWith('highest 24-h dose of morphine'))).toMatch(
      /^highest 24-h dose of morphine\s+0\.00\s+13\.73\s+27\.43\s/,
    );
    expect(lines).toContain(
      "median, p95 and max are exact: nearest-rank percentiles of the patients' own values",
    );
  });

  it(`keeps at most ${EXACT_VALUES_MAX} values per distribution, then falls back to the sketch, in a merge as in one run`, () => {
    const key = 'strokeVolumeError';
    const full = knownFleet(0, 10);
    full.perPatient[key] = Array<number>(EXACT_VALUES_MAX).fill(0);
    // Reached the situation: the distribution holds the limit's worth of values.
    expect(full.perPatient[key]).toHaveLength(EXACT_VALUES_MAX);
    recordPatient(full, knownOutcome(10));
    expect(full.perPatient[key]).toBeNull();
    expect(full.perPatient['alarmRate.motorStall']).toHaveLength(11);
    expect(statisticsOf(full)[key]!.quantiles).toBe('within one bin');

    const a = knownFleet(0, 10);
    const b = knownFleet(10, 21);
    a.perPatient[key] = Array<number>(EXACT_VALUES_MAX - 10).fill(0);
    expect(b.perPatient[key]).toHaveLength(11);
    expect(mergeAggregates(a, b).perPatient[key]).toBeNull(); // one too many...
    b.perPatient[key] = b.perPatient[key]!.slice(0, 10);
    expect(mergeAggregates(a, b).perPatient[key]).toHaveLength(EXACT_VALUES_MAX); // ...the limit is kept
  });

  it('refuses a fleet.json of the older format by name, and values that do not fit the sketch', () => {
    const text = fleetJson(knownFleet(0, 20));
    expect(() =>
      parseFleetJson(text.replace('"itpump-fleet/4"', '"itpump-fleet/3"'), 'old/fleet.json'),
    ).toThrow(
      /^old\/fleet\.json: format itpump-fleet\/3 is not itpump-fleet\/4: .*run that fleet or shard again with this version$/,
    );
    const json = JSON.parse(text) as { perPatient: Record<string, { counts: number[] }> };
    json.perPatient['alarmRate.motorStall']!.counts[0]! += 1;
    expect(() => parseFleetJson(JSON.stringify(json), 'f.json')).toThrow(
      /perPatient\.alarmRate\.motorStall.*does not fit its sketch: 21 patients/,
    );
  });
});

describe('shards', () => {
  it('partition the patients into contiguous ranges that differ in size by at most one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 64 }),
        (patients, count) => {
          const ranges = Array.from({ length: count }, (_, index) =>
            shardRange(patients, { index, count }),
          );
          expect(ranges[0]![0]).toBe(0);
          expect(ranges[count - 1]![1]).toBe(patients);
          ranges.forEach(([from, to], k) => {
            if (k > 0) expect(from).toBe(ranges[k - 1]![1]);
            expect(to - from).toBeGreaterThanOrEqual(Math.floor(patients / count));
            expect(to - from).toBeLessThanOrEqual(Math.ceil(patients / count));
          });
        },
      ),
      { seed, numRuns },
    );
  });

  it('are named I/M with a 0-based I, as JOB_COMPLETION_INDEX', () => {
    expect(parseShard('0/4')).toEqual({ index: 0, count: 4 });
    expect(parseShard(' 3 / 4 ')).toEqual({ index: 3, count: 4 });
    for (const bad of ['4/4', '1', '-1/4', 'a/b', '1/0'])
      expect(() => parseShard(bad)).toThrow(/--shard/);
  });
});

describe('progress', () => {
  it('writes a plain line at each tenth when stderr is not a terminal, with an ETA', () => {
    const lines: string[] = [];
    const stream = {
      isTTY: false,
      write: (s: string) => lines.push(s),
    } as unknown as NodeJS.WriteStream;
    const progress = createProgress('fleet', stream);
    for (let done = 1; done <= 50; done++) progress.update(done, 50);
    progress.stop();
    expect(lines).toHaveLength(10);
    expect(lines[0]).toMatch(/^fleet: 5\/50 patients \(10 %\), \d+s elapsed, ETA \d+s\n$/);
    expect(lines[9]).toMatch(/^fleet: 50\/50 patients \(100 %\)/);
  });
});

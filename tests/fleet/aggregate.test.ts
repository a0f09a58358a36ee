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
  mergeAggregates,
  missingPatients,
  recordPatient,
  type FleetAggregate,
  type FleetSpec,
} from '../../sim/fleet/aggregate.js';
import { fleetJson } from '../../sim/fleet/output.js';
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
/** The aggregate's JSON with every number and string value blanked: its shape, which is what costs memory. */
const shape = (a: FleetAggregate) =>
  JSON.stringify(a, (_key, value: unknown) =>
    typeof value === 'number' ? 0 : typeof value === 'string' ? '' : value,
  );

describe('fleet aggregate', () => {
  it('has the same size for 10 patients and for 20,000', () => {
    const small = fleetOf(range(0, 10));
    const large = fleetOf(range(0, 20_000));
    expect(large.totals.patients).toBe(20_000);
    expect(shape(large) === shape(small)).toBe(true); // (a diff of two 40 KB strings would drown the report)
    // Byte size differs only by the digits of the counts, not by anything per patient.
    expect(JSON.stringify(large).length).toBeLessThan(JSON.stringify(small).length * 1.5);
    expect(large.worst).toHaveLength(10);
    expect(large.coverage).toEqual([[0, 20_000]]);
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

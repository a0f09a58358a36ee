/**
 * The programme's two drug-path features in src/dosing/delivery.ts, and the bridge's schedule
 * arithmetic in src/dosing/bridge.ts: a priming bolus replaces the basal rate; a bridge overrides
 * the basal schedule until its end; `scheduleReachesMs` finds exactly when a schedule has
 * programmed a volume. Hand-computed cases, then a property over random flex schedules.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FINE_PER_NL,
  programmedFine,
  rateAt,
  startBolus,
  startBolusAtRate,
  type Programme,
} from '../../src/dosing/delivery.js';
import { scheduleDailyFine, scheduleFine, scheduleReachesMs } from '../../src/dosing/bridge.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/units.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 300 * Number(process.env.FC_RUNS_FACTOR ?? 1));

const basal: Programme = {
  mode: 'basal',
  steps: { startsMs: [0], ratesNlPerDay: [500_000] },
  minimumRateNlPerDay: 48_000,
  bolus: undefined,
  rtcOffsetMs: 0,
};

describe('a priming bolus replaces the basal rate', () => {
  // 260 000 nL at 12 mL/day: ⌈260 000 × 86 400 000 / 12 000 000⌉ = 1 872 000 ms.
  const prime = startBolusAtRate('priming', HOUR_MS, 260_000, 12_000_000);

  it('runs at its own rate only, from its start to its end', () => {
    expect(prime).toEqual({
      kind: 'priming',
      startMs: HOUR_MS,
      volumeNl: 260_000,
      rateNlPerDay: 12_000_000,
      endMs: HOUR_MS + 1_872_000,
    });
    const p = { ...basal, bolus: prime };
    expect(rateAt(p, 0)).toEqual({ rateNlPerDay: 500_000, untilMs: HOUR_MS });
    expect(rateAt(p, HOUR_MS)).toEqual({ rateNlPerDay: 12_000_000, untilMs: HOUR_MS + 1_872_000 });
    expect(rateAt(p, HOUR_MS + 1_872_000).rateNlPerDay).toBe(500_000);
  });

  it('programs the basal around it and exactly its volume inside it', () => {
    const p = { ...basal, bolus: prime };
    // Two hours: one hour of basal before, the prime, the rest of the second hour after it.
    const basalMs = 2 * HOUR_MS - 1_872_000;
    expect(programmedFine(p, 0, 2 * HOUR_MS)).toBe(500_000 * basalMs + 260_000 * FINE_PER_NL);
    // A patient bolus, by contrast, adds on top.
    const patient = startBolus('patient', HOUR_MS, 50_000, 10 * MINUTE_MS);
    expect(programmedFine({ ...basal, bolus: patient }, 0, 2 * HOUR_MS)).toBe(
      500_000 * 2 * HOUR_MS + 50_000 * FINE_PER_NL,
    );
  });
});

describe('a bridge overrides the basal schedule until its end', () => {
  const p: Programme = {
    ...basal,
    steps: {
      startsMs: [0],
      ratesNlPerDay: [250_000],
      override: { steps: { startsMs: [0], ratesNlPerDay: [500_000] }, untilMs: 10 * HOUR_MS },
    },
  };

  it('runs the old rate before the end and the new one after', () => {
    expect(rateAt(p, 0)).toEqual({ rateNlPerDay: 500_000, untilMs: 10 * HOUR_MS });
    expect(rateAt(p, 10 * HOUR_MS)).toEqual({
      rateNlPerDay: 250_000,
      untilMs: Number.POSITIVE_INFINITY,
    });
    expect(programmedFine(p, 8 * HOUR_MS, 12 * HOUR_MS)).toBe(
      500_000 * 2 * HOUR_MS + 250_000 * 2 * HOUR_MS,
    );
  });

  it('adds a patient bolus on top of the old rate', () => {
    const b = startBolus('patient', HOUR_MS, 25_000, 10 * MINUTE_MS);
    expect(rateAt({ ...p, bolus: b }, HOUR_MS).rateNlPerDay).toBe(500_000 + b.rateNlPerDay);
  });
});

describe('scheduleReachesMs', () => {
  it('finds when a continuous schedule has pushed a catheter: 260 000 nL at 500 000 nL/day in 44 928 000 ms', () => {
    const steps = { startsMs: [0], ratesNlPerDay: [500_000] };
    expect(scheduleReachesMs(steps, 0, 1_000, 260_000 * FINE_PER_NL)).toBe(1_000 + 44_928_000);
    expect(scheduleReachesMs(steps, 0, 1_000, 0)).toBe(1_000);
    expect(scheduleReachesMs({ startsMs: [0], ratesNlPerDay: [0] }, 0, 0, 1)).toBeUndefined();
  });

  it('walks a flex schedule across its steps and days', () => {
    // 0.2 mL/day from 00:00, 1 mL/day from 06:00: a day programs 0.05 + 0.75 = 0.8 mL.
    const steps = { startsMs: [0, 6 * HOUR_MS], ratesNlPerDay: [200_000, 1_000_000] };
    expect(scheduleDailyFine(steps)).toBe(800_000 * FINE_PER_NL);
    // From 00:00, 100 000 nL: 50 000 nL by 06:00, then 50 000 nL at 1 mL/day = 1.2 h.
    expect(scheduleReachesMs(steps, 0, 0, 100_000 * FINE_PER_NL)).toBe(6 * HOUR_MS + 1.2 * HOUR_MS);
    // 900 000 nL: one whole day (800 000), then 100 000 nL as above.
    expect(scheduleReachesMs(steps, 0, 0, 900_000 * FINE_PER_NL)).toBe(DAY_MS + 7.2 * HOUR_MS);
    // The same from a clock 6 h ahead: it starts on the 1 mL/day step. 100 000 nL in 2.4 h.
    expect(scheduleReachesMs(steps, 6 * HOUR_MS, 0, 100_000 * FINE_PER_NL)).toBe(2.4 * HOUR_MS);
  });

  it('is the first ms by which the schedule has programmed the volume (property)', () => {
    const schedule = fc
      .uniqueArray(fc.integer({ min: 1, max: 24 * 60 - 1 }), { maxLength: 6 })
      .chain((starts) =>
        fc.tuple(
          ...[0, ...starts.sort((a, b) => a - b)].map((m) =>
            fc.tuple(fc.constant(m * MINUTE_MS), fc.integer({ min: 0, max: 2_000_000 })),
          ),
        ),
      )
      .filter((s) => s.some(([, r]) => r > 0))
      .map((s) => ({ startsMs: s.map(([t]) => t), ratesNlPerDay: s.map(([, r]) => r) }));
    fc.assert(
      fc.property(
        schedule,
        fc.integer({ min: -DAY_MS, max: DAY_MS }),
        fc.integer({ min: 0, max: 10 * DAY_MS }),
        fc.integer({ min: 1, max: 2_000_000 }),
        (steps, offset, from, volumeNl) => {
          const fine = volumeNl * FINE_PER_NL;
          const t = scheduleReachesMs(steps, offset, from, fine)!;
          expect(scheduleFine(steps, offset, from, t)).toBeGreaterThanOrEqual(fine);
          expect(scheduleFine(steps, offset, from, t - 1)).toBeLessThan(fine);
        },
      ),
      { seed, numRuns },
    );
  });
});

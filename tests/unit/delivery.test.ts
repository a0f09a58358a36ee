/**
 * The stroke planner and the programmed-volume accounting (src/dosing/delivery.ts).
 * Method: hand-computed cases, then a property that replays planned batches against the exact
 * programmed volume and checks REQ-DOS-1 (delivered within one stroke of programmed) at every
 * stroke and between strokes. The preconditions the module asserts (our bugs) are called with the
 * input they forbid, and the batch-length bound is checked at its exact value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionFailure } from '../../src/assert.js';
import { strokesPerBatchMax } from '../../src/constants.js';
import {
  FINE_PER_NL,
  bolusFineAt,
  planBatch,
  programmedFine,
  rateAt,
  startBolus,
  startBolusAtRate,
  strokeTimeMs,
  strokesBy,
  type Programme,
} from '../../src/dosing/delivery.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/units.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 200 * Number(process.env.FC_RUNS_FACTOR ?? 1));

describe('planBatch', () => {
  it('spaces 500 nL strokes of a 0.5 mL/day basal every 86.4 s, the first after one full stroke', () => {
    // 0.5 mL/day = 500,000 nL/day; a 500 nL stroke is due every DAY_MS / 1000 = 86,400 ms.
    const plan = planBatch({
      nowMs: 0,
      owedFine: 0,
      strokeVolumeNl: 500,
      rateNlPerDay: 500_000,
      horizonMs: HOUR_MS,
      strokesMax: 1e9,
    });
    expect(plan).toEqual({ count: 41, leadMs: 86_400, intervalMs: 86_400, rateNlPerDay: 500_000 });
    // 41 strokes: the 41st at 3,542,400 ms < 1 h; the 42nd would be at 3,628,800 ms > 1 h.
  });

  it('starts sooner when part of a stroke is already owed', () => {
    const plan = planBatch({
      nowMs: 1000,
      owedFine: 250 * FINE_PER_NL,
      strokeVolumeNl: 500,
      rateNlPerDay: 500_000,
      horizonMs: 1000 + DAY_MS,
      strokesMax: 1e9,
    });
    expect(plan?.leadMs).toBe(43_200);
  });

  it('plans nothing when the rate is zero, the reservoir allows no stroke, or the horizon is now', () => {
    const base = {
      nowMs: 0,
      owedFine: 0,
      strokeVolumeNl: 500,
      rateNlPerDay: 500_000,
      horizonMs: DAY_MS,
      strokesMax: 10,
    };
    expect(planBatch({ ...base, rateNlPerDay: 0 })).toBeUndefined();
    expect(planBatch({ ...base, strokesMax: 0 })).toBeUndefined();
    expect(planBatch({ ...base, horizonMs: 0 })).toBeUndefined();
    expect(planBatch(base)?.count).toBe(10);
  });

  it('never plans a stroke at or after the horizon', () => {
    // Stroke k is due at k × 86,400 ms; with the horizon exactly at stroke 3, only 2 strokes fit.
    const plan = planBatch({
      nowMs: 0,
      owedFine: 0,
      strokeVolumeNl: 500,
      rateNlPerDay: 500_000,
      horizonMs: 3 * 86_400,
      strokesMax: 1e9,
    });
    expect(plan?.count).toBe(2);
  });

  it('keeps delivered within one stroke of programmed at every moment (REQ-DOS-1)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5_000 }), // stroke nL
        fc.integer({ min: 1_000, max: 24_000_000 }), // rate nL/day
        fc.integer({ min: 1, max: 3 * DAY_MS }), // horizon span
        fc.integer({ min: 0, max: 1_000 }), // owed, per mille of a stroke
        (stroke, rate, span, owedPermille) => {
          const strokeFine = stroke * FINE_PER_NL;
          const owed = Math.floor((strokeFine * owedPermille) / 1000);
          const plan = planBatch({
            nowMs: 0,
            owedFine: owed,
            strokeVolumeNl: stroke,
            rateNlPerDay: rate,
            horizonMs: span,
            strokesMax: 1e9,
          });
          if (!plan) {
            expect(rate * (Math.min(span, DAY_MS) - 1) + owed).toBeLessThan(strokeFine); // batches span at most a day
            return;
          }
          const batch = { startMs: 0, ...plan };
          const checkAt = (t: number) => {
            const programmed = owed + rate * t; // fine units programmed since the plan, plus what was owed
            const delivered = strokesBy(batch, plan.count, t) * strokeFine;
            expect(delivered - programmed).toBeLessThan(strokeFine);
            if (t <= strokeTimeMs(batch, plan.count))
              expect(programmed - delivered).toBeLessThanOrEqual(strokeFine);
          };
          for (const j of [1, 2, Math.ceil(plan.count / 2), plan.count].filter(
            (k) => k <= plan.count,
          )) {
            const t = strokeTimeMs(batch, j);
            expect(t).toBeLessThan(span);
            checkAt(t);
            if (t > 0) checkAt(t - 1);
          }
        },
      ),
      { seed, numRuns },
    );
  });
});

describe('boluses', () => {
  it('programs exactly the bolus volume by its end, at an integer rate', () => {
    const b = startBolus('patient', 1000, 50_000, 10 * MINUTE_MS);
    expect(b.rateNlPerDay).toBe(7_200_000); // 50 µL in 10 min = 7.2 mL/day
    expect(b.endMs).toBe(1000 + 10 * MINUTE_MS);
    expect(bolusFineAt(b, 1000 + 5 * MINUTE_MS)).toBe(25_000 * FINE_PER_NL);
    expect(bolusFineAt(b, b.endMs + 1)).toBe(50_000 * FINE_PER_NL);
    expect(bolusFineAt(b, 0)).toBe(0);
  });

  it('ends no earlier than its duration and programs exactly its volume when the rate rounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: MINUTE_MS, max: DAY_MS }),
        (volume, duration) => {
          const b = startBolus('clinician', 0, volume, duration);
          expect(b.endMs).toBeGreaterThanOrEqual(duration);
          expect(bolusFineAt(b, b.endMs)).toBe(volume * FINE_PER_NL);
          expect(bolusFineAt(b, b.endMs - 1)).toBeLessThanOrEqual(volume * FINE_PER_NL);
        },
      ),
      { seed, numRuns },
    );
  });
});

describe('programmedFine', () => {
  const steps = {
    startsMs: [0, 8 * HOUR_MS, 20 * HOUR_MS],
    ratesNlPerDay: [240_000, 480_000, 240_000],
  };
  const flex: Programme = {
    mode: 'basal',
    steps,
    minimumRateNlPerDay: 48_000,
    bolus: undefined,
    rtcOffsetMs: 0,
  };

  it('integrates a flex schedule across step boundaries exactly', () => {
    // One day: 8 h at 0.24 + 12 h at 0.48 + 4 h at 0.24 mL/day = 0.08 + 0.24 + 0.04 = 0.36 mL.
    expect(programmedFine(flex, 0, DAY_MS)).toBe(360_000 * FINE_PER_NL);
    // From 07:00 to 09:00: 1 h at 0.24 and 1 h at 0.48 mL/day = 10,000 + 20,000 nL.
    expect(programmedFine(flex, 7 * HOUR_MS, 9 * HOUR_MS)).toBe(30_000 * FINE_PER_NL);
  });

  it('follows the real-time clock: an offset of +1 h moves the step boundary 1 h earlier', () => {
    const shifted = { ...flex, rtcOffsetMs: HOUR_MS };
    expect(programmedFine(shifted, 7 * HOUR_MS, 8 * HOUR_MS)).toBe(20_000 * FINE_PER_NL);
  });

  it('is additive over any split of an interval', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 * DAY_MS }),
        fc.integer({ min: 0, max: 2 * DAY_MS }),
        fc.integer({ min: -DAY_MS, max: DAY_MS }),
        (a, b, offset) => {
          const [from, to] = a <= b ? [a, b] : [b, a];
          const mid = from + Math.floor((to - from) / 3);
          const p = {
            ...flex,
            rtcOffsetMs: offset,
            bolus: startBolus('patient', from, 30_000, 20 * MINUTE_MS),
          };
          expect(programmedFine(p, from, mid) + programmedFine(p, mid, to)).toBe(
            programmedFine(p, from, to),
          );
        },
      ),
      { seed, numRuns },
    );
  });

  it('programs nothing when off and the minimum rate when at the safe minimum', () => {
    expect(programmedFine({ ...flex, mode: 'off' }, 0, DAY_MS)).toBe(0);
    expect(programmedFine({ ...flex, mode: 'minimum' }, 0, DAY_MS)).toBe(48_000 * FINE_PER_NL);
  });
});

describe('a motor ahead of the programme', () => {
  it('waits: with delivery three strokes ahead the first stroke comes when they are due', () => {
    const strokeFine = 500 * FINE_PER_NL;
    // 3 strokes ahead at 0.5 mL/day (one stroke every 86.4 s): the next is due after 4 × 86.4 s.
    const plan = planBatch({
      nowMs: 0,
      owedFine: -3 * strokeFine,
      strokeVolumeNl: 500,
      rateNlPerDay: 500_000,
      horizonMs: DAY_MS,
      strokesMax: 1e9,
    });
    expect(plan?.leadMs).toBe(4 * 86_400);
  });
});

describe("preconditions the dosing code asserts (our bugs, never the world's)", () => {
  it('a bolus of zero volume or zero duration is our bug: startBolus asserts', () => {
    expect(() => startBolus('patient', 0, 0, 10 * MINUTE_MS)).toThrow(
      new AssertionFailure('a bolus has volume and duration'),
    );
    expect(() => startBolus('patient', 0, 50_000, 0)).toThrow(AssertionFailure);
    // The smallest bolus is fine: 1 nL in 1 ms is 86,400,000 nL/day, and it ends 1 ms later.
    expect(startBolus('patient', 0, 1, 1)).toMatchObject({ rateNlPerDay: DAY_MS, endMs: 1 });
  });

  it('a bolus of zero volume or at zero rate is our bug: startBolusAtRate asserts its own precondition', () => {
    expect(() => startBolusAtRate('priming', 0, 50_000, 0)).toThrow(AssertionFailure);
    // Zero volume is refused by startBolusAtRate itself, before it derives a duration from it.
    expect(() => startBolusAtRate('priming', 0, 0, 1_000_000)).toThrow(
      new AssertionFailure('a bolus has volume and rate'),
    );
    // 1 nL at 1 nL/day takes exactly a day.
    expect(startBolusAtRate('priming', 0, 1, 1)).toMatchObject({ rateNlPerDay: 1, endMs: DAY_MS });
  });

  it('basal mode without a schedule is our bug: rateAt asserts', () => {
    const p: Programme = {
      mode: 'basal',
      steps: undefined,
      minimumRateNlPerDay: 0,
      bolus: undefined,
      rtcOffsetMs: 0,
    };
    expect(() => rateAt(p, 0)).toThrow(new AssertionFailure('basal mode needs a schedule'));
  });

  it('time going back is our bug: programmedFine asserts and names both times', () => {
    const p: Programme = {
      mode: 'off',
      steps: undefined,
      minimumRateNlPerDay: 0,
      bolus: undefined,
      rtcOffsetMs: 0,
    };
    expect(programmedFine(p, 10, 10)).toBe(0);
    expect(() => programmedFine(p, 10, 5)).toThrow(new AssertionFailure('time went back: 5 < 10'));
  });

  it('more than a stroke owed is our bug (the controller clamps it): planBatch asserts and names it', () => {
    const strokeFine = 500 * FINE_PER_NL;
    const input = {
      nowMs: 0,
      strokeVolumeNl: 500,
      rateNlPerDay: 500_000,
      horizonMs: DAY_MS,
      strokesMax: 10,
    };
    // Exactly one stroke owed is allowed: it is due now.
    expect(planBatch({ ...input, owedFine: strokeFine })?.leadMs).toBe(0);
    expect(() => planBatch({ ...input, owedFine: strokeFine + 1 })).toThrow(
      new AssertionFailure(`owed volume above a stroke: ${strokeFine + 1}`),
    );
  });

  it('programmedFine integrates at most 64 schedule pieces per call: an hourly schedule for 64 h, not a ms more', () => {
    // 24 hourly steps; every hour is one piece of the integral. 0.024 mL/day for 64 h = 64,000 nL.
    const hourly = {
      startsMs: Array.from({ length: 24 }, (_, h) => h * HOUR_MS),
      ratesNlPerDay: Array.from({ length: 24 }, () => 24_000),
    };
    const p: Programme = {
      mode: 'basal',
      steps: hourly,
      minimumRateNlPerDay: 0,
      bolus: undefined,
      rtcOffsetMs: 0,
    };
    expect(programmedFine(p, 0, 64 * HOUR_MS)).toBe(64_000 * FINE_PER_NL);
    // 64 h + 1 ms is a 65th piece: longer than any settle interval, so a caller's bug.
    expect(() => programmedFine(p, 0, 64 * HOUR_MS + 1)).toThrow(
      new AssertionFailure('programmedFine: more schedule steps than a settle interval allows'),
    );
  });
});

describe('the rate in force', () => {
  const continuous = { startsMs: [0], ratesNlPerDay: [240_000] };
  const basal: Programme = {
    mode: 'basal',
    steps: continuous,
    minimumRateNlPerDay: 48_000,
    bolus: undefined,
    rtcOffsetMs: 0,
  };

  it('holds until a bolus starts, adds the bolus while it runs, and holds for good once it is over', () => {
    const b = startBolus('patient', HOUR_MS, 50_000, 10 * MINUTE_MS); // 7.2 mL/day from 1 h to 1 h 10 min
    const p = { ...basal, bolus: b };
    expect(rateAt(p, 0)).toEqual({ rateNlPerDay: 240_000, untilMs: HOUR_MS });
    expect(rateAt(p, HOUR_MS)).toEqual({ rateNlPerDay: 240_000 + 7_200_000, untilMs: b.endMs });
    // A finished bolus bounds nothing: a continuous schedule's rate holds indefinitely.
    expect(rateAt(p, b.endMs)).toEqual({
      rateNlPerDay: 240_000,
      untilMs: Number.POSITIVE_INFINITY,
    });
    expect(rateAt(p, 2 * HOUR_MS)).toEqual({
      rateNlPerDay: 240_000,
      untilMs: Number.POSITIVE_INFINITY,
    });
  });

  it('programs nothing while off and only the safe minimum at the minimum rate, even with a bolus recorded', () => {
    // A bolus interrupted by a stop or a stall stays recorded; it must not be programmed then.
    const b = startBolus('patient', 0, 50_000, 10 * MINUTE_MS);
    expect(programmedFine({ ...basal, mode: 'off', bolus: b }, 0, HOUR_MS)).toBe(0);
    // 0.048 mL/day for 1 h = 2,000 nL, and none of the bolus's 50 µL.
    expect(programmedFine({ ...basal, mode: 'minimum', bolus: b }, 0, HOUR_MS)).toBe(
      2_000 * FINE_PER_NL,
    );
    // In basal mode the same hour programs 10,000 nL of basal plus the whole bolus.
    expect(programmedFine({ ...basal, bolus: b }, 0, HOUR_MS)).toBe(60_000 * FINE_PER_NL);
  });
});

describe('batch length', () => {
  it('an exact interval drifts not at all: at one stroke per millisecond the batch holds every stroke before the horizon', () => {
    // 1 nL strokes at 86.4 mL/day = 86,400,000 nL/day: one stroke each ms, remainder 0.
    // Strokes are due at 1, 2, …, 9 ms; the 10th would fall on the horizon.
    const plan = planBatch({
      nowMs: 0,
      owedFine: 0,
      strokeVolumeNl: 1,
      rateNlPerDay: DAY_MS,
      horizonMs: 10,
      strokesMax: strokesPerBatchMax,
    });
    expect(plan).toEqual({ count: 9, leadMs: 1, intervalMs: 1, rateNlPerDay: DAY_MS });
  });

  it('cuts a batch at the last stroke whose drift stays below one stroke, and not earlier', () => {
    // 250 nL strokes at 7.68 mL/day: a stroke every 250 × 86,400,000 / 7,680,000 = 2,812.5 ms,
    // commanded every 2,812 ms, so stroke j comes up to (j − 1) × 0.5 ms + 1 ms early.
    // In fine units (stroke S = 21,600,000,000, rate r = 7,680,000, remainder 3,840,000):
    // the drift r × ((j − 1) × 0.5 + 1) < S  ⇔  (j − 1) × 3,840,000 < S − r = 21,592,320,000 = 5,623 × 3,840,000
    // ⇔ j ≤ 5,623. A day would hold floor((86,399,999 × 7,680,000) / S) = 30,719 strokes.
    const plan = planBatch({
      nowMs: 0,
      owedFine: 0,
      strokeVolumeNl: 250,
      rateNlPerDay: 7_680_000,
      horizonMs: DAY_MS,
      strokesMax: 1e9,
    });
    expect(plan).toEqual({
      count: 5_623,
      leadMs: 2_813,
      intervalMs: 2_812,
      rateNlPerDay: 7_680_000,
    });
    // The last stroke stays within REQ-DOS-1 for every owed volume the controller may hand over.
    const strokeFine = 250 * FINE_PER_NL;
    for (const owed of [-strokeFine + 1, -1, 0, 1, strokeFine - 1, strokeFine]) {
      const p = planBatch({
        nowMs: 0,
        owedFine: owed,
        strokeVolumeNl: 250,
        rateNlPerDay: 7_680_000,
        horizonMs: DAY_MS,
        strokesMax: 1e9,
      })!;
      expect(p.count).toBe(5_623);
      const t = strokeTimeMs({ startMs: 0, ...p }, p.count);
      expect(p.count * strokeFine - (owed + 7_680_000 * t)).toBeLessThan(strokeFine);
    }
  });
});

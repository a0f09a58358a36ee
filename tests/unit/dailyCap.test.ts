/**
 * The forward daily cap (src/dosing/dailyCap.ts, REQ-LIM-6) against the QA kit's brute-force
 * oracle (testing/dailyCap.ts), which walks every stroke and every window end and shares no code
 * with it: random stroke histories, owed volumes, basal schedules and boluses near a small hard
 * maximum, so that about half the cases pass the cap. Worked examples first, each asserting the
 * situation it is about (the window that peaks) before the verdict.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forwardCapExcess, type StrokeRun } from '../../src/dosing/dailyCap.js';
import type { ActiveBolus, Programme } from '../../src/dosing/delivery.js';
import type { DrugLibrary, Mixture } from '../../src/therapy/schema.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/units.js';
import { capOracle, oracleProgrammedFine } from '../../testing/dailyCap.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 200 * Number(process.env.FC_RUNS_FACTOR ?? 1));

/** One drug, 1 mg a day at most: 2,000 strokes of 500 nL at 1 mg/mL. */
const library: DrugLibrary = {
  name: 'test',
  drugs: [
    {
      drug: 'morphine',
      concentrationUgPerMlMax: 50_000,
      dailyDoseNgSoftMax: 1_000_000,
      dailyDoseNgHardMax: 1_000_000,
      bolusDoseNgSoftMax: 1_000_000,
      bolusDoseNgHardMax: 1_000_000,
    },
  ],
};
const strokeNl = 500;
const mixture: Mixture = [{ drug: 'morphine', concentrationUgPerMl: 1_000 }];
const strokeFine = strokeNl * DAY_MS;

function programme(ratesNlPerDay: number[], bolus?: ActiveBolus): Programme {
  const startsMs = ratesNlPerDay.map(
    (_, i) => Math.floor((i * DAY_MS) / ratesNlPerDay.length / MINUTE_MS) * MINUTE_MS,
  );
  return {
    mode: 'basal',
    steps: { startsMs, ratesNlPerDay },
    minimumRateNlPerDay: 0,
    bolus,
    rtcOffsetMs: 0,
  };
}

function oracle(nowMs: number, history: StrokeRun[], owedFine: number, p: Programme) {
  const steps = p.steps!.startsMs.map((s, i) => ({
    startMinute: s / MINUTE_MS,
    rateNlPerDay: p.steps!.ratesNlPerDay[i]!,
  }));
  const strokes = history.flatMap((r) =>
    Array.from({ length: r.strokes }, (_, j) => ({
      atMs: r.firstMs + j * r.intervalMs,
      mixture: r.mixture,
    })),
  );
  return capOracle({
    library,
    nowMs,
    strokeVolumeNl: strokeNl,
    strokes,
    owedFine,
    programmedFine: (e) => oracleProgrammedFine(steps, p.rtcOffsetMs, p.bolus, nowMs, e),
    mixture,
  });
}

const firmware = (nowMs: number, history: StrokeRun[], owedFine: number, p: Programme) =>
  forwardCapExcess({
    library,
    nowMs,
    strokeVolumeNl: strokeNl,
    history,
    owedFine,
    programmes: [p],
    mixture,
  });

describe('the forward daily cap (REQ-LIM-6)', () => {
  it('finds the window that peaks where old strokes are about to leave, not the one ending now', () => {
    // 1,200 strokes (0.6 mg) one minute apart from 20 h ago up to now; a basal of 1,000 strokes a
    // day (0.5 mg/day). The window ending now holds 0.6 mg; 4 h on, every old stroke but the first
    // is still inside and about 167 of basal have joined: 0.68 mg at most, within 1 mg.
    const now = DAY_MS;
    const history: StrokeRun[] = [
      { firstMs: now - 20 * HOUR_MS, intervalMs: MINUTE_MS, strokes: 1_200, mixture },
    ];
    expect(firmware(now, history, 0, programme([1_000 * strokeNl]))).toBeUndefined();
    // With a bolus of 0.5 mg (1,000 strokes) over 30 min, the first window end checked is the last
    // millisecond the oldest stroke counts, now + 4 h − 1 ms: 1,200 old strokes, the bolus, and
    // ⌈500,000 nL/day × (4 h − 1 ms) ÷ 500 nL⌉ = ⌈166.67⌉ = 167 of basal: 2,367 strokes, 1.1835 mg.
    const bolus: ActiveBolus = {
      kind: 'patient',
      startMs: now,
      volumeNl: 1_000 * strokeNl,
      rateNlPerDay: 24_000_000,
      endMs: now + 30 * MINUTE_MS,
    };
    const withBolus = programme([1_000 * strokeNl], bolus);
    expect(firmware(now, history, 0, withBolus)).toEqual({
      drug: 'morphine',
      windowEndMs: now + 4 * HOUR_MS - 1,
      dosePg: 2_367 * 500_000,
      limitPg: 1_000_000_000,
      futureStrokes: 1_167,
    });
    expect(oracle(now, history, 0, withBolus)?.windowEndMs).toBe(now + 4 * HOUR_MS - 1);
  });

  it('finds an excess in a window that ends between two of the bounds’ points, while old strokes are still inside', () => {
    // 1,950 strokes (0.975 mg) a millisecond apart from 22 h ago, which leave the window 2 h from
    // now; a basal of exactly the limit a day (2,000 strokes, 1 mg). A whole day ahead on its own is
    // within the limit, and so is every window once the old strokes have left; but the window ending
    // at the last millisecond the oldest stroke counts, now + 2 h − 1 ms, holds all 1,950 and
    // ⌈1,000,000 nL/day × (2 h − 1 ms) ÷ 500 nL⌉ = ⌈166.67⌉ = 167 of basal: 2,117 strokes, 1.0585 mg.
    // A bound that judged the first eighth of the day ahead [now, now + 3 h] with what the window
    // ending at its right end still holds (none of the old strokes) would let it through.
    const now = DAY_MS;
    const firstMs = now - DAY_MS + 2 * HOUR_MS;
    const history: StrokeRun[] = [{ firstMs, intervalMs: 1, strokes: 1_950, mixture }];
    const p = programme([2_000 * strokeNl]);
    // The situation: old strokes leave within the first eighth, and a day of basal alone fits.
    expect(firstMs + DAY_MS - 1).toBeLessThan(now + 3 * HOUR_MS);
    expect(oracle(now, [], 0, p)).toBeUndefined();
    const want = {
      drug: 'morphine',
      windowEndMs: now + 2 * HOUR_MS - 1,
      dosePg: 2_117 * 500_000,
      limitPg: 1_000_000_000,
      futureStrokes: 167,
    };
    expect(oracle(now, history, 0, p)?.windowEndMs).toBe(want.windowEndMs);
    expect(firmware(now, history, 0, p)).toEqual(want);
  });

  it('counts the volume owed and rounds what is to come up to whole strokes', () => {
    // An empty history, no programme: only what is owed is to come. 1,999.5 strokes owed fit (they
    // round up to 2,000 = 1 mg), 2,000 and a fine unit do not.
    const p = programme([0]);
    expect(firmware(0, [], 1_999 * strokeFine + strokeFine / 2, p)).toBeUndefined();
    expect(firmware(0, [], 2_000 * strokeFine, p)).toBeUndefined();
    const over = firmware(0, [], 2_000 * strokeFine + 1, p);
    expect(over).toMatchObject({
      futureStrokes: 2_001,
      dosePg: 2_001 * strokeNl * 1_000,
      limitPg: 1_000_000_000,
    });
  });

  it('a priming bolus replaces the basal while it runs: basal before and after it counts, not during (mutation survivors)', () => {
    // 1,800 strokes in the last 1.8 s, a basal of 1,000 strokes a day (500,000 nL/day), and a
    // priming bolus of 10 strokes from 1 h to 2 h on, which replaces the basal meanwhile. The first
    // window end checked is the last millisecond the oldest stroke (now − 1,799 ms) counts,
    // now + 24 h − 1,800 ms. What is to come by then, by this test's own arithmetic: the basal of
    // the first hour and of the 22 h after the bolus less 1,800 ms, and the bolus, in fine units.
    const now = DAY_MS;
    const history: StrokeRun[] = [{ firstMs: now - 1_799, intervalMs: 1, strokes: 1_800, mixture }];
    const priming: ActiveBolus = {
      kind: 'priming',
      startMs: now + HOUR_MS,
      endMs: now + 2 * HOUR_MS,
      volumeNl: 10 * strokeNl,
      rateNlPerDay: 10 * strokeNl * 24,
    };
    const windowEndMs = now + DAY_MS - 1_800;
    const basalMs = HOUR_MS + (windowEndMs - (now + 2 * HOUR_MS));
    const futureFine = 1_000 * strokeNl * basalMs + 10 * strokeNl * DAY_MS;
    const futureStrokes = Math.ceil(futureFine / strokeFine);
    expect(futureStrokes).toBe(969); // 968.3125 rounded up: the check below is exact
    expect(firmware(now, history, 0, programme([1_000 * strokeNl], priming))).toEqual({
      drug: 'morphine',
      windowEndMs,
      dosePg: (1_800 + futureStrokes) * 500_000,
      limitPg: 1_000_000_000,
      futureStrokes,
    });
  });

  it('agrees with the brute-force oracle on random histories, owed volumes and programmes', () => {
    const run = fc.record({
      batches: fc.array(
        fc.record({
          gapMs: fc.integer({ min: 0, max: 6 * HOUR_MS }),
          intervalMs: fc.integer({ min: 1, max: 5 * MINUTE_MS }),
          strokes: fc.integer({ min: 1, max: 600 }),
          concentration: fc.integer({ min: 1, max: 3 }),
        }),
        { maxLength: 4 },
      ),
      owedFine: fc.integer({ min: -strokeFine + 1, max: strokeFine }),
      rates: fc.array(fc.integer({ min: 0, max: 1_600_000 }), { minLength: 1, maxLength: 4 }),
      bolus: fc.option(
        fc.record({
          volumeNl: fc.integer({ min: 1, max: 400_000 }),
          durationMs: fc.integer({ min: MINUTE_MS, max: 6 * HOUR_MS }),
          startsInMs: fc.integer({ min: -HOUR_MS, max: 0 }),
        }),
        { nil: undefined },
      ),
      nowAfterMs: fc.integer({ min: 0, max: 2 * HOUR_MS }),
    });
    let exceeded = 0;
    fc.assert(
      fc.property(run, (r) => {
        // Batches one after another from a day and a half ago; now after the last stroke.
        let t = -36 * HOUR_MS;
        const history: StrokeRun[] = [];
        for (const b of r.batches) {
          t += b.gapMs;
          history.push({
            firstMs: t,
            intervalMs: b.intervalMs,
            strokes: b.strokes,
            mixture: [{ drug: 'morphine', concentrationUgPerMl: 1_000 * b.concentration }],
          });
          t += (b.strokes - 1) * b.intervalMs + 1;
        }
        const now = Math.max(0, t) + r.nowAfterMs;
        const bolus: ActiveBolus | undefined = r.bolus && {
          kind: 'patient',
          startMs: now + r.bolus.startsInMs,
          volumeNl: r.bolus.volumeNl,
          rateNlPerDay: Math.max(1, Math.floor((r.bolus.volumeNl * DAY_MS) / r.bolus.durationMs)),
          endMs: now + r.bolus.startsInMs + r.bolus.durationMs,
        };
        const p = programme(r.rates, bolus);
        const got = firmware(now, history, r.owedFine, p);
        const want = oracle(now, history, r.owedFine, p);
        if (want) exceeded++;
        expect(got?.windowEndMs).toBe(want?.windowEndMs);
      }),
      { seed, numRuns },
    );
    // The generator reaches both sides of the cap.
    expect(exceeded).toBeGreaterThan(numRuns / 10);
    expect(exceeded).toBeLessThan(numRuns * 0.9);
  });
});

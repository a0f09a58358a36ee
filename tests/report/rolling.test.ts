/**
 * Rolling-window sums with step semantics, checked by hand and against a brute-force definition.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../src/units.js';
import { AnalysisInputError } from '../../sim/analysis/inputError.js';
import {
  maxRollingWindowSum,
  rollingWindowSums,
  type TimeValue,
} from '../../sim/analysis/rolling.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 200 * Number(process.env.FC_RUNS_FACTOR ?? 1));
const DAY = 24 * HOUR_MS;

/** C(τ) by its definition: the value of the last sample at or before τ, 0 before the first. */
function cumulativeAt(samples: readonly TimeValue[], timeMs: number): number {
  let value = 0;
  for (const s of samples) if (s.timeMs <= timeMs) value = s.value;
  return value;
}

/** Samples from increments: non-decreasing times (repeats allowed) and values. */
const cumulativeSeries = fc
  .array(
    fc.record({
      gapMs: fc.integer({ min: 0, max: 10 * HOUR_MS }),
      increment: fc.integer({ min: 0, max: 1_000 }),
    }),
    { maxLength: 60 },
  )
  .map((steps) => {
    let timeMs = 0;
    let value = 0;
    return steps.map(({ gapMs, increment }) => {
      timeMs += gapMs;
      value += increment;
      return { timeMs, value };
    });
  });

describe('rollingWindowSums', () => {
  it('sums what was recorded in (t − 24 h, t], worked by hand', () => {
    const h = HOUR_MS;
    const samples = [
      { timeMs: 0, value: 0 },
      { timeMs: 1 * h, value: 10 },
      { timeMs: 10 * h, value: 30 },
      { timeMs: 24 * h, value: 40 },
      { timeMs: 25 * h, value: 45 },
      { timeMs: 34 * h, value: 70 },
      { timeMs: 60 * h, value: 71 },
    ];
    expect(rollingWindowSums(samples, DAY).map((s) => s.value)).toEqual([
      0, // nothing yet
      10, // 10 − C(−23 h) = 10 − 0
      30, // 30 − 0
      40, // 40 − C(0) = 40 − 0: the sample at exactly t − W is outside the window
      35, // 45 − C(1 h) = 45 − 10
      40, // 70 − C(10 h) = 70 − 30
      1, // 71 − C(36 h) = 71 − 70
    ]);
    expect(rollingWindowSums(samples, DAY).map((s) => s.timeMs)).toEqual(
      samples.map((s) => s.timeMs),
    );
    // The largest is 40, first reached at 24 h.
    expect(maxRollingWindowSum(samples, DAY)).toEqual({ timeMs: 24 * h, value: 40 });
  });

  it('counts a cumulative series that does not start at zero in full (counters start at 0 at the start of the run)', () => {
    expect(rollingWindowSums([{ timeMs: 5 * HOUR_MS, value: 100 }], DAY)).toEqual([
      { timeMs: 5 * HOUR_MS, value: 100 },
    ]);
  });

  it('gives each of several samples at one time its running value, the last one the full sum', () => {
    const samples = [
      { timeMs: 0, value: 5 },
      { timeMs: HOUR_MS, value: 7 },
      { timeMs: HOUR_MS, value: 9 },
    ];
    expect(rollingWindowSums(samples, DAY).map((s) => s.value)).toEqual([5, 7, 9]);
    expect(rollingWindowSums(samples, HOUR_MS).map((s) => s.value)).toEqual([5, 2, 4]);
  });

  it('matches C(t) − C(t − W) at every sample (property)', () => {
    fc.assert(
      fc.property(cumulativeSeries, fc.integer({ min: 1, max: 2 * DAY }), (samples, windowMs) => {
        const sums = rollingWindowSums(samples, windowMs);
        sums.forEach((sum, i) => {
          // With repeated times a sample's own value replaces C(t) (its running value).
          expect(sum.value).toBe(samples[i]!.value - cumulativeAt(samples, sum.timeMs - windowMs));
        });
      }),
      { seed, numRuns },
    );
  });

  it('finds the largest window sum over all times, not only at samples (property)', () => {
    fc.assert(
      fc.property(cumulativeSeries, fc.integer({ min: 1, max: 2 * DAY }), (samples, windowMs) => {
        const best = maxRollingWindowSum(samples, windowMs);
        if (samples.length === 0) {
          expect(best).toBeUndefined();
          return;
        }
        // Brute force at every time where C(t) or C(t − W) can change, and just before each.
        const candidates = samples.flatMap((s) => [
          s.timeMs,
          s.timeMs + windowMs,
          s.timeMs - 1,
          s.timeMs + windowMs - 1,
        ]);
        const bruteForce = Math.max(
          ...candidates.map((t) => cumulativeAt(samples, t) - cumulativeAt(samples, t - windowMs)),
        );
        expect(best!.value).toBe(bruteForce);
      }),
      { seed, numRuns },
    );
  });

  it('rejects a shrinking cumulative, time going back, and a window that is not a positive integer', () => {
    const error = (run: () => unknown) => {
      try {
        run();
      } catch (e) {
        return e as AnalysisInputError;
      }
      throw new Error('expected an error');
    };
    const shrinking = error(() =>
      rollingWindowSums(
        [
          { timeMs: 0, value: 5 },
          { timeMs: 1, value: 4 },
        ],
        DAY,
      ),
    );
    expect(shrinking).toBeInstanceOf(AnalysisInputError);
    expect([shrinking.kind, shrinking.field]).toEqual(['unordered', 'samples[1].value']);
    const backwards = error(() =>
      rollingWindowSums(
        [
          { timeMs: 5, value: 0 },
          { timeMs: 4, value: 1 },
        ],
        DAY,
      ),
    );
    expect([backwards.kind, backwards.field]).toEqual(['unordered', 'samples[1].timeMs']);
    expect(error(() => rollingWindowSums([], 0)).field).toBe('windowMs');
    expect(error(() => rollingWindowSums([], 1.5)).field).toBe('windowMs');
    expect(
      error(() => rollingWindowSums([{ timeMs: 0, value: Number.POSITIVE_INFINITY }], DAY)).field,
    ).toBe('samples[0].value');
  });
});

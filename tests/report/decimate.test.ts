/**
 * Min/max decimation keeps long series bounded without losing their peaks and troughs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimateMinMax } from '../../sim/report/decimate.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 200 * Number(process.env.FC_RUNS_FACTOR ?? 1));

interface Point {
  t: number;
  v: number;
}
const x = (p: Point) => p.t;
const y = (p: Point) => p.v;

const series = fc
  .array(
    fc.record({ gap: fc.integer({ min: 0, max: 1_000 }), v: fc.integer({ min: -1e6, max: 1e6 }) }),
    { minLength: 1, maxLength: 3_000 },
  )
  .map((steps) => {
    let t = 0;
    return steps.map(({ gap, v }) => ({ t: (t += gap), v }));
  });

describe('decimateMinMax', () => {
  it('returns a short series unchanged', () => {
    const points = [
      { t: 0, v: 1 },
      { t: 1, v: 5 },
      { t: 2, v: 3 },
    ];
    expect(decimateMinMax(points, 4, x, y)).toEqual(points);
  });

  it('keeps at most maxPoints, in order, with the first, last, lowest and highest point (property)', () => {
    fc.assert(
      fc.property(series, fc.integer({ min: 4, max: 500 }), (points, maxPoints) => {
        const kept = decimateMinMax(points, maxPoints, x, y);
        expect(kept.length).toBeLessThanOrEqual(maxPoints);
        expect(kept[0]).toBe(points[0]);
        expect(kept[kept.length - 1]).toBe(points[points.length - 1]);
        // A subsequence of the input, in its order.
        let at = 0;
        for (const point of kept) {
          at = points.indexOf(point, at);
          expect(at).toBeGreaterThanOrEqual(0);
          at++;
        }
        const values = points.map(y);
        expect(Math.max(...kept.map(y))).toBe(Math.max(...values));
        expect(Math.min(...kept.map(y))).toBe(Math.min(...values));
      }),
      { seed, numRuns },
    );
  });

  it('reduces 100,000 points to the bound and keeps a single spike', () => {
    const points = Array.from({ length: 100_000 }, (_, i) => ({
      t: i * 60_000,
      v: i === 61_234 ? 999 : i % 10,
    }));
    const kept = decimateMinMax(points, 1_000, x, y);
    expect(kept.length).toBeLessThanOrEqual(1_000);
    expect(kept).toContain(points[61_234]);
  });
});

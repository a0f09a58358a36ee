/**
 * Decimation of long series for charts: at most `maxPoints` points, extremes kept.
 *
 * A six-month run records around 100,000 trace rows; drawn as-is one line would weigh megabytes
 * and show nothing more than a few hundred pixels can. We cut the time span into equal buckets
 * and keep, per bucket, the point with the lowest and the point with the highest value (plus the
 * first and last point of the series), in their original order. That keeps every peak and trough
 * a reader would look for (the highest 24-hour dose, the lowest reservoir level) exactly, which
 * averaging or every-n-th sampling would not.
 *
 * Deterministic: ties go to the earliest point. Pure; knows nothing about what is drawn.
 */
import { assert } from '../../src/assert.js';

export const MAX_POINTS_MIN = 4;

export function decimateMinMax<T>(
  points: readonly T[],
  maxPoints: number,
  x: (point: T) => number,
  y: (point: T) => number,
): T[] {
  assert(
    Number.isSafeInteger(maxPoints) && maxPoints >= MAX_POINTS_MIN,
    `maxPoints must be an integer ≥ ${MAX_POINTS_MIN}, got ${maxPoints}`,
  );
  if (points.length <= maxPoints) return [...points];
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const bucketCount = Math.floor((maxPoints - 2) / 2);
  const x0 = x(first);
  const span = x(last) - x0;
  // Per bucket: indices of its lowest and highest point (−1 while the bucket is empty).
  const lowest = new Array<number>(bucketCount).fill(-1);
  const highest = new Array<number>(bucketCount).fill(-1);
  for (let i = 1; i < points.length - 1; i++) {
    const point = points[i]!;
    const bucket =
      span > 0 ? Math.min(bucketCount - 1, Math.floor(((x(point) - x0) * bucketCount) / span)) : 0;
    const low = lowest[bucket]!;
    const high = highest[bucket]!;
    if (low < 0 || y(point) < y(points[low]!)) lowest[bucket] = i;
    if (high < 0 || y(point) > y(points[high]!)) highest[bucket] = i;
  }
  const kept = new Set<number>([0, points.length - 1]);
  for (let b = 0; b < bucketCount; b++) {
    if (lowest[b]! >= 0) kept.add(lowest[b]!);
    if (highest[b]! >= 0) kept.add(highest[b]!);
  }
  return [...kept].sort((a, b) => a - b).map((index) => points[index]!);
}

/**
 * Streaming summary of one fleet metric: a fixed-bin histogram with count, sum, min and max.
 *
 * The fleet runs thousands of virtual patients in workers and on several machines, so a metric's
 * summary must take constant memory whatever the number of patients, cross a worker boundary or a
 * JSON file as plain data, and merge: `mergeSketches(a, b)` is exactly the sketch of one run over
 * both inputs, field for field. Three rules make that exact:
 * - the bins are fixed up front (lowest, highest, binCount) rather than adapted to the data, so
 *   two shards always bin a value the same way;
 * - observations are safe integers in a declared unit (ms, nL, ppm, basis points...), the way the
 *   firmware counts, so the sum adds associatively (floating-point sums would depend on order);
 * - values outside [lowest, highest) go to an underflow or overflow count instead of being lost.
 *
 * `recordObservation` mutates its sketch in place (the hot path of a fleet run); everything else is
 * pure. The sketch also counts how many observations equal its min and its max (`minCount`,
 * `maxCount`): a metric where most patients score the same (no alarm: 0) has its quantiles exact
 * wherever the rank falls on those. Elsewhere a quantile is an estimate, interpolated within a bin:
 * off by less than one bin width ((highest − lowest) / binCount) for values inside the bins.
 * It must not know what the metric means.
 */
import { z } from 'zod';
import { AnalysisInputError, requireInteger } from './inputError.js';

export interface HistogramSpec {
  /** Unit of the integer observations, kept for readers and checked on merge ("ms", "ppm"). */
  unit: string;
  /** Inclusive lower edge of the first bin. */
  lowest: number;
  /** Exclusive upper edge of the last bin. */
  highest: number;
  binCount: number;
}

export interface HistogramSketch {
  spec: HistogramSpec;
  count: number;
  sum: number;
  /** null while the sketch is empty (JSON has no infinities). */
  min: number | null;
  max: number | null;
  /** How many observations equal `min`, and `max` (0 while the sketch is empty). */
  minCount: number;
  maxCount: number;
  underflowCount: number;
  overflowCount: number;
  /** binCounts[i] counts lowest + i·w ≤ x < lowest + (i+1)·w, w = (highest − lowest) / binCount. */
  binCounts: number[];
}

/** The largest bin count accepted: bounds the memory of one sketch. */
export const BIN_COUNT_MAX = 10_000;

function validateSpec(spec: HistogramSpec, field: string): void {
  requireInteger(spec.lowest, `${field}.lowest`);
  requireInteger(spec.highest, `${field}.highest`, spec.lowest + 1);
  requireInteger(spec.binCount, `${field}.binCount`, 1);
  if (spec.binCount > BIN_COUNT_MAX) {
    throw new AnalysisInputError(
      'invalidValue',
      `${field}.binCount`,
      `must be at most ${BIN_COUNT_MAX}, got ${spec.binCount}`,
    );
  }
}

export function createSketch(spec: HistogramSpec): HistogramSketch {
  validateSpec(spec, 'spec');
  return {
    spec: { ...spec },
    count: 0,
    sum: 0,
    min: null,
    max: null,
    minCount: 0,
    maxCount: 0,
    underflowCount: 0,
    overflowCount: 0,
    binCounts: new Array<number>(spec.binCount).fill(0),
  };
}

/** Index of the bin holding `value`, which must lie in [lowest, highest). Exact for integers. */
export function binIndex(spec: HistogramSpec, value: number): number {
  const numerator = (value - spec.lowest) * spec.binCount;
  const denominator = spec.highest - spec.lowest;
  let index = Math.floor(numerator / denominator);
  // A float quotient may round up onto the next integer; correct it with integer products.
  if (index * denominator > numerator) index--;
  return index;
}

/** Lower edge of bin `index` (index = binCount gives `highest`). */
export function binEdge(spec: HistogramSpec, index: number): number {
  return spec.lowest + ((spec.highest - spec.lowest) * index) / spec.binCount;
}

/** Adds one observation (a safe integer in the spec's unit) to the sketch, in place. */
export function recordObservation(sketch: HistogramSketch, value: number): void {
  requireInteger(value, 'value');
  const sum = sketch.sum + value;
  if (!Number.isSafeInteger(sum)) {
    throw new AnalysisInputError(
      'invalidValue',
      'value',
      `would take the sum past the safe integer range (sum ${sketch.sum}, value ${value})`,
    );
  }
  sketch.count++;
  sketch.sum = sum;
  if (sketch.min === null || value < sketch.min) [sketch.min, sketch.minCount] = [value, 1];
  else if (value === sketch.min) sketch.minCount++;
  if (sketch.max === null || value > sketch.max) [sketch.max, sketch.maxCount] = [value, 1];
  else if (value === sketch.max) sketch.maxCount++;
  if (value < sketch.spec.lowest) sketch.underflowCount++;
  else if (value >= sketch.spec.highest) sketch.overflowCount++;
  else sketch.binCounts[binIndex(sketch.spec, value)]!++;
}

function sameSpec(a: HistogramSpec, b: HistogramSpec): string | undefined {
  for (const key of ['unit', 'lowest', 'highest', 'binCount'] as const) {
    if (a[key] !== b[key]) return `spec.${key} differs: ${String(a[key])} and ${String(b[key])}`;
  }
  return undefined;
}

/** The sketch of both inputs' observations together. Inputs are not changed. */
export function mergeSketches(a: HistogramSketch, b: HistogramSketch): HistogramSketch {
  const difference = sameSpec(a.spec, b.spec);
  if (difference !== undefined)
    throw new AnalysisInputError('mismatch', 'sketches', `cannot merge: ${difference}`);
  const sum = a.sum + b.sum;
  if (!Number.isSafeInteger(sum))
    throw new AnalysisInputError(
      'invalidValue',
      'sketches',
      `merged sum ${sum} is past the safe integer range`,
    );
  const [min, minCount] = extreme(a.min, a.minCount, b.min, b.minCount, -1);
  const [max, maxCount] = extreme(a.max, a.maxCount, b.max, b.maxCount, 1);
  return {
    spec: { ...a.spec },
    count: a.count + b.count,
    sum,
    min,
    max,
    minCount,
    maxCount,
    underflowCount: a.underflowCount + b.underflowCount,
    overflowCount: a.overflowCount + b.overflowCount,
    binCounts: a.binCounts.map((count, index) => count + b.binCounts[index]!),
  };
}

/** The lower (`sign` −1) or higher (+1) of two extremes, with how often it was observed. */
function extreme(
  x: number | null,
  xCount: number,
  y: number | null,
  yCount: number,
  sign: 1 | -1,
): [number | null, number] {
  if (x === null) return [y, yCount];
  if (y === null || x === y) return [x, y === null ? xCount : xCount + yCount];
  return (x - y) * sign > 0 ? [x, xCount] : [y, yCount];
}

/** Mean of the observations, or undefined for an empty sketch. */
export function sketchMean(sketch: HistogramSketch): number | undefined {
  return sketch.count === 0 ? undefined : sketch.sum / sketch.count;
}

/**
 * The q-quantile (0 ≤ q ≤ 1), at rank q × count: exactly `min` while the rank falls on the
 * observations equal to the min, exactly `max` on those equal to the max; in between an estimate,
 * linear within the bin where the rank falls, clamped to [min, max]
 * (underflow values spread over [min, lowest), overflow over [highest, max]). Undefined for an
 * empty sketch.
 */
export function sketchQuantile(sketch: HistogramSketch, q: number): number | undefined {
  if (!(q >= 0 && q <= 1))
    throw new AnalysisInputError('invalidValue', 'q', `must be within [0, 1], got ${q}`);
  const { min, max, spec } = sketch;
  if (min === null || max === null) return undefined;
  const rank = q * sketch.count;
  if (rank <= sketch.minCount) return min;
  if (rank > sketch.count - sketch.maxCount) return max;
  const clamp = (x: number) => Math.min(max, Math.max(min, x));
  // Walk the cells in order: underflow, the bins, overflow. Each spreads its count evenly.
  const cells: { lower: number; upper: number; count: number }[] = [
    { lower: min, upper: spec.lowest, count: sketch.underflowCount },
    ...sketch.binCounts.map((count, index) => ({
      lower: binEdge(spec, index),
      upper: binEdge(spec, index + 1),
      count,
    })),
    { lower: spec.highest, upper: max, count: sketch.overflowCount },
  ];
  let below = 0;
  for (const cell of cells) {
    if (cell.count > 0 && below + cell.count >= rank) {
      return clamp(cell.lower + ((rank - below) / cell.count) * (cell.upper - cell.lower));
    }
    below += cell.count;
  }
  return max;
}

const nonNegativeInteger = z.number().int().nonnegative();
const sketchSchema = z.object({
  spec: z.object({
    unit: z.string(),
    lowest: z.number().int(),
    highest: z.number().int(),
    binCount: z.number().int().positive(),
  }),
  count: nonNegativeInteger,
  sum: z.number().int(),
  min: z.number().int().nullable(),
  max: z.number().int().nullable(),
  minCount: nonNegativeInteger,
  maxCount: nonNegativeInteger,
  underflowCount: nonNegativeInteger,
  overflowCount: nonNegativeInteger,
  binCounts: z.array(nonNegativeInteger),
});

/**
 * Reads a sketch from parsed JSON (a shard's output), checking shape and internal consistency.
 * Throws `AnalysisInputError` naming the first field at fault.
 */
export function parseSketch(json: unknown, field = 'sketch'): HistogramSketch {
  const parsed = sketchSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AnalysisInputError(
      'invalidValue',
      [field, ...issue.path.map(String)].join('.'),
      issue.message,
    );
  }
  const sketch = parsed.data;
  validateSpec(sketch.spec, `${field}.spec`);
  if (sketch.binCounts.length !== sketch.spec.binCount) {
    throw new AnalysisInputError(
      'mismatch',
      `${field}.binCounts`,
      `has ${sketch.binCounts.length} bins, spec.binCount is ${sketch.spec.binCount}`,
    );
  }
  const counted =
    sketch.underflowCount + sketch.overflowCount + sketch.binCounts.reduce((a, b) => a + b, 0);
  if (counted !== sketch.count) {
    throw new AnalysisInputError(
      'mismatch',
      `${field}.count`,
      `is ${sketch.count} but the bins hold ${counted}`,
    );
  }
  if (
    (sketch.count === 0) !== (sketch.min === null) ||
    (sketch.count === 0) !== (sketch.max === null)
  ) {
    throw new AnalysisInputError(
      'mismatch',
      `${field}.min`,
      'min and max must be null exactly when count is 0',
    );
  }
  const extremes =
    sketch.count === 0
      ? sketch.minCount === 0 && sketch.maxCount === 0
      : sketch.minCount >= 1 &&
        sketch.maxCount >= 1 &&
        (sketch.min === sketch.max
          ? sketch.minCount === sketch.count && sketch.maxCount === sketch.count
          : sketch.minCount + sketch.maxCount <= sketch.count);
  if (!extremes) {
    throw new AnalysisInputError(
      'mismatch',
      `${field}.minCount`,
      `minCount ${sketch.minCount} and maxCount ${sketch.maxCount} do not fit ${sketch.count} observations from ${sketch.min} to ${sketch.max}`,
    );
  }
  return sketch;
}

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
 * pure. Quantiles are estimates, interpolated within a bin. It must not know what the metric means.
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
  sketch.min = sketch.min === null ? value : Math.min(sketch.min, value);
  sketch.max = sketch.max === null ? value : Math.max(sketch.max, value);
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
  const pick = (x: number | null, y: number | null, f: (x: number, y: number) => number) =>
    x === null ? y : y === null ? x : f(x, y);
  return {
    spec: { ...a.spec },
    count: a.count + b.count,
    sum,
    min: pick(a.min, b.min, Math.min),
    max: pick(a.max, b.max, Math.max),
    underflowCount: a.underflowCount + b.underflowCount,
    overflowCount: a.overflowCount + b.overflowCount,
    binCounts: a.binCounts.map((count, index) => count + b.binCounts[index]!),
  };
}

/** Mean of the observations, or undefined for an empty sketch. */
export function sketchMean(sketch: HistogramSketch): number | undefined {
  return sketch.count === 0 ? undefined : sketch.sum / sketch.count;
}

/**
 * Estimated q-quantile (0 ≤ q ≤ 1), linear within the bin where the rank falls, clamped to the
 * observed [min, max]; underflow values are spread over [min, lowest), overflow over [highest, max].
 * Exact at q = 0 and q = 1. Undefined for an empty sketch.
 */
export function sketchQuantile(sketch: HistogramSketch, q: number): number | undefined {
  if (!(q >= 0 && q <= 1))
    throw new AnalysisInputError('invalidValue', 'q', `must be within [0, 1], got ${q}`);
  const { min, max, spec } = sketch;
  if (min === null || max === null) return undefined;
  if (q === 0) return min;
  if (q === 1) return max;
  const rank = q * sketch.count;
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
  return sketch;
}

/**
 * The fleet's streaming histogram: exact merge (shards = one run), binning at edges, quantiles,
 * and reading a shard's JSON back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnalysisInputError } from '../../sim/analysis/inputError.js';
import {
  binEdge,
  binIndex,
  createSketch,
  mergeSketches,
  parseSketch,
  recordObservation,
  sketchMean,
  sketchQuantile,
  type HistogramSketch,
  type HistogramSpec,
} from '../../sim/analysis/sketch.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 200 * Number(process.env.FC_RUNS_FACTOR ?? 1));

const SPEC: HistogramSpec = { unit: 'ms', lowest: -1_000, highest: 9_000, binCount: 7 };

function sketchOf(values: readonly number[], spec = SPEC): HistogramSketch {
  const sketch = createSketch(spec);
  for (const value of values) recordObservation(sketch, value);
  return sketch;
}

// Values reach past both ends of the bins so underflow and overflow take part.
const observations = fc.array(fc.integer({ min: -5_000, max: 15_000 }), { maxLength: 80 });

describe('histogram sketch', () => {
  it('merges two shards into exactly the sketch of one run over both (property)', () => {
    fc.assert(
      fc.property(observations, observations, (a, b) => {
        expect(mergeSketches(sketchOf(a), sketchOf(b))).toEqual(sketchOf([...a, ...b]));
      }),
      { seed, numRuns },
    );
  });

  it('merges any number of shards in any grouping to the single-run sketch (property)', () => {
    fc.assert(
      fc.property(fc.array(observations, { minLength: 1, maxLength: 6 }), (shards) => {
        const single = sketchOf(shards.flat());
        const leftFold = shards.map((s) => sketchOf(s)).reduce((x, y) => mergeSketches(x, y));
        const rightFold = shards.map((s) => sketchOf(s)).reduceRight((x, y) => mergeSketches(y, x));
        expect(leftFold).toEqual(single);
        expect(rightFold).toEqual(single);
      }),
      { seed, numRuns },
    );
  });

  it('survives a JSON round trip, as shard files do (property)', () => {
    fc.assert(
      fc.property(observations, (values) => {
        const sketch = sketchOf(values);
        expect(parseSketch(JSON.parse(JSON.stringify(sketch)))).toEqual(sketch);
      }),
      { seed, numRuns },
    );
  });

  it('does not change its inputs when merging', () => {
    const a = sketchOf([1, 2, 3]);
    const b = sketchOf([4_000, 20_000]);
    const before = JSON.stringify([a, b]);
    mergeSketches(a, b);
    expect(JSON.stringify([a, b])).toBe(before);
  });

  it('bins by lowest + i·w ≤ x < lowest + (i+1)·w, exactly at the edges', () => {
    // w = 10/3: edges 0, 3.33, 6.67, 10.
    const spec = { unit: 'x', lowest: 0, highest: 10, binCount: 3 };
    expect([0, 3, 4, 6, 7, 9].map((v) => binIndex(spec, v))).toEqual([0, 0, 1, 1, 2, 2]);
    const sketch = sketchOf([-1, 0, 9, 10, 11], spec);
    expect(sketch.binCounts).toEqual([1, 0, 1]);
    expect([sketch.underflowCount, sketch.overflowCount]).toEqual([1, 2]);
    expect([sketch.count, sketch.sum, sketch.min, sketch.max]).toEqual([5, 29, -1, 11]);
  });

  it('puts every in-range value in the bin whose edges hold it, also for large integers (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e12, max: 1e12 }),
        fc.integer({ min: 1, max: 1e12 }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (lowest, width, binCount, at) => {
          const spec = { unit: 'x', lowest, highest: lowest + width, binCount };
          const value = lowest + Math.floor(at * width);
          const i = binIndex(spec, value);
          expect(i).toBeGreaterThanOrEqual(0);
          expect(i).toBeLessThan(binCount);
          // Integer form of binEdge(i) ≤ value < binEdge(i + 1).
          expect((value - lowest) * binCount).toBeGreaterThanOrEqual(i * width);
          expect((value - lowest) * binCount).toBeLessThan((i + 1) * width);
        },
      ),
      { seed, numRuns },
    );
  });

  it('keeps constant memory: the bins do not grow with the number of observations', () => {
    const sketch = createSketch(SPEC);
    for (let i = 0; i < 100_000; i++) recordObservation(sketch, ((i * 7_919) % 12_000) - 2_000);
    expect(sketch.binCounts).toHaveLength(SPEC.binCount);
    expect(sketch.count).toBe(100_000);
  });

  it('estimates quantiles within a bin, exact at the ends, and the mean exactly', () => {
    const spec = { unit: 'x', lowest: 0, highest: 100, binCount: 10 };
    const values = Array.from({ length: 100 }, (_, i) => i); // 0..99, ten per bin
    const sketch = sketchOf(values, spec);
    expect(sketchMean(sketch)).toBe(49.5);
    expect(sketchQuantile(sketch, 0)).toBe(0);
    expect(sketchQuantile(sketch, 1)).toBe(99);
    // Rank 50 is the end of the fifth bin [40, 50): linear interpolation gives its upper edge.
    expect(sketchQuantile(sketch, 0.5)).toBe(50);
    // Rank 95 is halfway through the last bin [90, 100).
    expect(sketchQuantile(sketch, 0.95)).toBe(95);
    // Underflow spreads over [min, lowest): 10 values below 0 and 10 in [0, 10).
    const low = sketchOf(
      [
        ...Array.from({ length: 10 }, (_, i) => -100 + i),
        ...Array.from({ length: 10 }, (_, i) => i),
      ],
      spec,
    );
    expect(sketchQuantile(low, 0.25)).toBe(-100 + 0.5 * 100);
    expect(sketchQuantile(createSketch(spec), 0.5)).toBeUndefined();
    expect(sketchMean(createSketch(spec))).toBeUndefined();
    expect(binEdge(spec, 10)).toBe(100);
  });

  it('keeps every quantile estimate between min and max and monotone in q (property)', () => {
    fc.assert(
      fc.property(
        observations,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, q1, q2) => {
          fc.pre(values.length > 0);
          const sketch = sketchOf(values);
          const [lo, hi] = q1 <= q2 ? [q1, q2] : [q2, q1];
          const a = sketchQuantile(sketch, lo)!;
          const b = sketchQuantile(sketch, hi)!;
          expect(a).toBeGreaterThanOrEqual(sketch.min!);
          expect(b).toBeLessThanOrEqual(sketch.max!);
          expect(a).toBeLessThanOrEqual(b);
        },
      ),
      { seed, numRuns },
    );
  });

  it('refuses what cannot be merged or counted exactly, naming the field', () => {
    const catchError = (run: () => unknown) => {
      try {
        run();
      } catch (e) {
        expect(e).toBeInstanceOf(AnalysisInputError);
        return e as AnalysisInputError;
      }
      throw new Error('expected an error');
    };
    const other = createSketch({ ...SPEC, binCount: 8 });
    const mismatch = catchError(() => mergeSketches(createSketch(SPEC), other));
    expect(mismatch.kind).toBe('mismatch');
    expect(mismatch.message).toContain('spec.binCount differs: 7 and 8');
    expect(catchError(() => recordObservation(createSketch(SPEC), 1.5)).field).toBe('value');
    expect(catchError(() => recordObservation(sketchOf([Number.MAX_SAFE_INTEGER]), 1)).field).toBe(
      'value',
    );
    expect(catchError(() => createSketch({ ...SPEC, highest: SPEC.lowest })).field).toBe(
      'spec.highest',
    );
    expect(catchError(() => createSketch({ ...SPEC, binCount: 0 })).field).toBe('spec.binCount');
    const sketch = sketchOf([1, 2, 3]);
    expect(catchError(() => parseSketch({ ...sketch, count: 4 })).field).toBe('sketch.count');
    expect(catchError(() => parseSketch({ ...sketch, binCounts: [1] })).field).toBe(
      'sketch.binCounts',
    );
    expect(catchError(() => parseSketch({ ...sketch, sum: 'six' })).field).toBe('sketch.sum');
    expect(catchError(() => parseSketch({ ...sketch, min: null })).field).toBe('sketch.min');
  });
});

describe('a fleet where most patients score zero (issue 15)', () => {
  // 200 patients, 3 of whom stalled: alarm rates in milli per patient-year, in the fleet's
  // alarm-rate bins (0.5 a year wide). Pooled, 0.091 stalls per patient-year; per patient the
  // median and the 95th percentile are 0: a bin-interpolated median said 0.254.
  const RATE = { unit: 'milli per patient-year', lowest: 0, highest: 100_000, binCount: 200 };
  const values = [...new Array<number>(197).fill(0), 4_000, 6_100, 8_100];

  it('gives the median and the 95th percentile exactly, and the mean exactly', () => {
    const sketch = sketchOf(values, RATE);
    // The situation: the 197 zeros fill the first bin, alone.
    expect(sketch.binCounts[0]).toBe(197);
    expect(sketchQuantile(sketch, 0.5)).toBe(0);
    expect(sketchQuantile(sketch, 0.95)).toBe(0);
    expect(sketchMean(sketch)).toBe(18_200 / 200);
    expect(sketchQuantile(sketch, 1)).toBe(8_100);
    // Beyond the zeros the estimate is within one bin width (500) of an observation.
    const p99 = sketchQuantile(sketch, 0.99)!;
    expect(Math.min(...values.slice(197).map((v) => Math.abs(v - p99)))).toBeLessThanOrEqual(500);
  });

  it('keeps those figures exact across shards merged in any order, and through JSON', () => {
    const shards = [values.slice(0, 50), values.slice(50, 198), values.slice(198)];
    const merged = shards.map((s) => sketchOf(s, RATE)).reduceRight((a, b) => mergeSketches(a, b));
    const whole = sketchOf(values, RATE);
    expect(merged).toEqual(whole);
    expect(merged).toMatchObject({ min: 0, minCount: 197, max: 8_100, maxCount: 1 });
    const parsed = parseSketch(JSON.parse(JSON.stringify(merged)));
    expect(sketchQuantile(parsed, 0.5)).toBe(0);
    // A file whose counts at the extremes do not fit is refused, naming the field.
    expect(() => parseSketch({ ...merged, minCount: 200 })).toThrow(/sketch\.minCount/);
  });
});

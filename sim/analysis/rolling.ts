/**
 * Rolling-window sums over a cumulative series, such as the 24-hour rolling dose of a drug.
 *
 * Step semantics: a cumulative counter (dose delivered, volume delivered, presses made) holds the
 * value of its latest sample until the next one, and is 0 before its first sample (counters start
 * at zero when the run starts). So the sum over the window ending at t is
 *
 *     C(t) − C(t − W),  C(τ) = value of the last sample with time ≤ τ (0 if none),
 *
 * which counts exactly what was recorded in the half-open interval (t − W, t]. Step semantics was
 * chosen over interpolation because deliveries are discrete: interpolating would invent part of a
 * stroke or bolus that never happened, and the result would no longer be an exact integer when the
 * inputs are. Because C only rises at sample times, the rolling sum only rises at sample times too,
 * so its largest value over *all* t is reached at a sample: evaluating at the samples is complete.
 *
 * Pure functions over plain data; linear time (two pointers). Knows nothing about drugs or units.
 */
import { AnalysisInputError, requireFinite, requireInteger } from './inputError.js';

export interface TimeValue {
  timeMs: number;
  value: number;
}

function validateCumulative(samples: readonly TimeValue[], field: string): void {
  samples.forEach((sample, index) => {
    requireFinite(sample.timeMs, `${field}[${index}].timeMs`);
    requireFinite(sample.value, `${field}[${index}].value`);
    const previous = samples[index - 1];
    if (previous === undefined) return;
    if (sample.timeMs < previous.timeMs) {
      throw new AnalysisInputError(
        'unordered',
        `${field}[${index}].timeMs`,
        `goes back in time: ${sample.timeMs} after ${previous.timeMs}`,
      );
    }
    if (sample.value < previous.value) {
      throw new AnalysisInputError(
        'unordered',
        `${field}[${index}].value`,
        `a cumulative value may not shrink: ${sample.value} after ${previous.value}`,
      );
    }
  });
}

/**
 * For each sample, its value minus the cumulative value at `timeMs − windowMs` (step semantics).
 * Samples sharing a timestamp each get their own running value; the last of them is the full sum.
 */
export function rollingWindowSums(samples: readonly TimeValue[], windowMs: number): TimeValue[] {
  requireInteger(windowMs, 'windowMs', 1);
  validateCumulative(samples, 'samples');
  const sums: TimeValue[] = [];
  let behind = -1; // index of the last sample with time ≤ t − W, or −1 if none
  for (const sample of samples) {
    const cutoffMs = sample.timeMs - windowMs;
    while (behind + 1 < samples.length && samples[behind + 1]!.timeMs <= cutoffMs) behind++;
    const base = behind < 0 ? 0 : samples[behind]!.value;
    sums.push({ timeMs: sample.timeMs, value: sample.value - base });
  }
  return sums;
}

/** The largest rolling-window sum and the (first) time it is reached, or undefined for no samples. */
export function maxRollingWindowSum(
  samples: readonly TimeValue[],
  windowMs: number,
): TimeValue | undefined {
  let best: TimeValue | undefined;
  for (const sum of rollingWindowSums(samples, windowMs)) {
    if (best === undefined || sum.value > best.value) best = sum;
  }
  return best;
}

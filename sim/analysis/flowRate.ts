/**
 * The start-up graph of IEC 60601-2-24 (docs/sources.md §5.1): the flow rate over each sampling interval
 * Δt, from the delivered volume read off a balance, against time. The delivered volume at each
 * grid time k·Δt is interpolated linearly between the two readings around it (as the trumpet
 * analysis does, sim/analysis/trumpet.ts); the flow of interval k is (W_k − W_{k−1}) / Δt.
 * Grid times with no reading on both sides within `maxGapMs` are left out, with the intervals that
 * need them. Pure.
 */
import { DAY_MS } from '../../src/units.js';
import { requireInteger } from './inputError.js';
import type { DeliverySample } from './trumpet.js';

export interface FlowRatePoint {
  /** End of the interval, on the samples' time axis. */
  timeMs: number;
  /** Flow over (timeMs − Δt, timeMs], nL per day (fractional: interpolated readings). */
  rateNlPerDay: number;
}

/** Flow over each Δt from 0 to the last reading. Samples in time order. */
export function flowRateSeries(
  samples: readonly DeliverySample[],
  intervalMs: number,
  maxGapMs = 2 * intervalMs,
): FlowRatePoint[] {
  requireInteger(intervalMs, 'intervalMs', 1);
  const at: (number | undefined)[] = [];
  const last = samples.at(-1);
  if (last === undefined) return [];
  let i = 0;
  for (let k = 0; k * intervalMs <= last.timeMs; k++) {
    const t = k * intervalMs;
    while (i + 1 < samples.length && samples[i + 1]!.timeMs < t) i++;
    const a = samples[i]!;
    const b = samples[i + 1];
    if (a.timeMs === t) at.push(a.deliveredNl);
    else if (b !== undefined && a.timeMs < t && b.timeMs >= t && b.timeMs - a.timeMs <= maxGapMs)
      at.push(
        a.deliveredNl + ((b.deliveredNl - a.deliveredNl) * (t - a.timeMs)) / (b.timeMs - a.timeMs),
      );
    else at.push(undefined);
  }
  const points: FlowRatePoint[] = [];
  for (let k = 1; k < at.length; k++) {
    const w0 = at[k - 1];
    const w1 = at[k];
    if (w0 === undefined || w1 === undefined) continue;
    points.push({ timeMs: k * intervalMs, rateNlPerDay: ((w1 - w0) * DAY_MS) / intervalMs });
  }
  return points;
}

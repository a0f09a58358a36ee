/**
 * Flow accuracy of a simulated run: the trumpet curve of the simulated motor's true delivery.
 *
 * The trumpet method (sim/analysis/trumpet.ts) compares a cumulative delivered volume with one
 * constant programmed rate r. A run is not one constant rate: refills, reprogramming, stops and
 * the safe minimum rate change it, and patient and clinician boluses ride on the basal. So:
 *
 * 1. The true cumulative volume V(t) that left the pump is rebuilt from the trace's true reservoir
 *    volume: every fall of the reservoir between two samples is delivery, except that a refill in
 *    between changes it by (added − withdrawn), which is added back. Exact when the trace's true
 *    volume is current at each sample (see docs/reports.md on batch booking).
 * 2. The run is cut into steady periods at every event that changes the programmed basal rate or
 *    suspends it: boot, refill (a new mixture changes the rate for the same dose), prescription
 *    change, stop, resume, safe minimum rate, clock change (flex schedules follow the clock) and a
 *    cancelled bolus (its delivered part is not logged). Motor stalls do NOT cut a period: the
 *    volume a stall loses is exactly what an accuracy test must show.
 * 3. Within a period, the programmed boluses (volume spread evenly over their duration, as the
 *    pump delivers them) are subtracted from V, leaving the basal delivery to compare with r.
 *    The bolus strokes' own stroke-volume error stays in (a +2.4 % motor on a 50 µL bolus leaves
 *    1.2 µL), which is small against a day of basal; the docs say so.
 * 4. The longest steady period with a continuous (single-rate) prescription is analysed: a
 *    one-day warm-up is skipped, then up to 28 days with Δt = the trace's sampling interval and
 *    windows of 6 h, 1, 3 and 7 days (those that fit). An implant delivers well under 1 mL a day
 *    in strokes of about 0.5 µL, so the standard's windows of minutes would measure stroke
 *    quantisation, not accuracy (docs/reports.md, "Analysis period and windows for an implant").
 *
 * Pure: plain run records in, a `TrumpetResult` (or the reason there is none) out.
 */
import type { LogRecord } from '../../src/eventLog.js';
import { rateSteps } from '../../src/dosing/rates.js';
import {
  mixtureSchema,
  prescriptionSchema,
  type Mixture,
  type Prescription,
} from '../../src/therapy/schema.js';
import { DAY_MS, HOUR_MS } from '../../src/units.js';
import { analyseTrumpet, type DeliverySample, type TrumpetResult } from '../analysis/trumpet.js';

/** What the accuracy analysis reads of a trace row. */
export interface TrueReservoirSample {
  timeMs: number;
  reservoirTrueNl: number;
  therapy: string;
}

/** The warm-up skipped after the start of a steady period (the first batch is being planned). */
export const WARM_UP_MS = DAY_MS;
/** The longest analysis period: four weeks, about one refill interval. */
export const ANALYSIS_DURATION_MAX_MS = 28 * DAY_MS;
/** Observation windows for a low-rate implant; those longer than the period are dropped. */
export const RUN_TRUMPET_WINDOWS_MS: readonly number[] = [
  6 * HOUR_MS,
  DAY_MS,
  3 * DAY_MS,
  7 * DAY_MS,
];

/** Events that change or suspend the programmed basal rate: a steady period ends at each. */
const RATE_BREAKS = new Set([
  'boot',
  'refill',
  'stopped',
  'resumed',
  'minimumRate',
  'clockSet',
  'bolusCancelled',
]);

/**
 * Cumulative true volume that left the pump at each trace sample (first sample = 0).
 * Refills between two samples are added back: ΔV = (before − after) + (added − withdrawn).
 */
export function trueDeliveredVolume(
  trace: readonly TrueReservoirSample[],
  events: readonly LogRecord[],
): DeliverySample[] {
  const refills = events.filter(
    (e): e is Extract<LogRecord, { type: 'refill' }> => e.type === 'refill',
  );
  const samples: DeliverySample[] = [];
  let deliveredNl = 0;
  let next = 0; // first refill not yet accounted
  for (let i = 0; i < trace.length; i++) {
    const row = trace[i]!;
    const previous = trace[i - 1];
    if (previous === undefined) {
      // Refills up to the first sample (the initial fill) are already in its volume.
      while (next < refills.length && refills[next]!.atMs <= row.timeMs) next++;
    } else {
      deliveredNl += previous.reservoirTrueNl - row.reservoirTrueNl;
      while (next < refills.length && refills[next]!.atMs <= row.timeMs) {
        deliveredNl += refills[next]!.addedNl - refills[next]!.withdrawnNl;
        next++;
      }
    }
    samples.push({ timeMs: row.timeMs, deliveredNl });
  }
  return samples;
}

export interface SteadyPeriod {
  startMs: number;
  /** The next rate-changing event (or the end of the run). */
  endMs: number;
  /** The basal rate in force, or undefined when it is not one constant rate (flex steps, stopped, minimum rate). */
  rateNlPerDay: number | undefined;
}

/** The run cut at every rate-changing event, with the basal rate in force in each piece. */
export function steadyPeriods(events: readonly LogRecord[], runEndMs: number): SteadyPeriod[] {
  const periods: SteadyPeriod[] = [];
  let prescription: Prescription | undefined;
  let mixture: Mixture | undefined;
  let startMs = 0;
  let suspended = false; // stopped, or at the safe minimum rate
  const rate = (): number | undefined => {
    if (suspended || prescription === undefined || mixture === undefined) return undefined;
    const steps = rateSteps(prescription, mixture);
    const first = steps.ratesNlPerDay[0];
    return steps.ratesNlPerDay.every((r) => r === first) ? first : undefined;
  };
  const close = (atMs: number) => {
    if (atMs > startMs) periods.push({ startMs, endMs: atMs, rateNlPerDay: rate() });
    startMs = Math.max(startMs, atMs);
  };
  for (const e of events) {
    const prescriptionChange = e.type === 'programmed' && e.field === 'prescription';
    if (!RATE_BREAKS.has(e.type) && !prescriptionChange) continue;
    close(e.atMs);
    if (e.type === 'stopped' || e.type === 'minimumRate') suspended = true;
    else if (e.type === 'resumed') suspended = false;
    else if (e.type === 'refill') {
      const parsed = mixtureSchema.safeParse(e.mixture);
      if (parsed.success) mixture = parsed.data;
    } else if (e.type === 'programmed') {
      const parsed = prescriptionSchema.safeParse(e.new);
      prescription = parsed.success ? parsed.data : undefined;
    }
  }
  close(runEndMs);
  return periods;
}

/** The run's trumpet curve, or the reason why the run has none. */
export type RunTrumpet =
  | { ok: true; result: TrumpetResult; period: SteadyPeriod; bolusesSubtracted: number }
  | { ok: false; reason: string };

/** The most common spacing of the trace (its sampling interval). */
function samplingIntervalMs(trace: readonly { timeMs: number }[]): number | undefined {
  const counts = new Map<number, number>();
  for (let i = 1; i < trace.length; i++) {
    const gap = trace[i]!.timeMs - trace[i - 1]!.timeMs;
    if (gap > 0) counts.set(gap, (counts.get(gap) ?? 0) + 1);
  }
  let best: number | undefined;
  for (const [gap, count] of counts)
    if (
      best === undefined ||
      count > counts.get(best)! ||
      (count === counts.get(best) && gap < best)
    )
      best = gap;
  return best;
}

/**
 * The trumpet curve of a run's basal delivery over its longest steady period (module comment).
 */
export function runTrumpet(
  trace: readonly TrueReservoirSample[],
  events: readonly LogRecord[],
  runEndMs: number,
): RunTrumpet {
  const intervalMs = samplingIntervalMs(trace);
  if (intervalMs === undefined)
    return { ok: false, reason: 'the trace has fewer than two samples' };
  const shortest = RUN_TRUMPET_WINDOWS_MS[0]!;
  if (shortest % intervalMs !== 0)
    return {
      ok: false,
      reason: `the trace interval (${intervalMs} ms) does not divide the shortest window (${shortest} ms)`,
    };
  const candidates = steadyPeriods(events, runEndMs)
    .filter((p) => p.rateNlPerDay !== undefined && p.rateNlPerDay > 0)
    .map((p) => {
      const startMs = Math.ceil((p.startMs + WARM_UP_MS) / intervalMs) * intervalMs;
      // End one sample before the next change: the sample at the change already shows it.
      const lastMs = Math.floor((p.endMs - intervalMs) / intervalMs) * intervalMs;
      const durationMs =
        Math.floor(Math.min(ANALYSIS_DURATION_MAX_MS, lastMs - startMs) / intervalMs) * intervalMs;
      return { period: p, startMs, durationMs };
    })
    .filter((c) => c.durationMs >= shortest)
    // Longest first; among equals the earliest, so the choice is deterministic.
    .sort((a, b) => b.durationMs - a.durationMs || a.startMs - b.startMs);
  const chosen = candidates[0];
  if (chosen === undefined) {
    return {
      ok: false,
      reason: `no period of constant basal rate lasts ${WARM_UP_MS / HOUR_MS} h of warm-up plus ${shortest / HOUR_MS} h`,
    };
  }
  const { period, startMs, durationMs } = chosen;
  const endMs = startMs + durationMs;
  const rows = trace.filter((r) => r.timeMs >= period.startMs && r.timeMs <= endMs);
  const interrupted = rows.find((r) => r.timeMs >= startMs && !r.therapy.startsWith('infusing'));
  if (interrupted)
    return {
      ok: false,
      reason: `therapy was "${interrupted.therapy}" at ${interrupted.timeMs} ms inside the steady period`,
    };

  const boluses = events.filter(
    (e): e is Extract<LogRecord, { type: 'bolusStarted' }> =>
      e.type === 'bolusStarted' && e.atMs < endMs && e.atMs + e.durationMs > period.startMs,
  );
  const bolusNlBy = (t: number) =>
    boluses.reduce(
      (sum, b) => sum + b.volumeNl * Math.min(1, Math.max(0, (t - b.atMs) / b.durationMs)),
      0,
    );
  const delivered = trueDeliveredVolume(trace, events).filter(
    (s) => s.timeMs >= period.startMs && s.timeMs <= endMs,
  );
  const basal = delivered.map((s) => ({
    timeMs: s.timeMs,
    deliveredNl: s.deliveredNl - bolusNlBy(s.timeMs),
  }));
  const result = analyseTrumpet(basal, {
    programmedRateNlPerDay: period.rateNlPerDay!,
    sampleIntervalMs: intervalMs,
    analysisStartMs: startMs,
    analysisDurationMs: durationMs,
    windowsMs: RUN_TRUMPET_WINDOWS_MS.filter((w) => w <= durationMs && w % intervalMs === 0),
  });
  return { ok: true, result, period, bolusesSubtracted: boluses.length };
}

/**
 * Exact accounting of programmed against delivered volume, and the stroke planner.
 *
 * Units: a "fine" unit is 1/DAY_MS nanolitre, so a rate of R nL/day adds exactly R fine units per
 * millisecond and every sum is an integer. `owedFine` is the programmed volume not yet delivered;
 * the planner keeps it within one stroke (−stroke < owed ≤ stroke), which is the guarantee
 * "delivered volume stays within one stroke of the programmed cumulative volume" (REQ-DOS-1).
 *
 * The planner commands a batch of strokes at a constant interval. The interval is rounded down, so
 * stroke j of a batch comes at most j ms early and never late; the batch length is bounded so that
 * this drift stays below one stroke of volume.
 *
 * Two drug-path features shape the programme (docs/drug-path.md):
 * - a priming bolus *replaces* the basal rate while it runs: its volume is exactly the dead volume,
 *   so the drug is at the catheter tip when it ends, and basal volume pushed during it would only
 *   push the drug past the tip early;
 * - a bridge after a drug change *overrides* the basal schedule with the old one until the new
 *   mixture reaches the tip (`ProgrammeSteps.override`); boluses still add on top of it.
 * Pure functions over plain data.
 */
import { assert } from '../assert.js';
import { batchDurationMsMax, strokesPerBatchMax } from '../constants.js';
import { DAY_MS } from '../units.js';
import { stepIndexAt, timeOfDayMs, type RateSteps } from './rates.js';

export const FINE_PER_NL = DAY_MS;

export type BolusKind = 'patient' | 'clinician' | 'priming';

/**
 * A bolus. Patient and clinician boluses are superimposed on the basal rate; a priming bolus
 * replaces it (`bolusReplacesBasal`). Its end time and rate are fixed when it starts.
 */
export interface ActiveBolus {
  kind: BolusKind;
  startMs: number;
  volumeNl: number;
  /** Integer rate, rounded down from volume ÷ duration. */
  rateNlPerDay: number;
  /** When the bolus's programmed volume is complete. */
  endMs: number;
}

export function startBolus(
  kind: ActiveBolus['kind'],
  startMs: number,
  volumeNl: number,
  durationMs: number,
): ActiveBolus {
  assert(volumeNl > 0 && durationMs > 0, 'a bolus has volume and duration');
  const rateNlPerDay = Math.max(1, Math.floor((volumeNl * DAY_MS) / durationMs));
  const endMs = startMs + Math.ceil((volumeNl * DAY_MS) / rateNlPerDay);
  return { kind, startMs, volumeNl, rateNlPerDay, endMs };
}

/**
 * A bolus of `volumeNl` at (at most) `rateNlPerDay`: the duration is rounded up to a whole ms and
 * the rate then follows from it, so the rate never exceeds the one asked for.
 */
export function startBolusAtRate(
  kind: BolusKind,
  startMs: number,
  volumeNl: number,
  rateNlPerDay: number,
): ActiveBolus {
  assert(volumeNl > 0 && rateNlPerDay > 0, 'a bolus has volume and rate');
  return startBolus(kind, startMs, volumeNl, Math.ceil((volumeNl * DAY_MS) / rateNlPerDay));
}

/** A priming bolus runs instead of the basal rate, not on top of it. */
export function bolusReplacesBasal(bolus: ActiveBolus): boolean {
  return bolus.kind === 'priming';
}

/** Fine units of the bolus programmed from its start up to `t`: exactly volume × DAY_MS at its end. */
export function bolusFineAt(
  bolus: Pick<ActiveBolus, 'startMs' | 'rateNlPerDay' | 'volumeNl'>,
  t: number,
): number {
  // Nothing before the start; the whole volume from the end on (rate × (end − start) ≥ volume by construction).
  return Math.min(
    Math.max(0, bolus.rateNlPerDay * (t - bolus.startMs)),
    bolus.volumeNl * FINE_PER_NL,
  );
}

/** A basal schedule that runs instead of the prescription's until `untilMs` (exclusive): a bridge. */
export interface BasalOverride {
  readonly steps: RateSteps;
  readonly untilMs: number;
}

/** The basal schedule in force: the prescription's steps, and an override while a bridge runs. */
export interface ProgrammeSteps extends RateSteps {
  readonly override?: BasalOverride | undefined;
}

/** What is programmed, as the controller's delivery mode sees it. */
export interface Programme {
  mode: 'off' | 'basal' | 'minimum';
  steps: ProgrammeSteps | undefined;
  minimumRateNlPerDay: number;
  bolus: ActiveBolus | undefined;
  rtcOffsetMs: number;
}

/** The rate of a plain schedule at `t`, and until when it holds (infinite for a single step). */
function scheduleRateAt(
  steps: RateSteps,
  t: number,
  rtcOffsetMs: number,
): { rateNlPerDay: number; untilMs: number } {
  const tod = timeOfDayMs(t + rtcOffsetMs);
  const index = stepIndexAt(steps, tod);
  const untilMs =
    steps.startsMs.length > 1
      ? t + ((steps.startsMs[index + 1] ?? DAY_MS) - tod)
      : Number.POSITIVE_INFINITY;
  return { rateNlPerDay: steps.ratesNlPerDay[index]!, untilMs };
}

/** The basal rate at `t`: the override's schedule before its end, then the prescription's. */
export function basalRateAt(
  steps: ProgrammeSteps,
  t: number,
  rtcOffsetMs: number,
): { rateNlPerDay: number; untilMs: number } {
  const o = steps.override;
  if (o !== undefined && t < o.untilMs) {
    const r = scheduleRateAt(o.steps, t, rtcOffsetMs);
    return { rateNlPerDay: r.rateNlPerDay, untilMs: Math.min(r.untilMs, o.untilMs) };
  }
  return scheduleRateAt(steps, t, rtcOffsetMs);
}

/** The rate in force at `t`, and until when it stays in force (exclusive). */
export function rateAt(p: Programme, t: number): { rateNlPerDay: number; untilMs: number } {
  if (p.mode === 'off') return { rateNlPerDay: 0, untilMs: Number.POSITIVE_INFINITY };
  if (p.mode === 'minimum')
    return { rateNlPerDay: p.minimumRateNlPerDay, untilMs: Number.POSITIVE_INFINITY };
  assert(p.steps !== undefined, 'basal mode needs a schedule');
  const b = p.bolus;
  if (b && bolusReplacesBasal(b) && t >= b.startMs && t < b.endMs)
    return { rateNlPerDay: b.rateNlPerDay, untilMs: b.endMs };
  const basal = basalRateAt(p.steps, t, p.rtcOffsetMs);
  let rate = basal.rateNlPerDay;
  let until = basal.untilMs;
  if (b && t < b.startMs) {
    until = Math.min(until, b.startMs);
  } else if (b && t < b.endMs) {
    rate += b.rateNlPerDay;
    until = Math.min(until, b.endMs);
  }
  return { rateNlPerDay: rate, untilMs: until };
}

/** Fine units programmed over [fromMs, toMs): the integral of the basal steps plus the bolus. */
export function programmedFine(p: Programme, fromMs: number, toMs: number): number {
  assert(toMs >= fromMs, () => `time went back: ${toMs} < ${fromMs}`);
  if (p.mode === 'off') return 0;
  if (p.mode === 'minimum') return p.minimumRateNlPerDay * (toMs - fromMs);
  const basalOnly: Programme = { ...p, bolus: undefined };
  const b = p.bolus;
  // A priming bolus replaces the basal rate: no basal is programmed while it runs.
  const pieces: [number, number][] =
    b && bolusReplacesBasal(b)
      ? [
          [fromMs, Math.min(toMs, b.startMs)],
          [Math.max(fromMs, b.endMs), toMs],
        ]
      : [[fromMs, toMs]];
  let fine = 0;
  for (const [from, to] of pieces) {
    let t = from;
    for (let guard = 0; t < to; guard++) {
      assert(guard < 64, 'programmedFine: more schedule steps than a settle interval allows');
      const { rateNlPerDay, untilMs } = rateAt(basalOnly, t);
      const end = Math.min(untilMs, to);
      fine += rateNlPerDay * (end - t);
      t = end;
    }
  }
  if (b) fine += bolusFineAt(b, toMs) - bolusFineAt(b, fromMs);
  return fine;
}

export interface BatchPlan {
  count: number;
  leadMs: number;
  intervalMs: number;
  rateNlPerDay: number;
}

export interface PlanInput {
  nowMs: number;
  owedFine: number;
  strokeVolumeNl: number;
  rateNlPerDay: number;
  /** Strokes must fall strictly before this time (the rate may change there). */
  horizonMs: number;
  /** Most strokes the reservoir estimate allows before the next threshold. */
  strokesMax: number;
}

/**
 * The strokes due in [now, horizon) at a constant rate, as one batch, or undefined when none is.
 * Stroke k is due when the programmed volume reaches k strokes beyond what is owed now.
 */
export function planBatch(input: PlanInput): BatchPlan | undefined {
  const { nowMs, owedFine, strokeVolumeNl, rateNlPerDay: rate, horizonMs } = input;
  const strokeFine = strokeVolumeNl * FINE_PER_NL;
  // Owed may be negative: early strokes put delivery ahead by part of a stroke, and a motor that
  // ran ahead (a rig with a fast clock) by more; the first stroke then waits until it is due.
  assert(owedFine <= strokeFine, () => `owed volume above a stroke: ${owedFine}`);
  // No rate, no stroke. A horizon at or before now, or no stroke allowed, leaves `count` at 0 below.
  if (rate <= 0) return undefined;
  const span = Math.min(horizonMs, nowMs + batchDurationMsMax) - nowMs;
  const reachable = Math.floor(((span - 1) * rate + owedFine) / strokeFine);
  // The interval is rounded down by `rem / rate` ms, so stroke j comes at most (j − 1)·rem/rate + 1 ms
  // early: keep rate·(that) below one stroke. An exact interval (rem = 0) drifts not at all, and a
  // fine remainder allows long batches: few batches even for fast boluses (each is kept 24 h).
  const rem = strokeFine % rate;
  const driftBound =
    rem === 0 ? strokesPerBatchMax : Math.max(1, Math.floor((strokeFine - rate - 1) / rem) + 1);
  const count = Math.min(reachable, driftBound, input.strokesMax, strokesPerBatchMax);
  if (count <= 0) return undefined;
  const leadMs = Math.max(0, Math.ceil((strokeFine - owedFine) / rate));
  const intervalMs = Math.max(1, Math.floor(strokeFine / rate));
  return { count, leadMs, intervalMs, rateNlPerDay: rate };
}

/** The time of stroke `j` (1-based) of a batch started at `startMs`. */
export function strokeTimeMs(
  batch: { startMs: number; leadMs: number; intervalMs: number },
  j: number,
): number {
  return batch.startMs + batch.leadMs + (j - 1) * batch.intervalMs;
}

/** How many of a batch's first `strokes` strokes fall at or before `t`. */
export function strokesBy(
  batch: { startMs: number; leadMs: number; intervalMs: number },
  strokes: number,
  t: number,
): number {
  const first = batch.startMs + batch.leadMs;
  if (t < first) return 0;
  return Math.min(strokes, Math.floor((t - first) / batch.intervalMs) + 1);
}

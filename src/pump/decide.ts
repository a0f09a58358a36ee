/**
 * The controller's decisions, as pure functions from (context, event) to a new context and the
 * effects to carry out. The statechart (src/machine.ts) only routes events to these functions and
 * assigns their results; nothing here knows XState, the HAL or a time source.
 *
 * Every step starts by settling the dose accounting up to the event's time, so that a change of
 * rate, mode or clock takes effect exactly at the moment it happens.
 */
import { alarmCatalogue, isCritical, type AlarmCode } from '../alarms.js';
import { assert } from '../assert.js';
import { recentBatchesMax, rollingWindowMs } from '../constants.js';
import {
  FINE_PER_NL,
  planBatch,
  programmedFine,
  rateAt,
  startBolus,
  strokesBy,
  type Programme,
  type ProgrammeSteps,
} from '../dosing/delivery.js';
import { worstCaseMixture } from '../dosing/limits.js';
import { bridgeRemainingFine, bridgeWithBolus, reanchoredBridge } from '../dosing/bridge.js';
import { forwardCapExcess, type CapExcess, type StrokeRun } from '../dosing/dailyCap.js';
import type { LogBody } from '../eventLog.js';
import type { Mixture } from '../therapy/schema.js';
import { dosePg, PG_PER_NG } from '../units.js';
import type { DenyReason, Effect, PumpContext, PumpEvent, RunningBatch } from './types.js';

/** A working copy of the context plus the effects a step produced. */
export class Step {
  readonly effects: Effect[] = [];
  readonly ctx: PumpContext;

  constructor(context: PumpContext) {
    this.ctx = { ...context };
  }

  log(body: LogBody): void {
    this.effects.push({ type: 'log', body });
  }

  emit(effect: Effect): void {
    this.effects.push(effect);
  }

  /** The programme changed: a running batch is obsolete and must be re-planned. */
  reprogrammed(): void {
    this.ctx.programmeVersion++;
  }
}

/**
 * The safe minimum rate for the mixture in the reservoir: the pump model's rate, lowered where a
 * day of it would carry more than half a drug's hard daily maximum (a concentrated mixture at the
 * fixed minimum volume can be an overdose: 48 µL of 5 mg/mL sufentanil is 240 µg, above 200 µg).
 * Half, because the window it runs in may already hold earlier delivery. While a bridge runs, the
 * drug path's mixtures count too: the minimum rate pushes them first (FOUND-BUGS #15). Unknown
 * contents (after a memory error) keep the model's rate.
 */
export function safeMinimumRateNlPerDay(ctx: PumpContext): number {
  let rate = ctx.config.safeMinimumRateNlPerDay;
  for (const d of worstCaseMixture(ctx.mixture, ctx.bridge?.pathMixture)) {
    const limits = ctx.library.drugs.find((l) => l.drug === d.drug);
    if (limits)
      rate = Math.min(
        rate,
        Math.floor((limits.dailyDoseNgHardMax * PG_PER_NG) / d.concentrationUgPerMl / 2),
      );
  }
  return rate;
}

export function programmeOf(ctx: PumpContext): Programme {
  return {
    mode: ctx.mode,
    steps: ctx.steps,
    // Stryker disable next-line ConditionalExpression: equivalent, the minimum rate is read only in minimum mode (computed only there, for speed)
    minimumRateNlPerDay:
      ctx.mode === 'minimum' ? safeMinimumRateNlPerDay(ctx) : ctx.config.safeMinimumRateNlPerDay,
    bolus: ctx.bolus,
    rtcOffsetMs: ctx.rtcOffsetMs,
  };
}

/** What `settle` writes: a step that changed nothing else only moved the accounting on in time. */
export const settledFields: ReadonlySet<keyof PumpContext> = new Set([
  'nowMs',
  'settledAtMs',
  'owedFine',
]);

/** Bring the programmed-volume accounting up to `nowMs`. Idempotent. */
export function settle(step: Step, nowMs: number): void {
  const c = step.ctx;
  assert(nowMs >= c.settledAtMs, () => `event time ${nowMs} before settled time ${c.settledAtMs}`);
  c.owedFine += programmedFine(programmeOf(c), c.settledAtMs, nowMs);
  c.settledAtMs = nowMs;
  c.nowMs = nowMs;
}

export function settleOnly(context: PumpContext, event: PumpEvent): Step {
  const step = new Step(context);
  settle(step, event.nowMs);
  return step;
}

// ---------------------------------------------------------------------------------------------
// Patient presses.

/** Per drug, picograms delivered in (now − 24 h, now], counting strokes at their own times. */
export function deliveredPgLast24h(ctx: PumpContext, nowMs: number): Map<string, number> {
  const cutoff = nowMs - rollingWindowMs;
  const byDrug = new Map<string, number>();
  const add = (mixture: Mixture, strokes: number) => {
    const volumeNl = strokes * ctx.config.strokeVolumeNl;
    for (const d of mixture)
      byDrug.set(d.drug, (byDrug.get(d.drug) ?? 0) + dosePg(volumeNl, d.concentrationUgPerMl));
  };
  for (const b of ctx.recentBatches) add(b.mixture, b.strokes - strokesBy(b, b.strokes, cutoff));
  const running = ctx.batch;
  if (running)
    add(
      running.mixture,
      strokesBy(running, running.count, nowMs) - strokesBy(running, running.count, cutoff),
    );
  return byDrug;
}

function grantsInWindow(ctx: PumpContext, nowMs: number): number {
  const cutoff = nowMs - rollingWindowMs;
  let n = 0;
  for (const t of ctx.grantsMs) if (t > cutoff) n++;
  return n;
}

/**
 * The mixture the pump assumes reaches the patient: the reservoir's, and while a bridge runs, per
 * drug the highest concentration the drug path may still hold (REQ-LIM-7). A bolus pushes the
 * path's contents first, so after a change to a weaker or different mixture the old drug arrives at
 * bolus speed. Boluses are judged on it, the safe minimum rate is lowered for it, and strokes
 * delivered during a bridge are counted as it in the 24-hour dose (FOUND-BUGS #14–#16).
 */
export function tipMixtureWorstCase(ctx: PumpContext): Mixture {
  assert(ctx.mixture !== undefined, 'the tip mixture asked without a mixture');
  return ctx.bridge?.pathMixture
    ? worstCaseMixture(ctx.mixture, ctx.bridge.pathMixture)
    : ctx.mixture;
}

/** Per drug, whether one PTM bolus judged on the worst-case tip mixture is above its hard bolus maximum. */
function ptmBolusAboveHardMax(ctx: PumpContext): boolean {
  return tipMixtureWorstCase(ctx).some((d) => {
    const limits = ctx.library.drugs.find((l) => l.drug === d.drug);
    return (
      limits !== undefined &&
      dosePg(ctx.ptmBolusNl, d.concentrationUgPerMl) > limits.bolusDoseNgHardMax * PG_PER_NG
    );
  });
}

/**
 * The one reason a press is denied at `nowMs`, in a fixed order of precedence, or undefined when it
 * is granted (REQ-PTM-5). Each reason is a fact of that moment:
 * - stopped: the pump is not infusing (stopped, halted, starting up);
 * - reservoirEmpty: the reservoir estimate is at or below the empty threshold;
 * - criticalAlarm: a critical alarm is active (or the pump runs at the safe minimum rate);
 * - noPtm: no patient-bolus settings are programmed;
 * - lockout: less than the lockout has passed since the last bolus started, or a bolus is running;
 * - count24h: the boluses granted in the last 24 hours have reached the programmed maximum;
 * - bolusDoseCap: while a bridge runs, the bolus would push a drug still in the drug path above its
 *   hard bolus maximum (the PTM bolus was checked against the reservoir's mixture when programmed);
 * - dailyDoseCap: this bolus would take a drug's dose in the last 24 hours past its hard maximum.
 */
export function pressDenial(ctx: PumpContext, nowMs: number): DenyReason | undefined {
  if (ctx.mode === 'off') return 'stopped';
  if (ctx.reservoirNl <= ctx.config.emptyReservoirNl) return 'reservoirEmpty';
  if (ctx.mode === 'minimum' || ctx.alarms.some((a) => isCritical(a.code))) return 'criticalAlarm';
  if (ctx.ptm === undefined || ctx.mixture === undefined || ctx.ptmBolusNl <= 0) return 'noPtm';
  if (nowMs < ctx.lockoutUntilMs || ctx.bolus !== undefined) return 'lockout';
  if (grantsInWindow(ctx, nowMs) >= ctx.ptm.bolusesPer24hMax) return 'count24h';
  if (ptmBolusAboveHardMax(ctx)) return 'bolusDoseCap';
  if (dailyCapExcess(withNewBolus(ctx, nowMs, 'patient', ctx.ptmBolusNl, ctx.ptm.bolusDurationMs)))
    return 'dailyDoseCap';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The forward daily cap (REQ-LIM-6, src/dosing/dailyCap.ts) on the context a decision leaves.

/** The strokes the pump has done, as it counts them: finished batches, then the running one so far. */
export function strokeHistory(ctx: PumpContext, nowMs: number): StrokeRun[] {
  const runs: StrokeRun[] = ctx.recentBatches.map((b) => ({
    firstMs: b.startMs + b.leadMs,
    intervalMs: b.intervalMs,
    strokes: b.strokes,
    mixture: b.mixture,
  }));
  const running = ctx.batch;
  if (running)
    runs.push({
      firstMs: running.startMs + running.leadMs,
      intervalMs: running.intervalMs,
      strokes: strokesBy(running, running.count, nowMs),
      mixture: running.mixture,
    });
  return runs;
}

/**
 * The forward cap on a context settled to its `nowMs`: the first window a drug would pass its hard
 * daily maximum in. The programme is judged as it runs once infusing (a stopped pump resumes
 * later, and delivers less by then); at the safe minimum rate both rates are judged.
 */
export function dailyCapExcess(c: PumpContext): CapExcess | undefined {
  const running = c.batch;
  const doneFine = running
    ? strokesBy(running, running.count, c.nowMs) * c.config.strokeVolumeNl * FINE_PER_NL
    : 0;
  const programme = programmeOf(c);
  const infusing: Programme = c.steps
    ? { ...programme, mode: 'basal', steps: resumedSteps(c, c.steps) }
    : programme;
  return forwardCapExcess({
    library: c.library,
    nowMs: c.nowMs,
    strokeVolumeNl: c.config.strokeVolumeNl,
    history: strokeHistory(c, c.nowMs),
    owedFine: c.owedFine - doneFine,
    programmes: c.mode === 'minimum' && c.steps ? [programme, infusing] : [infusing],
    mixture: c.mixture === undefined ? [] : tipMixtureWorstCase(c),
  });
}

/**
 * The basal schedule once therapy is back at its basal rate: a paused bridge then resumes with
 * what it has left to push, at the old schedule (seed 20: a drug change at the safe minimum rate
 * was judged as if the bridge had already ended, and a day of strong drug was let through).
 */
function resumedSteps(c: PumpContext, steps: ProgrammeSteps): ProgrammeSteps {
  const b = c.bridge;
  if (b?.pausedRateNlPerDay === undefined) return steps;
  const left = bridgeRemainingFine(b, c.rtcOffsetMs, c.nowMs);
  // Stryker disable next-line ConditionalExpression: equivalent, a bridge with nothing left re-anchors to an override ending now
  if (left === 0) return steps;
  const resumed = reanchoredBridge(b, c.rtcOffsetMs, c.nowMs, left, undefined);
  return { ...steps, override: { steps: resumed.steps, untilMs: resumed.endMs } };
}

/**
 * The context a new patient or clinician bolus would leave at `nowMs`: settled, the bolus running,
 * and a running bridge pushed on by it (as the drugPath region then counts it).
 */
export function withNewBolus(
  ctx: PumpContext,
  nowMs: number,
  kind: 'patient' | 'clinician',
  volumeNl: number,
  durationMs: number,
): PumpContext {
  const step = new Step(ctx);
  settle(step, nowMs);
  const c = step.ctx;
  c.bolus = startBolus(kind, nowMs, volumeNl, durationMs);
  const b = c.bridge;
  if (b !== undefined && b.pausedRateNlPerDay === undefined && c.steps) {
    c.bridge = bridgeWithBolus(b, c.rtcOffsetMs, c.bolus);
    c.steps = { ...c.steps, override: { steps: c.bridge.steps, untilMs: c.bridge.endMs } };
  }
  return c;
}

export function grantPress(context: PumpContext, event: PumpEvent): Step {
  const step = settleOnly(context, event);
  const c = step.ctx;
  const now = event.nowMs;
  assert(c.ptm !== undefined, 'a granted press needs PTM settings');
  c.bolus = startBolus('patient', now, c.ptmBolusNl, c.ptm.bolusDurationMs);
  c.lockoutUntilMs = now + c.ptm.lockoutMs;
  c.grantsMs = [...c.grantsMs.filter((t) => t > now - rollingWindowMs), now];
  step.reprogrammed();
  step.emit({ type: 'tone', pattern: 'pressGranted' });
  step.log({ type: 'pressGranted', bolusNl: c.ptmBolusNl });
  step.log({
    type: 'bolusStarted',
    kind: 'patient',
    volumeNl: c.ptmBolusNl,
    durationMs: c.ptm.bolusDurationMs,
  });
  return step;
}

export function denyPress(context: PumpContext, event: PumpEvent): Step {
  const step = settleOnly(context, event);
  const reason = pressDenial(step.ctx, event.nowMs);
  assert(reason !== undefined, 'denyPress on a press that would be granted');
  step.emit({ type: 'tone', pattern: 'pressDenied' });
  step.log({ type: 'pressDenied', reason });
  return step;
}

export function finishBolus(context: PumpContext, event: PumpEvent): Step {
  const step = settleOnly(context, event);
  const b = step.ctx.bolus;
  if (b) step.log({ type: 'bolusFinished', kind: b.kind, volumeNl: b.volumeNl });
  step.ctx.bolus = undefined;
  step.reprogrammed();
  return step;
}

export function bolusComplete(ctx: PumpContext, nowMs = ctx.nowMs): boolean {
  return ctx.bolus !== undefined && nowMs >= ctx.bolus.endMs;
}

// ---------------------------------------------------------------------------------------------
// Modes.

/**
 * Drop what a blocked pump owes beyond one stroke as missed: no catch-up bolus once delivery can
 * go on (REQ-MOT-2). Called where a blockage ends: the retry after a stall, a refill of a reservoir
 * estimate below one stroke, a restart. Nowhere else: while the pump can deliver, more than a
 * stroke is owed only in the millisecond a stroke falls due at a batch's end, and that volume is
 * due, not missed (FOUND-BUGS #25).
 */
export function clampOwed(step: Step): void {
  const excessFine = Math.max(0, step.ctx.owedFine - step.ctx.config.strokeVolumeNl * FINE_PER_NL);
  step.ctx.missedFine += excessFine;
  step.ctx.owedFine -= excessFine;
}

export function enterMode(context: PumpContext, event: PumpEvent, mode: PumpContext['mode']): Step {
  const step = settleOnly(context, event);
  const c = step.ctx;
  if (c.bolus && mode !== 'basal') {
    step.log({
      type: 'bolusCancelled',
      kind: c.bolus.kind,
      reason: mode === 'off' ? 'stopped' : 'safe minimum rate',
    });
    c.bolus = undefined;
  }
  // A stop while stopped keeps the first stop's time (the long-stop warning counts from it).
  c.stoppedSinceMs = mode === 'off' ? (c.stoppedSinceMs ?? event.nowMs) : undefined;
  if (c.mode !== mode) {
    // Owed volume is kept across a stop: the strokes of the batch being stopped are still to be
    // reported and were programmed before the stop. Nothing accrues while off.
    c.mode = mode;
    step.reprogrammed();
  }
  return step;
}

// ---------------------------------------------------------------------------------------------
// Alarms.

export function raiseAlarm(step: Step, code: AlarmCode): void {
  const c = step.ctx;
  if (c.alarms.some((a) => a.code === code)) return;
  const def = alarmCatalogue[code];
  c.alarms = [...c.alarms, { code, raisedAtMs: c.nowMs, nextToneMs: c.nowMs + def.repeatMs }];
  step.emit({ type: 'tone', pattern: def.tone });
  step.log({ type: 'alarmRaised', code, priority: def.priority });
}

/** Is the condition behind an alarm still true? A latched alarm is cleared only once it is not. */
export function alarmConditionHolds(
  ctx: PumpContext,
  code: AlarmCode,
  motorStalled: boolean,
): boolean {
  switch (code) {
    case 'lowReservoir':
      return ctx.reservoirNl <= ctx.config.lowReservoirNl;
    case 'emptyReservoir':
      return ctx.reservoirNl <= ctx.config.emptyReservoirNl;
    case 'motorStall':
      return motorStalled;
    case 'memoryError':
      // Cleared once the clinician has reprogrammed a prescription (which rewrites the record).
      return ctx.prescription === undefined;
    case 'batteryEri':
      return ctx.battery !== 'ok';
    case 'batteryEos':
      return ctx.battery === 'eos';
    case 'lowBatteryReset':
      return false;
  }
}

export function soundDueAlarms(context: PumpContext, event: PumpEvent): Step {
  const step = settleOnly(context, event);
  const now = event.nowMs;
  step.ctx.alarms = step.ctx.alarms.map((a) => {
    if (a.nextToneMs > now) return a;
    const def = alarmCatalogue[a.code];
    step.emit({ type: 'tone', pattern: def.tone });
    const periods = Math.floor((now - a.nextToneMs) / def.repeatMs) + 1;
    return { ...a, nextToneMs: a.nextToneMs + periods * def.repeatMs };
  });
  return step;
}

export function checkReservoirAlarms(step: Step): void {
  const c = step.ctx;
  if (c.reservoirNl <= c.config.lowReservoirNl) raiseAlarm(step, 'lowReservoir');
  if (c.reservoirNl <= c.config.emptyReservoirNl) raiseAlarm(step, 'emptyReservoir');
}

// ---------------------------------------------------------------------------------------------
// Motor batches.

/** How many strokes the estimate allows before it reaches the next alarm threshold (or empty). */
export function strokesBeforeThreshold(ctx: PumpContext): number {
  const { strokeVolumeNl: s, lowReservoirNl, emptyReservoirNl } = ctx.config;
  const r = ctx.reservoirNl;
  let limit = Math.floor(r / s);
  for (const threshold of [lowReservoirNl, emptyReservoirNl]) {
    if (r > threshold) limit = Math.min(limit, Math.ceil((r - threshold) / s));
  }
  return limit;
}

/** The batch the motor should start now, or undefined when no stroke is due before the horizon. */
export function nextBatch(ctx: PumpContext): {
  plan: ReturnType<typeof planBatch>;
  horizonMs: number;
} {
  const { rateNlPerDay, untilMs } = rateAt(programmeOf(ctx), ctx.nowMs);
  const strokeFine = ctx.config.strokeVolumeNl * FINE_PER_NL;
  // After a stall, one stroke at a time: the first that completes proves the motor turns again,
  // rather than a day-long batch at the safe minimum rate.
  const strokesMax = ctx.stall
    ? Math.min(1, strokesBeforeThreshold(ctx))
    : strokesBeforeThreshold(ctx);
  const plan = planBatch({
    nowMs: ctx.nowMs,
    owedFine: Math.min(ctx.owedFine, strokeFine), // may be negative: ahead by part of a stroke
    strokeVolumeNl: ctx.config.strokeVolumeNl,
    rateNlPerDay,
    horizonMs: untilMs,
    strokesMax,
  });
  // A whole stroke owed is due at once while the pump is not stopped, whatever the rate: the last
  // stroke of a bolus falls due at its very end, where a zero basal plans nothing (FOUND-BUGS #19).
  // More than a stroke owed (a stroke fell due in the millisecond a batch ended) is that stroke
  // alone, now; the next batch is planned from what it leaves, so no later stroke is late (#25).
  const wholeStrokeDue =
    ctx.owedFine > strokeFine || (plan === undefined && ctx.owedFine >= strokeFine);
  if (wholeStrokeDue && ctx.mode !== 'off' && strokesMax > 0)
    return { plan: { count: 1, leadMs: 0, intervalMs: 1, rateNlPerDay }, horizonMs: untilMs };
  return { plan, horizonMs: untilMs };
}

export function strokesDue(ctx: PumpContext): boolean {
  return nextBatch(ctx).plan !== undefined;
}

export function startBatch(context: PumpContext, event: PumpEvent): Step {
  const step = settleOnly(context, event);
  const c = step.ctx;
  if (c.stall) clampOwed(step); // the retry: what the stalled motor could not deliver is missed
  const { plan } = nextBatch(c);
  assert(plan !== undefined, 'startBatch without a plan');
  const batch: RunningBatch = {
    batchId: c.nextBatchId,
    count: plan.count,
    leadMs: plan.leadMs,
    intervalMs: plan.intervalMs,
    startMs: c.nowMs,
    rateNlPerDay: plan.rateNlPerDay,
    version: c.programmeVersion,
    // After a memory error the contents are unknown: strokes are counted, doses not attributed.
    // During a bridge, strokes count as the worst the path may push (FOUND-BUGS #16).
    mixture: c.mixture === undefined ? [] : tipMixtureWorstCase(c),
  };
  c.batch = batch;
  c.nextBatchId++;
  step.emit({
    type: 'motor.deliver',
    batch: {
      batchId: batch.batchId,
      count: batch.count,
      leadMs: batch.leadMs,
      intervalMs: batch.intervalMs,
    },
  });
  return step;
}

export function batchObsolete(ctx: PumpContext): boolean {
  return ctx.batch !== undefined && ctx.batch.version !== ctx.programmeVersion;
}

export function stopBatch(context: PumpContext, event: PumpEvent): Step {
  const step = settleOnly(context, event);
  step.emit({ type: 'motor.stop' });
  return step;
}

export function isCurrentBatchReport(ctx: PumpContext, event: PumpEvent): boolean {
  return event.type === 'hal.motor.batchEnded' && event.batchId === ctx.batch?.batchId;
}

/** Account the strokes a batch completed: the only way volume leaves the reservoir estimate. */
export function recordBatch(context: PumpContext, event: PumpEvent): Step {
  const step = settleOnly(context, event);
  assert(event.type === 'hal.motor.batchEnded', 'recordBatch on a batch report');
  const c = step.ctx;
  const batch = c.batch;
  assert(batch !== undefined && batch.batchId === event.batchId, 'report for the running batch');
  const strokes = Math.min(event.strokesDone, batch.count);
  c.deliveredStrokes += strokes;
  c.owedFine -= strokes * c.config.strokeVolumeNl * FINE_PER_NL;
  // Strokes done before a refill left the old contents, which the refill replaced.
  const fromThisFill = Math.max(0, strokes - (batch.strokesBeforeRefill ?? 0));
  c.reservoirNl = Math.max(0, c.reservoirNl - fromThisFill * c.config.strokeVolumeNl);
  const cutoff = c.nowMs - rollingWindowMs;
  const recent = c.recentBatches.filter(
    (b) => b.startMs + b.leadMs + (b.strokes - 1) * b.intervalMs > cutoff,
  );
  if (strokes > 0)
    recent.push({
      startMs: batch.startMs,
      leadMs: batch.leadMs,
      intervalMs: batch.intervalMs,
      strokes,
      mixture: batch.mixture,
    });
  c.recentBatches = recent.slice(-recentBatchesMax); // the newest, when there are more
  c.batch = undefined;
  // Strokes may come a little early (the planner rounds intervals down), so the pump may be ahead
  // of the programme by less than a stroke; that lead is kept, never thrown away, or delivery
  // would creep above the prescription with every batch. A motor that ran a stroke or more ahead
  // (a rig whose clock runs fast) is a fault of the world: logged, and the lead is kept, so the
  // next strokes wait until the programme has caught up.
  const strokeFine = c.config.strokeVolumeNl * FINE_PER_NL;
  if (c.owedFine <= -strokeFine)
    step.log({ type: 'deliveryAhead', volumeNl: Math.floor(-c.owedFine / FINE_PER_NL) });
  if (c.stall && event.reason === 'completed' && strokes > 0) {
    step.log({ type: 'motorRecovered', stalledForMs: c.nowMs - c.stall.sinceMs });
    c.stall = undefined;
  }
  checkReservoirAlarms(step);
  return step;
}

export function recordStall(context: PumpContext, event: PumpEvent): Step {
  const step = recordBatch(context, event);
  assert(event.type === 'hal.motor.batchEnded', 'recordStall on a batch report');
  const c = step.ctx;
  const attempts = (c.stall?.attempts ?? 0) + 1;
  c.stall = {
    sinceMs: c.stall?.sinceMs ?? c.nowMs,
    attempts,
    retryAtMs: c.nowMs + c.config.stallRetryMs,
  };
  step.log({ type: 'motorStall', attempt: attempts, strokesDone: event.strokesDone });
  if (attempts >= c.config.stallAttemptsMax) raiseAlarm(step, 'motorStall');
  return step;
}

export function stallRetryDue(ctx: PumpContext, nowMs = ctx.nowMs): boolean {
  return ctx.stall !== undefined && nowMs >= ctx.stall.retryAtMs;
}

/**
 * A report that the motor did not do what it was told: a stall, a lost link, or a batch "completed"
 * with fewer strokes than commanded (a driver or rig that contradicts itself, FOUND-BUGS #26).
 * Taken as done, the last would leave the volume owed and the next stroke commanded at once, over
 * and over: a catch-up burst. A stopped batch is short by design.
 */
export function reportedStall(ctx: PumpContext, event: PumpEvent): boolean {
  if (event.type !== 'hal.motor.batchEnded') return false;
  if (event.reason === 'stalled' || event.reason === 'linkLost') return true;
  return (
    event.reason === 'completed' && ctx.batch !== undefined && event.strokesDone < ctx.batch.count
  );
}

/** The volume programmed up to `t`, in whole nL: delivered, owed and missed (for reports). */
export function programmedNlAt(ctx: PumpContext, t: number): number {
  const pending = programmedFine(programmeOf(ctx), ctx.settledAtMs, Math.max(ctx.settledAtMs, t));
  return (
    ctx.deliveredStrokes * ctx.config.strokeVolumeNl +
    Math.floor((ctx.owedFine + ctx.missedFine + pending) / FINE_PER_NL)
  );
}

/** Missed volume in whole nanolitres (for reports). */
export function missedNl(ctx: PumpContext): number {
  return Math.floor(ctx.missedFine / FINE_PER_NL);
}

/**
 * Clinician commands and start-up, as pure decisions. A refused command changes nothing but the
 * log record that names the field, the value and the limit (REQ-CMD-1).
 *
 * The drug path (docs/drug-path.md §6) adds three things here:
 * - the refill workflow checks a new mixture's dose-rate increase once the catheter clears, and
 *   starts a bridge: the old schedule runs until the pump estimates the new mixture reached the
 *   tip. The bridge is a volume: a bolus pushes it faster (its end moves earlier), a stop or the
 *   safe minimum rate pauses it (it resumes with what is left), a clock change re-reads a flex
 *   schedule. Its end lives in `ctx.bridge`; `derive()` turns it into the schedule's override;
 * - the priming bolus: the dead volume at a high rate, instead of the basal rate, only with an
 *   explicit statement that the catheter holds no drug;
 * - the refill log record names the discrepancy threshold it applied.
 */
import { isCritical } from '../alarms.js';
import { assert } from '../assert.js';
import {
  checkBolusDose,
  capRefusal,
  checkTherapy,
  refusal,
  softLimitsPassed,
  worstCaseMixture,
  type Refusal,
} from '../dosing/limits.js';
import { dailyVolumeNl, primaryDrug, rateSteps, type RateSteps } from '../dosing/rates.js';
import { startBolus, startBolusAtRate } from '../dosing/delivery.js';
import {
  doseRateIncreaseFactor,
  drugsNeedingConfirmation,
  bridgeRemainingFine,
  bridgeWithBolus,
  reanchoredBridge,
  scheduleDailyFine,
  scheduleReachesMs,
  type DoseRateChange,
} from '../dosing/bridge.js';
import { drugPathVolumeNlMax, sameMixture } from '../dosing/catheter.js';
import { primingRateNlPerDayDefault } from '../dosing/priming.js';
import {
  clinicianBolusSchema,
  deadVolumeNlOf,
  mixtureSchema,
  prescriptionSchema,
  ptmSchema,
  type Bridge,
  type Mixture,
  type Prescription,
  type PtmSettings,
} from '../therapy/schema.js';
import {
  DAY_MS,
  formatDoseNg,
  formatFieldValue,
  formatMl,
  PG_PER_NG,
  volumeNlForDoseNg,
} from '../units.js';
import {
  alarmConditionHolds,
  clampOwed,
  strokesBeforeThreshold,
  tipMixtureWorstCase,
  checkReservoirAlarms,
  dailyCapExcess,
  withNewBolus,
  raiseAlarm,
  safeMinimumRateNlPerDay,
  settle,
  settleOnly,
  Step,
} from './decide.js';
import { FINE_PER_NL, strokesBy } from '../dosing/delivery.js';
import { longStopMs, rateNlPerDayMax } from '../constants.js';
import type { PumpContext, PumpEvent } from './types.js';
import type { z } from 'zod';

function refuse(context: PumpContext, event: PumpEvent, r: Refusal): Step {
  const step = settleOnly(context, event);
  step.log({ type: 'refused', command: event.type, ...r });
  return step;
}

/** A zod failure as a refusal naming the first offending field. */
function schemaRefusal(prefix: string, error: z.ZodError, value: unknown): Refusal {
  const issue = error.issues[0]!;
  const field = [prefix, ...issue.path.map(String)].join('.');
  let shown: unknown = value;
  for (const key of issue.path)
    shown = (shown as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
  const limit = issue.message;
  const written = formatFieldValue(field, shown);
  return {
    rule: 'state',
    field,
    value: written,
    limit,
    message: `${field}: ${written} is invalid: ${issue.message}`,
  };
}

function derive(c: PumpContext): void {
  const steps = c.prescription && c.mixture ? rateSteps(c.prescription, c.mixture) : undefined;
  c.steps =
    steps && c.bridge && !c.bridge.washoutOnly
      ? { ...steps, override: { steps: c.bridge.steps, untilMs: c.bridge.endMs } }
      : steps;
  c.ptmBolusNl =
    c.ptm && c.mixture
      ? volumeNlForDoseNg(c.ptm.bolusDoseNg, primaryDrug(c.mixture).concentrationUgPerMl)
      : 0;
}

type ProgramEvent = Extract<PumpEvent, { type: 'cmd.program' }>;

/** Parse and check a programming command; the new prescription and PTM, or the refusal. */
export function checkProgram(
  ctx: PumpContext,
  event: ProgramEvent,
): Refusal | { prescription: Prescription | undefined; ptm: PtmSettings | undefined } {
  let prescription = ctx.prescription;
  let ptm = ctx.ptm;
  if (event.prescription !== undefined) {
    const parsed = prescriptionSchema.safeParse(event.prescription);
    if (!parsed.success) return schemaRefusal('prescription', parsed.error, event.prescription);
    prescription = parsed.data;
  }
  if (event.ptm !== undefined) {
    if (event.ptm === null) ptm = undefined;
    else {
      const parsed = ptmSchema.safeParse(event.ptm);
      if (!parsed.success) return schemaRefusal('ptm', parsed.error, event.ptm);
      ptm = parsed.data;
    }
  }
  if (ctx.mixture === undefined)
    return refusal(
      'state',
      'mixture',
      'none',
      'a filled reservoir',
      'programming before the first fill:',
    );
  if (prescription === undefined)
    return refusal('state', 'prescription', 'none', 'a prescription', 'PTM settings without');
  const r = checkTherapy({
    strokeVolumeNl: ctx.config.strokeVolumeNl,
    library: ctx.library,
    mixture: ctx.mixture,
    prescription,
    ptm,
    confirmed: event.confirm === true,
  });
  return r ?? { prescription, ptm };
}

export function program(context: PumpContext, event: PumpEvent): Step {
  assert(event.type === 'cmd.program', 'program on cmd.program');
  const checked = checkProgram(context, event);
  if ('rule' in checked) return refuse(context, event, checked);
  const step = settleOnly(context, event);
  const c = step.ctx;
  if (event.prescription !== undefined)
    step.log({
      type: 'programmed',
      field: 'prescription',
      old: c.prescription ?? null,
      new: checked.prescription,
    });
  if (event.ptm !== undefined)
    step.log({ type: 'programmed', field: 'ptm', old: c.ptm ?? null, new: checked.ptm ?? null });
  if (event.confirm === true && c.mixture && checked.prescription)
    for (const r of softLimitsPassed({
      strokeVolumeNl: c.config.strokeVolumeNl,
      library: c.library,
      mixture: c.mixture,
      prescription: checked.prescription,
      ptm: checked.ptm,
      confirmed: true,
    }))
      step.log({
        type: 'softLimitConfirmed',
        command: 'cmd.program',
        field: r.field,
        value: r.value,
        limit: r.limit,
      });
  c.prescription = checked.prescription;
  c.ptm = checked.ptm;
  // A washout is pushed by the prescription's schedule: it follows the new one from now.
  const w = c.bridge;
  if (w?.washoutOnly && c.mixture && checked.prescription) {
    const steps = rateSteps(checked.prescription, c.mixture);
    const moved = {
      ...w,
      steps: { startsMs: [...steps.startsMs], ratesNlPerDay: [...steps.ratesNlPerDay] },
    };
    c.bridge =
      w.pausedRateNlPerDay === undefined
        ? reanchoredBridge(
            moved,
            c.rtcOffsetMs,
            c.nowMs,
            bridgeRemainingFine(w, c.rtcOffsetMs, c.nowMs),
            undefined,
          )
        : moved;
  }
  derive(c);
  if (event.prescription !== undefined) {
    const r = changeCapRefusal(context, event, c, 'prescription.doseNgPerDay');
    if (r) return refuse(context, event, r);
  }
  step.reprogrammed();
  return step;
}

/**
 * A reprogramming or a refill with a new mixture is refused when it would take a 24-hour window
 * past a drug's hard maximum that the pump without it stays within (REQ-LIM-6): the last day's
 * boluses count against a new basal. A change cannot make worse what the pump already heads for
 * without it (only a critical alarm's safe minimum rate changes the programme undecided), and a
 * change that lowers the dose must stay possible then.
 */
function changeCapRefusal(
  before: PumpContext,
  event: PumpEvent,
  after: PumpContext,
  field: string,
): Refusal | undefined {
  const excess = dailyCapExcess(after);
  if (excess === undefined || dailyCapExcess(settleOnly(before, event).ctx) !== undefined)
    return undefined;
  return capRefusal(excess, event.nowMs, field, 'with this change');
}

type RefillEvent = Extract<PumpEvent, { type: 'cmd.refill' }>;

/** The schedule and mixture the catheter tip delivers now: a running bridge's, else the prescription's. */
function tipSchedule(ctx: PumpContext): { steps: RateSteps; mixture: Mixture } | undefined {
  if (ctx.bridge && !ctx.bridge.washoutOnly)
    return { steps: ctx.bridge.steps, mixture: ctx.bridge.oldMixture };
  if (ctx.prescription === undefined || ctx.mixture === undefined) return undefined;
  const steps = rateSteps(ctx.prescription, ctx.mixture);
  return { steps, mixture: ctx.bridge?.oldMixture ?? ctx.mixture };
}

/** ×1.250 for 1 250 000 ppm (display only). */
const formatFactor = (ppm: number) => `×${(ppm / 1_000_000).toFixed(3)}`;

/**
 * Per drug, the dose rate at the tip now and once the new mixture has cleared the catheter, and the
 * drugs whose increase passes the configured factor (all of them new drugs or above the limit).
 * Undefined when no limit is configured, nothing is programmed, or the mixture does not change.
 */
export function doseRateIncreases(
  ctx: PumpContext,
  mixture: Mixture,
):
  | { changes: readonly DoseRateChange[]; needing: readonly string[]; limitPpm: number }
  | undefined {
  const limitPpm = ctx.config.doseRateIncreasePpmMax;
  const tip = tipSchedule(ctx);
  if (
    limitPpm === undefined ||
    tip === undefined ||
    ctx.prescription === undefined ||
    sameMixture(tip.mixture, mixture)
  )
    return undefined;
  const oldRate = dailyVolumeNl(tip.steps);
  const newRate = dailyVolumeNl(rateSteps(ctx.prescription, mixture));
  if (oldRate > rateNlPerDayMax || newRate > rateNlPerDayMax) return undefined; // refused by the therapy checks
  const changes = doseRateIncreaseFactor(tip.mixture, oldRate, mixture, newRate);
  return { changes, needing: drugsNeedingConfirmation(changes, limitPpm), limitPpm };
}

function doseRateRefusal(mixture: Mixture, change: DoseRateChange, limitPpm: number): Refusal {
  const i = mixture.findIndex((d) => d.drug === change.drug);
  const field = `mixture[${i}].concentrationUgPerMl`;
  const value =
    change.increaseFactorPpm === null
      ? 'a drug new to the mixture'
      : formatFactor(change.increaseFactorPpm);
  const limit = `dose-rate increase of ${formatFactor(limitPpm)} without confirmation`;
  const rates = `${formatDoseNg(change.oldDoseRatePgPerDay / PG_PER_NG)}/day → ${formatDoseNg(change.newDoseRatePgPerDay / PG_PER_NG)}/day`;
  return {
    rule: 'soft',
    field,
    value,
    limit,
    message: `${field}: ${change.drug} dose rate at the catheter tip ${rates} once the old mixture has cleared (${value}) exceeds the ${limit}; confirm to proceed`,
  };
}

/** The refill's volumes and options: whole nanolitres, within the reservoir's capacity. */
function refillVolumesRefusal(ctx: PumpContext, event: RefillEvent): Refusal | undefined {
  const cap = ctx.config.reservoirCapacityNl;
  for (const field of ['withdrawnNl', 'addedNl'] as const) {
    const v = event[field];
    if (!Number.isSafeInteger(v) || v < 0)
      return refusal('state', field, String(v), 'a whole number of nanolitres ≥ 0', `${field}`);
  }
  if (event.addedNl > cap)
    return refusal(
      'hard',
      'addedNl',
      formatMl(event.addedNl),
      `reservoir capacity, ${formatMl(cap)}`,
      'fill volume',
    );
  if (event.bridge !== undefined && typeof event.bridge !== 'boolean')
    return refusal(
      'state',
      'bridge',
      JSON.stringify(event.bridge),
      'true or false',
      'bridge option',
    );
  return undefined;
}

/** The mixture the refill leaves in the reservoir, or why it cannot be filled. */
function refillMixture(ctx: PumpContext, event: RefillEvent): Refusal | Mixture {
  if (event.mixture === undefined)
    return (
      ctx.mixture ??
      refusal('state', 'mixture', 'none', 'a mixture for the first fill', 'first fill without')
    );
  const parsed = mixtureSchema.safeParse(event.mixture);
  if (!parsed.success) return schemaRefusal('mixture', parsed.error, event.mixture);
  // A bolus keeps its volume once started: a new concentration under it would change its dose.
  if (
    ctx.bolus !== undefined &&
    (ctx.mixture === undefined || !sameMixture(ctx.mixture, parsed.data))
  )
    return refusal(
      'state',
      'mixture',
      `a ${ctx.bolus.kind} bolus is running`,
      'no bolus running during a change of mixture',
      'state',
    );
  return parsed.data;
}

export function checkRefill(ctx: PumpContext, event: RefillEvent): Refusal | { mixture: Mixture } {
  const volumes = refillVolumesRefusal(ctx, event);
  if (volumes) return volumes;
  const mixture = refillMixture(ctx, event);
  if ('rule' in mixture) return mixture;
  // Soft limits were confirmed when the therapy was programmed; a refill with the same mixture does
  // not ask again. A new mixture changes every drug's dose and is checked in full. With no
  // prescription yet, the mixture itself must still be in the library and within concentration.
  const same = JSON.stringify(mixture) === JSON.stringify(ctx.mixture);
  const r = checkTherapy({
    strokeVolumeNl: ctx.config.strokeVolumeNl,
    library: ctx.library,
    mixture,
    prescription: ctx.prescription ?? { mode: 'continuous', doseNgPerDay: 0 },
    ptm: ctx.prescription === undefined ? undefined : ctx.ptm,
    confirmed: ctx.prescription === undefined || event.confirm === true || same,
  });
  if (r) return r;
  // A new mixture that raises a drug's dose rate at the tip beyond the configured factor, once the
  // catheter clears, needs an explicit confirmation (docs/sources.md F5).
  const increases = doseRateIncreases(ctx, mixture);
  const first = increases?.changes.find((c) => increases.needing.includes(c.drug));
  if (increases && first && event.confirm !== true)
    return doseRateRefusal(mixture, first, increases.limitPpm);
  return { mixture };
}

/**
 * A refill: the clinician empties the reservoir (measuring what was withdrawn) and adds a volume,
 * possibly of a new mixture. The estimate becomes the added volume; a withdrawn volume that differs
 * from the estimate by more than the configured share is logged as a discrepancy (docs/sources.md F6).
 * A new mixture starts a bridge unless the clinician declines it (`bridge: false`).
 */
export function refill(context: PumpContext, event: PumpEvent): Step {
  assert(event.type === 'cmd.refill', 'refill on cmd.refill');
  const checked = checkRefill(context, event);
  if ('rule' in checked) return refuse(context, event, checked);
  const step = settleOnly(context, event);
  const c = step.ctx;
  // An estimate below one stroke blocked delivery: what it could not deliver is missed (REQ-MOT-2).
  if (c.batch === undefined && strokesBeforeThreshold(c) === 0) clampOwed(step);
  const inFlight = c.batch
    ? strokesBy(c.batch, c.batch.count, event.nowMs) - (c.batch.strokesBeforeRefill ?? 0)
    : 0;
  const before = Math.max(0, c.reservoirNl - inFlight * c.config.strokeVolumeNl);
  const discrepancyNl = event.withdrawnNl - before;
  const flagged =
    Math.abs(discrepancyNl) * 100 > c.config.refillDiscrepancyPercentMax * Math.max(before, 1) &&
    before > 0;
  step.log({
    type: 'refill',
    withdrawnNl: event.withdrawnNl,
    addedNl: event.addedNl,
    estimateBeforeNl: before,
    discrepancyNl,
    discrepancyFlagged: flagged,
    mixture: checked.mixture,
    discrepancyLimitPercent: c.config.refillDiscrepancyPercentMax,
  });
  const increases = doseRateIncreases(c, checked.mixture);
  if (increases && increases.needing.length > 0) {
    step.log({
      type: 'doseRateIncreaseConfirmed',
      limitPpm: increases.limitPpm,
      drugs: increases.changes
        .filter((x) => increases.needing.includes(x.drug))
        .map((x) => ({ drug: x.drug, increaseFactorPpm: x.increaseFactorPpm })),
    });
  }
  const tip = tipSchedule(c);
  const previous = c.mixture;
  const changed = previous !== undefined && !sameMixture(previous, checked.mixture);
  c.reservoirNl = event.addedNl;
  if (c.batch)
    c.batch = { ...c.batch, strokesBeforeRefill: strokesBy(c.batch, c.batch.count, event.nowMs) };
  c.mixture = checked.mixture;
  if (changed) startBridge(step, tip, previous, event.bridge !== false);
  derive(c);
  if (changed) {
    const r = changeCapRefusal(context, event, c, 'mixture');
    if (r) return refuse(context, event, r);
  }
  step.reprogrammed();
  // A fill at or below the low threshold is low at once: the low alarm must not wait for the
  // first batch to run down to empty (and come with the empty alarm).
  checkReservoirAlarms(step);
  return step;
}

/** Where a refill leaves the drug path: its bridge kept as it was, none, or a new one. */
export type RefillPath = 'kept' | 'unbridged' | 'flowing' | 'waiting';

/** The drug path after a refill (the drugPath region's target), from the bridge before and after. */
export function pathAfterRefill(before: Bridge | undefined, after: Bridge | undefined): RefillPath {
  if (after === before) return 'kept';
  if (after === undefined) return 'unbridged';
  return after.pausedRateNlPerDay === undefined ? 'flowing' : 'waiting';
}

// ---------------------------------------------------------------------------------------------
// The bridge after a drug change.

/**
 * What a paused bridge is pushed by: nothing when stopped, and at the minimum the rate the pump
 * truly runs there, lowered for the mixture (FOUND-BUGS #12: the model's rate overstated it).
 */
function pauseRateNlPerDay(c: PumpContext): number | undefined {
  if (c.mode === 'basal') return undefined;
  return c.mode === 'minimum' ? safeMinimumRateNlPerDay(c) : 0;
}

/**
 * A drug change: keep the schedule the tip runs on now until the path's volume has been pushed, or
 * log why not. The volume is the configured dead volume: the pump assumes the path holds what it
 * delivers now (a second change before the first cleared pushes the whole path again).
 */
function startBridge(
  step: Step,
  tip: { steps: RateSteps; mixture: Mixture } | undefined,
  previous: Mixture,
  wanted: boolean,
): void {
  const c = step.ctx;
  const deadVolumeNl = deadVolumeNlOf(c.config);
  const reason = !wanted
    ? 'declined'
    : deadVolumeNl === undefined
      ? 'catheter not recorded'
      : deadVolumeNl === 0
        ? 'empty path'
        : tip === undefined || scheduleDailyFine(tip.steps) === 0
          ? 'no basal'
          : undefined;
  const earlierPath = c.bridge?.pathMixture;
  c.bridge = undefined;
  if (reason === undefined && tip !== undefined && deadVolumeNl !== undefined) {
    openBridge(step, { ...tip, previous, earlierPath, volumeNl: deadVolumeNl, washoutOnly: false });
    return;
  }
  const newSteps = c.prescription && c.mixture ? rateSteps(c.prescription, c.mixture) : undefined;
  const at =
    deadVolumeNl !== undefined && newSteps
      ? scheduleReachesMs(newSteps, c.rtcOffsetMs, c.nowMs, deadVolumeNl * FINE_PER_NL)
      : undefined;
  step.log({
    type: 'bridgeSkipped',
    reason: reason ?? 'no basal',
    newMixtureAtTipAfterMs: at === undefined ? null : at - c.nowMs,
  });
  // The path still holds what it held: until it has been pushed, at the new schedule, strokes
  // count as the worst it may hold (FOUND-BUGS #23: a skipped bridge counted them as the new
  // mixture, and the old, stronger one reached the tip at the new rate past its hard maximum).
  if (deadVolumeNl !== undefined && deadVolumeNl > 0)
    openBridge(step, {
      steps: newSteps ?? { startsMs: [0], ratesNlPerDay: [0] },
      mixture: tip?.mixture ?? previous,
      previous,
      earlierPath,
      volumeNl: deadVolumeNl,
      washoutOnly: true,
    });
}

/**
 * A bridge over the drug path's volume: on the old schedule, or (a washout) on the new one, only
 * counting the path's stronger drugs until it has been pushed. A patient or clinician bolus still
 * running pushes the path with what it programs from now.
 */
function openBridge(
  step: Step,
  o: {
    steps: RateSteps;
    mixture: Mixture;
    previous: Mixture;
    earlierPath: Mixture | undefined;
    volumeNl: number;
    washoutOnly: boolean;
  },
): void {
  const c = step.ctx;
  const now = c.nowMs;
  const worst = worstCaseMixture(o.mixture, o.previous, o.earlierPath);
  const pathMixture = stronger(worst, c.mixture ?? []);
  if (o.washoutOnly && pathMixture.length === 0) return; // nothing stronger to count
  const steps = { startsMs: [...o.steps.startsMs], ratesNlPerDay: [...o.steps.ratesNlPerDay] };
  const bolus = c.bolus && c.bolus.kind !== 'priming' ? c.bolus : undefined;
  const start: Bridge = {
    startMs: now,
    volumeNl: o.volumeNl,
    steps,
    oldMixture: o.mixture,
    remainingFine: o.volumeNl * FINE_PER_NL,
    anchorMs: now,
    endMs: now,
    pathMixture,
    ...(bolus && { bolusCountedStartMs: bolus.startMs }),
    ...(o.washoutOnly && { washoutOnly: true as const }),
  };
  const pushing = bolus && {
    startMs: bolus.startMs,
    volumeNl: bolus.volumeNl,
    rateNlPerDay: bolus.rateNlPerDay,
    endMs: bolus.endMs,
  };
  const b = reanchoredBridge(
    start,
    c.rtcOffsetMs,
    now,
    start.remainingFine,
    pauseRateNlPerDay(c),
    pushing,
  );
  c.bridge = b;
  step.log({
    type: 'bridgeStarted',
    volumeNl: o.volumeNl,
    endMs: b.endMs,
    oldRateNlPerDay: dailyVolumeNl(steps),
    oldMixture: o.mixture,
    newMixture: c.mixture,
    pathMixture,
    paused: b.pausedRateNlPerDay !== undefined,
    ...(o.washoutOnly && { washoutOnly: true }),
  });
}

/** The drugs of `mixture` stronger than in `than` (or not in it). */
function stronger(mixture: Mixture, than: Mixture): Mixture {
  return mixture.filter(
    (d) =>
      d.concentrationUgPerMl > (than.find((r) => r.drug === d.drug)?.concentrationUgPerMl ?? 0),
  );
}

function adjustBridge(
  step: Step,
  reason: 'bolus' | 'paused' | 'resumed' | 'clockSet',
  b: Bridge,
): void {
  const c = step.ctx;
  c.bridge = b;
  derive(c);
  step.reprogrammed();
  step.log({
    type: 'bridgeAdjusted',
    reason,
    endMs: b.endMs,
    remainingNl: Math.ceil(b.remainingFine / FINE_PER_NL),
  });
}

/**
 * A patient or clinician bolus the bridge has not yet counted: it pushes the path too. Counted
 * bolus by bolus, not by time: a bolus granted in the same millisecond as the refill that started
 * the bridge counts as well.
 */
export function bridgeBolusDue(ctx: PumpContext): boolean {
  const b = ctx.bridge;
  return (
    b !== undefined &&
    b.pausedRateNlPerDay === undefined &&
    ctx.bolus !== undefined &&
    ctx.bolus.kind !== 'priming' &&
    ctx.bolus.startMs !== b.bolusCountedStartMs
  );
}

/** The bolus pushes the path as fast as it goes: the bridge ends earlier, as the bolus is programmed. */
export function bridgeAfterBolus(context: PumpContext, event: PumpEvent): Step {
  const step = settleOnly(context, event);
  const c = step.ctx;
  const b = c.bridge;
  assert(
    b !== undefined && c.bolus !== undefined && bridgeBolusDue(c),
    'bridgeAfterBolus without a new bolus in a bridge',
  );
  assert(
    c.bolus.startMs >= b.anchorMs,
    () => `a bolus from ${c.bolus?.startMs} uncounted by a bridge anchored at ${b.anchorMs}`,
  );
  const atStart = bridgeWithBolus(b, c.rtcOffsetMs, c.bolus);
  adjustBridge(step, 'bolus', atStart);
  return step;
}

export function bridgePaused(ctx: PumpContext): boolean {
  return ctx.bridge?.pausedRateNlPerDay !== undefined;
}

/** Therapy is not at its basal rate, and the bridge does not yet wait at the rate that now pushes it. */
export function bridgePauseDue(ctx: PumpContext): boolean {
  const rate = pauseRateNlPerDay(ctx);
  return ctx.bridge !== undefined && rate !== undefined && ctx.bridge.pausedRateNlPerDay !== rate;
}

export function bridgeResumeDue(ctx: PumpContext): boolean {
  return bridgePaused(ctx) && ctx.mode === 'basal';
}

/** Therapy left the basal mode (stopped, halted, safe minimum rate): the bridge waits. */
export function pauseBridge(context: PumpContext, event: PumpEvent): Step {
  const step = settleOnly(context, event);
  const c = step.ctx;
  const b = c.bridge;
  const rate = pauseRateNlPerDay(c);
  assert(b !== undefined && rate !== undefined, 'pauseBridge without a bridge to pause');
  adjustBridge(
    step,
    'paused',
    reanchoredBridge(
      b,
      c.rtcOffsetMs,
      c.nowMs,
      bridgeRemainingFine(b, c.rtcOffsetMs, c.nowMs),
      rate,
    ),
  );
  return step;
}

/** Therapy is back at the basal rate: the bridge runs on with what the pause left of it. */
export function resumeBridge(context: PumpContext, event: PumpEvent): Step {
  const step = settleOnly(context, event);
  const c = step.ctx;
  const b = c.bridge;
  assert(
    b !== undefined && b.pausedRateNlPerDay !== undefined,
    'resumeBridge without a paused bridge',
  );
  adjustBridge(
    step,
    'resumed',
    reanchoredBridge(
      b,
      c.rtcOffsetMs,
      c.nowMs,
      bridgeRemainingFine(b, c.rtcOffsetMs, c.nowMs),
      undefined,
    ),
  );
  return step;
}

/** The pump estimates the new mixture has reached the tip: the bridge is over. */
export function bridgeOver(ctx: PumpContext, nowMs = ctx.nowMs): boolean {
  const b = ctx.bridge;
  if (b === undefined) return false;
  return b.pausedRateNlPerDay !== undefined
    ? bridgeRemainingFine(b, ctx.rtcOffsetMs, nowMs) === 0
    : nowMs >= b.endMs;
}

export function finishBridge(context: PumpContext, event: PumpEvent): Step {
  const step = settleOnly(context, event);
  const c = step.ctx;
  const b = c.bridge;
  assert(b !== undefined, 'finishBridge without a bridge');
  step.log({ type: 'bridgeFinished', startedAtMs: b.startMs, volumeNl: b.volumeNl });
  c.bridge = undefined;
  derive(c);
  step.reprogrammed();
  return step;
}

// ---------------------------------------------------------------------------------------------
// The priming bolus.

type PrimingEvent = Extract<PumpEvent, { type: 'cmd.primingBolus' }>;

/** The priming bolus a command asks for: the dead volume plus the margin, at its rate. */
function primingPlan(
  ctx: PumpContext,
  event: PrimingEvent,
): Refusal | { volumeNl: number; rateNlPerDay: number } {
  const rate = event.rateNlPerDay ?? ctx.config.primingRateNlPerDay ?? primingRateNlPerDayDefault;
  if (!Number.isSafeInteger(rate) || rate < 1 || rate > rateNlPerDayMax)
    return refusal(
      'hard',
      'primingBolus.rateNlPerDay',
      String(rate),
      `pump's flow range, 1 to ${rateNlPerDayMax} nL/day`,
      'priming rate',
    );
  const marginNl = event.marginNl ?? 0;
  if (!Number.isSafeInteger(marginNl) || marginNl < 0 || marginNl > drugPathVolumeNlMax)
    return refusal(
      'state',
      'primingBolus.marginNl',
      String(marginNl),
      `a whole number of nanolitres from 0 to ${drugPathVolumeNlMax}`,
      'priming margin',
    );
  if (event.confirm !== true) {
    return {
      rule: 'state',
      field: 'primingBolus.confirm',
      value: String(event.confirm ?? false),
      limit: 'an explicit confirmation that the catheter holds no drug',
      message:
        'primingBolus.confirm: a priming bolus pushes the whole catheter volume at a high rate; confirm that the catheter holds no drug (after implant or a catheter revision)',
    };
  }
  const deadVolumeNl = deadVolumeNlOf(ctx.config);
  if (deadVolumeNl === undefined)
    return refusal(
      'state',
      'pumpConfig.catheterLengthCm',
      'not recorded',
      'a recorded catheter (length and volume per cm)',
      'catheter',
    );
  const volumeNl = deadVolumeNl + marginNl;
  if (volumeNl === 0)
    return refusal('state', 'primingBolus', '0 nL', 'a drug path of some volume', 'priming volume');
  return { volumeNl, rateNlPerDay: rate };
}

export function primingBolusRefusal(ctx: PumpContext, event: PumpEvent): Refusal | undefined {
  assert(event.type === 'cmd.primingBolus', 'priming bolus check');
  const plan = primingPlan(ctx, event);
  if ('rule' in plan) return plan;
  if (ctx.mode !== 'basal' || ctx.bolus !== undefined || ctx.mixture === undefined)
    return refusal(
      'state',
      'therapy',
      ctx.bolus ? 'a bolus is running' : 'not infusing',
      'infusing with no bolus running',
      'state',
    );
  if (ctx.bridge !== undefined)
    return refusal(
      'state',
      'therapy',
      'a bridge after a drug change is running',
      'no bridge running',
      'state',
    );
  if (ctx.alarms.some((a) => isCritical(a.code)))
    return refusal('state', 'alarms', 'critical alarm active', 'no critical alarm', 'state');
  if (ctx.reservoirNl - plan.volumeNl < ctx.config.emptyReservoirNl)
    return refusal(
      'state',
      'primingBolus',
      formatMl(plan.volumeNl),
      `reservoir above empty, ${formatMl(Math.max(0, ctx.reservoirNl - ctx.config.emptyReservoirNl))} available`,
      'priming volume',
    );
  return undefined;
}

/** A priming bolus replaces the basal rate until the dead volume has been pushed (no patient lockout). */
export function startPrimingBolus(context: PumpContext, event: PumpEvent): Step {
  assert(event.type === 'cmd.primingBolus', 'priming bolus');
  const step = settleOnly(context, event);
  const c = step.ctx;
  const plan = primingPlan(c, event);
  assert(!('rule' in plan), 'startPrimingBolus on a refused command');
  c.bolus = startBolusAtRate('priming', event.nowMs, plan.volumeNl, plan.rateNlPerDay);
  step.reprogrammed();
  step.log({
    type: 'bolusStarted',
    kind: 'priming',
    volumeNl: plan.volumeNl,
    durationMs: c.bolus.endMs - c.bolus.startMs,
  });
  return step;
}

export function refusePrimingBolus(context: PumpContext, event: PumpEvent): Step {
  const r = primingBolusRefusal(context, event);
  assert(r !== undefined, 'refusePrimingBolus without a reason');
  return refuse(context, event, r);
}

export function clinicianBolusRefusal(ctx: PumpContext, event: PumpEvent): Refusal | undefined {
  assert(event.type === 'cmd.clinicianBolus', 'clinician bolus check');
  const parsed = clinicianBolusSchema.safeParse({
    doseNg: event.doseNg,
    durationMs: event.durationMs,
  });
  if (!parsed.success)
    return schemaRefusal('clinicianBolus', parsed.error, {
      doseNg: event.doseNg,
      durationMs: event.durationMs,
    });
  if (ctx.mode !== 'basal' || ctx.bolus !== undefined || ctx.mixture === undefined)
    return refusal(
      'state',
      'therapy',
      ctx.bolus ? 'a bolus is running' : 'not infusing',
      'infusing with no bolus running',
      'state',
    );
  if (ctx.alarms.some((a) => isCritical(a.code)))
    return refusal('state', 'alarms', 'critical alarm active', 'no critical alarm', 'state');
  const volumeNl = volumeNlForDoseNg(
    parsed.data.doseNg,
    primaryDrug(ctx.mixture).concentrationUgPerMl,
  );
  if (volumeNl <= 0)
    return refusal(
      'state',
      'clinicianBolus.doseNg',
      String(parsed.data.doseNg),
      'at least one nanolitre of solution',
      'dose',
    );
  if (ctx.reservoirNl - volumeNl < ctx.config.emptyReservoirNl)
    return refusal(
      'state',
      'clinicianBolus.doseNg',
      formatMl(volumeNl),
      `reservoir above empty, ${formatMl(ctx.reservoirNl - ctx.config.emptyReservoirNl)} available`,
      'bolus volume',
    );
  const flowNlPerDay =
    Math.ceil((volumeNl * DAY_MS) / parsed.data.durationMs) +
    (ctx.steps ? Math.max(...ctx.steps.ratesNlPerDay) : 0);
  if (flowNlPerDay > rateNlPerDayMax)
    return refusal(
      'hard',
      'clinicianBolus.durationMs',
      `${formatMl(flowNlPerDay)}/day`,
      `pump's highest flow, ${formatMl(rateNlPerDayMax)}/day`,
      'flow during the bolus',
    );
  const judged = tipMixtureWorstCase(ctx);
  return (
    checkBolusDose(
      ctx.library,
      judged,
      volumeNl,
      'clinicianBolus.doseNg',
      event.confirm === true,
    ) ?? clinicianBolusCap(ctx, event.nowMs, volumeNl, parsed.data.durationMs)
  );
}

/** The forward daily cap with the clinician bolus running (REQ-LIM-6). */
function clinicianBolusCap(
  ctx: PumpContext,
  nowMs: number,
  volumeNl: number,
  durationMs: number,
): Refusal | undefined {
  const excess = dailyCapExcess(withNewBolus(ctx, nowMs, 'clinician', volumeNl, durationMs));
  return excess && capRefusal(excess, nowMs, 'clinicianBolus.doseNg', 'with this bolus');
}

export function startClinicianBolus(context: PumpContext, event: PumpEvent): Step {
  assert(event.type === 'cmd.clinicianBolus', 'clinician bolus');
  const step = settleOnly(context, event);
  const c = step.ctx;
  assert(c.mixture !== undefined, 'clinician bolus needs a mixture');
  const volumeNl = volumeNlForDoseNg(event.doseNg, primaryDrug(c.mixture).concentrationUgPerMl);
  c.bolus = startBolus('clinician', event.nowMs, volumeNl, event.durationMs);
  // A clinician bolus restarts the patient lockout from its start (docs/requirements.md REQ-PTM-3).
  if (c.ptm) c.lockoutUntilMs = Math.max(c.lockoutUntilMs, event.nowMs + c.ptm.lockoutMs);
  step.reprogrammed();
  step.log({ type: 'bolusStarted', kind: 'clinician', volumeNl, durationMs: event.durationMs });
  return step;
}

export function refuseClinicianBolus(context: PumpContext, event: PumpEvent): Step {
  const r = clinicianBolusRefusal(context, event);
  assert(r !== undefined, 'refuseClinicianBolus without a reason');
  return refuse(context, event, r);
}

export function refuseState(
  context: PumpContext,
  event: PumpEvent,
  state: string,
  needed: string,
): Step {
  return refuse(context, event, refusal('state', 'therapy', state, needed, 'state'));
}

export function setClock(context: PumpContext, event: PumpEvent): Step {
  assert(event.type === 'cmd.setClock', 'setClock');
  if (!Number.isSafeInteger(event.rtcMs) || event.rtcMs < 0) {
    return refuse(
      context,
      event,
      refusal('state', 'rtcMs', String(event.rtcMs), 'a time after 1970-01-01 in ms', 'clock'),
    );
  }
  const step = settleOnly(context, event);
  const c = step.ctx;
  const oldRtcMs = c.nowMs + c.rtcOffsetMs;
  // A running bridge keeps what it has pushed on the old clock; a flex schedule is re-read on the new.
  const b = c.bridge;
  const left =
    b && b.pausedRateNlPerDay === undefined
      ? bridgeRemainingFine(b, c.rtcOffsetMs, c.nowMs)
      : undefined;
  c.rtcOffsetMs = event.rtcMs - c.nowMs;
  step.emit({ type: 'clock.setRtc', rtcMs: event.rtcMs });
  step.log({ type: 'clockSet', oldRtcMs, newRtcMs: event.rtcMs });
  if (b && left !== undefined) {
    const moved = reanchoredBridge(b, c.rtcOffsetMs, c.nowMs, left, undefined);
    if (moved.endMs !== b.endMs) adjustBridge(step, 'clockSet', moved);
    else c.bridge = moved;
    derive(c);
  }
  step.reprogrammed();
  return step;
}

export function clearAlarms(context: PumpContext, event: PumpEvent, motorStalled: boolean): Step {
  const step = settleOnly(context, event);
  const c = step.ctx;
  const kept = c.alarms.filter((a) => alarmConditionHolds(c, a.code, motorStalled));
  for (const a of c.alarms) if (!kept.includes(a)) step.log({ type: 'alarmCleared', code: a.code });
  for (const a of kept)
    step.log({
      type: 'refused',
      command: 'cmd.clearAlarms',
      field: `alarms.${a.code}`,
      value: 'condition present',
      limit: 'condition resolved',
      message: `alarms.${a.code}: not cleared, its condition still holds`,
    });
  c.alarms = kept;
  return step;
}

export function memoryFailed(context: PumpContext, event: PumpEvent): Step {
  assert(event.type === 'hal.nvm.failed', 'memory event');
  const step = settleOnly(context, event);
  step.log({ type: 'memory', what: event.what });
  raiseAlarm(step, 'memoryError');
  return step;
}

export function batteryChanged(context: PumpContext, event: PumpEvent): Step {
  assert(event.type === 'hal.battery.levelChanged', 'battery event');
  const step = settleOnly(context, event);
  step.ctx.battery = event.level;
  step.log({ type: 'battery', level: event.level });
  if (event.level !== 'ok') raiseAlarm(step, 'batteryEri');
  if (event.level === 'eos') raiseAlarm(step, 'batteryEos');
  return step;
}

export function boot(context: PumpContext, event: PumpEvent): Step {
  assert(event.type === 'boot', 'boot');
  const restored = event.restored;
  const step = new Step({ ...context, ...(restored?.context ?? {}) });
  const c = step.ctx;
  if (restored?.memoryError) c.mode = 'minimum'; // never run the programme of a damaged record
  derive(c);
  // Accounting resumes from the last settled moment: the programme ran on (in the last persisted
  // mode) while the pump was reset, and what it could not deliver is dropped, never caught up.
  c.nowMs = Math.max(c.settledAtMs, event.nowMs);
  step.ctx.settledAtMs = Math.min(c.settledAtMs, event.nowMs);
  settle(step, event.nowMs);
  if (restored === undefined) c.rtcOffsetMs = event.rtcMs - event.nowMs;
  if (event.battery !== 'ok') c.battery = event.battery;
  c.batch = undefined;
  // The batch in flight at the reset: its strokes up to now left the reservoir (the safe side).
  const inFlight = restored?.inFlightStrokes ?? 0;
  c.reservoirNl = Math.max(0, c.reservoirNl - inFlight * c.config.strokeVolumeNl);
  // They come off what is owed in full, below zero too: a lead of part of a stroke stays a lead,
  // not volume to deliver again (FOUND-BUGS #27).
  c.owedFine -= inFlight * c.config.strokeVolumeNl * FINE_PER_NL;
  clampOwed(step); // the reset blocked delivery: what the pump owes beyond a stroke is missed
  const stoppedForMs = c.stoppedSinceMs !== undefined ? event.nowMs - c.stoppedSinceMs : undefined;
  step.log({
    type: 'boot',
    restored: restored !== undefined,
    memoryError: restored?.memoryError ?? false,
    lowBatteryReset: event.lowBatteryReset,
    ...(stoppedForMs !== undefined ? { stoppedForMs } : {}),
  });
  if (stoppedForMs !== undefined && stoppedForMs > longStopMs)
    step.log({ type: 'longStop', stoppedForMs });
  if (restored?.memoryError) {
    c.prescription = undefined;
    c.steps = undefined;
    raiseAlarm(step, 'memoryError');
  }
  if (event.lowBatteryReset) raiseAlarm(step, 'lowBatteryReset');
  if (event.battery !== 'ok') raiseAlarm(step, 'batteryEri');
  if (event.battery === 'eos') raiseAlarm(step, 'batteryEos');
  return step;
}

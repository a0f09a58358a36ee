/**
 * Clinician commands and start-up, as pure decisions. A refused command changes nothing but the
 * log record that names the field, the value and the limit (REQ-CMD-1).
 */
import { isCritical } from '../alarms.js';
import { assert } from '../assert.js';
import { checkBolusDose, checkDailyCap, checkTherapy, refusal, type Refusal } from '../dosing/limits.js';
import { primaryDrug, rateSteps } from '../dosing/rates.js';
import { startBolus } from '../dosing/delivery.js';
import { clinicianBolusSchema, mixtureSchema, prescriptionSchema, ptmSchema, type Mixture, type Prescription, type PtmSettings } from '../therapy/schema.js';
import { formatMl, volumeNlForDoseNg } from '../units.js';
import { alarmConditionHolds, deliveredPgLast24h, raiseAlarm, settle, settleOnly, Step } from './decide.js';
import { FINE_PER_NL, strokesBy } from '../dosing/delivery.js';
import { longStopMs } from '../constants.js';
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
  for (const key of issue.path) shown = (shown as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
  const limit = issue.message;
  return { rule: 'state', field, value: JSON.stringify(shown) ?? 'undefined', limit, message: `${field}: ${JSON.stringify(shown)} is invalid: ${issue.message}` };
}

function derive(c: PumpContext): void {
  c.steps = c.prescription && c.mixture ? rateSteps(c.prescription, c.mixture) : undefined;
  c.ptmBolusNl = c.ptm && c.mixture ? volumeNlForDoseNg(c.ptm.bolusDoseNg, primaryDrug(c.mixture).concentrationUgPerMl) : 0;
}

type ProgramEvent = Extract<PumpEvent, { type: 'cmd.program' }>;

/** Parse and check a programming command; the new prescription and PTM, or the refusal. */
export function checkProgram(ctx: PumpContext, event: ProgramEvent): Refusal | { prescription: Prescription | undefined; ptm: PtmSettings | undefined } {
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
  if (ctx.mixture === undefined) return refusal('state', 'mixture', 'none', 'a filled reservoir', 'programming before the first fill:');
  if (prescription === undefined) return refusal('state', 'prescription', 'none', 'a prescription', 'PTM settings without');
  const r = checkTherapy({ library: ctx.library, mixture: ctx.mixture, prescription, ptm, confirmed: event.confirm === true });
  return r ?? { prescription, ptm };
}

export function program(context: PumpContext, event: PumpEvent): Step {
  assert(event.type === 'cmd.program', 'program on cmd.program');
  const checked = checkProgram(context, event);
  if ('rule' in checked) return refuse(context, event, checked);
  const step = settleOnly(context, event);
  const c = step.ctx;
  if (event.prescription !== undefined) step.log({ type: 'programmed', field: 'prescription', old: c.prescription ?? null, new: checked.prescription });
  if (event.ptm !== undefined) step.log({ type: 'programmed', field: 'ptm', old: c.ptm ?? null, new: checked.ptm ?? null });
  c.prescription = checked.prescription;
  c.ptm = checked.ptm;
  derive(c);
  step.reprogrammed();
  return step;
}

type RefillEvent = Extract<PumpEvent, { type: 'cmd.refill' }>;

export function checkRefill(ctx: PumpContext, event: RefillEvent): Refusal | { mixture: Mixture } {
  const cap = ctx.config.reservoirCapacityNl;
  for (const field of ['withdrawnNl', 'addedNl'] as const) {
    const v = event[field];
    if (!Number.isSafeInteger(v) || v < 0) return refusal('state', field, String(v), 'a whole number of nanolitres ≥ 0', `${field}`);
  }
  if (event.addedNl > cap) return refusal('hard', 'addedNl', formatMl(event.addedNl), `reservoir capacity, ${formatMl(cap)}`, 'fill volume');
  let mixture = ctx.mixture;
  if (event.mixture !== undefined) {
    const parsed = mixtureSchema.safeParse(event.mixture);
    if (!parsed.success) return schemaRefusal('mixture', parsed.error, event.mixture);
    mixture = parsed.data;
  }
  if (mixture === undefined) return refusal('state', 'mixture', 'none', 'a mixture for the first fill', 'first fill without');
  if (ctx.prescription !== undefined) {
    // Soft limits were confirmed when the therapy was programmed; a refill with the same mixture does
    // not ask again. A new mixture changes every drug's dose and is checked in full.
    const sameMixture = JSON.stringify(mixture) === JSON.stringify(ctx.mixture);
    const r = checkTherapy({ library: ctx.library, mixture, prescription: ctx.prescription, ptm: ctx.ptm, confirmed: event.confirm === true || sameMixture });
    if (r) return r;
  } else {
    // No prescription yet: the mixture itself must still be in the library and within concentration.
    const r = checkTherapy({ library: ctx.library, mixture, prescription: { mode: 'continuous', doseNgPerDay: 0 }, ptm: undefined, confirmed: true });
    if (r) return r;
  }
  return { mixture };
}

/**
 * A refill: the clinician empties the reservoir (measuring what was withdrawn) and adds a volume,
 * possibly of a new mixture. The estimate becomes the added volume; a withdrawn volume that differs
 * from the estimate by more than the configured share is logged as a discrepancy (domain.md F6).
 */
export function refill(context: PumpContext, event: PumpEvent): Step {
  assert(event.type === 'cmd.refill', 'refill on cmd.refill');
  const checked = checkRefill(context, event);
  if ('rule' in checked) return refuse(context, event, checked);
  const step = settleOnly(context, event);
  const c = step.ctx;
  const inFlight = c.batch ? strokesBy(c.batch, c.batch.count, event.nowMs) - (c.batch.strokesBeforeRefill ?? 0) : 0;
  const before = Math.max(0, c.reservoirNl - inFlight * c.config.strokeVolumeNl);
  const discrepancyNl = event.withdrawnNl - before;
  const flagged = Math.abs(discrepancyNl) * 100 > c.config.refillDiscrepancyPercentMax * Math.max(before, 1) && before > 0;
  step.log({ type: 'refill', withdrawnNl: event.withdrawnNl, addedNl: event.addedNl, estimateBeforeNl: before, discrepancyNl, discrepancyFlagged: flagged, mixture: checked.mixture });
  c.reservoirNl = event.addedNl;
  if (c.batch) c.batch = { ...c.batch, strokesBeforeRefill: strokesBy(c.batch, c.batch.count, event.nowMs) };
  c.mixture = checked.mixture;
  derive(c);
  step.reprogrammed();
  return step;
}

export function clinicianBolusRefusal(ctx: PumpContext, event: PumpEvent): Refusal | undefined {
  assert(event.type === 'cmd.clinicianBolus', 'clinician bolus check');
  const parsed = clinicianBolusSchema.safeParse({ doseNg: event.doseNg, durationMs: event.durationMs });
  if (!parsed.success) return schemaRefusal('clinicianBolus', parsed.error, { doseNg: event.doseNg, durationMs: event.durationMs });
  if (ctx.mode !== 'basal' || ctx.bolus !== undefined || ctx.mixture === undefined) return refusal('state', 'therapy', ctx.bolus ? 'a bolus is running' : 'not infusing', 'infusing with no bolus running', 'state');
  if (ctx.alarms.some((a) => isCritical(a.code))) return refusal('state', 'alarms', 'critical alarm active', 'no critical alarm', 'state');
  const volumeNl = volumeNlForDoseNg(parsed.data.doseNg, primaryDrug(ctx.mixture).concentrationUgPerMl);
  if (volumeNl <= 0) return refusal('state', 'clinicianBolus.doseNg', String(parsed.data.doseNg), 'at least one nanolitre of solution', 'dose');
  if (ctx.reservoirNl - volumeNl < ctx.config.emptyReservoirNl) return refusal('state', 'clinicianBolus.doseNg', formatMl(volumeNl), `reservoir above empty, ${formatMl(ctx.reservoirNl - ctx.config.emptyReservoirNl)} available`, 'bolus volume');
  return checkBolusDose(ctx.library, ctx.mixture, volumeNl, 'clinicianBolus.doseNg', event.confirm === true) ?? checkDailyCap(ctx.library, deliveredPgLast24h(ctx, event.nowMs), ctx.mixture, volumeNl);
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

export function refuseState(context: PumpContext, event: PumpEvent, state: string, needed: string): Step {
  return refuse(context, event, refusal('state', 'therapy', state, needed, 'state'));
}

export function setClock(context: PumpContext, event: PumpEvent): Step {
  assert(event.type === 'cmd.setClock', 'setClock');
  if (!Number.isSafeInteger(event.rtcMs) || event.rtcMs < 0) {
    return refuse(context, event, refusal('state', 'rtcMs', String(event.rtcMs), 'a time after 1970-01-01 in ms', 'clock'));
  }
  const step = settleOnly(context, event);
  const c = step.ctx;
  const oldRtcMs = c.nowMs + c.rtcOffsetMs;
  c.rtcOffsetMs = event.rtcMs - c.nowMs;
  step.emit({ type: 'clock.setRtc', rtcMs: event.rtcMs });
  step.log({ type: 'clockSet', oldRtcMs, newRtcMs: event.rtcMs });
  step.reprogrammed();
  return step;
}

export function clearAlarms(context: PumpContext, event: PumpEvent, motorStalled: boolean): Step {
  const step = settleOnly(context, event);
  const c = step.ctx;
  const kept = c.alarms.filter((a) => alarmConditionHolds(c, a.code, motorStalled));
  for (const a of c.alarms) if (!kept.includes(a)) step.log({ type: 'alarmCleared', code: a.code });
  for (const a of kept) step.log({ type: 'refused', command: 'cmd.clearAlarms', field: `alarms.${a.code}`, value: 'condition present', limit: 'condition resolved', message: `alarms.${a.code}: not cleared, its condition still holds` });
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
  c.owedFine = Math.max(0, c.owedFine - inFlight * c.config.strokeVolumeNl * FINE_PER_NL);
  const stoppedForMs = c.stoppedSinceMs !== undefined ? event.nowMs - c.stoppedSinceMs : undefined;
  step.log({ type: 'boot', restored: restored !== undefined, memoryError: restored?.memoryError ?? false, lowBatteryReset: event.lowBatteryReset, ...(stoppedForMs !== undefined ? { stoppedForMs } : {}) });
  if (stoppedForMs !== undefined && stoppedForMs > longStopMs) step.log({ type: 'longStop', stoppedForMs });
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

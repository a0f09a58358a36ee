/**
 * The bridge bolus after a drug or concentration change, and the dose-rate check of a refill
 * (docs/drug-path.md).
 *
 * Rules:
 * - After a refill with a new mixture the path still holds the old one, and what leaves the tip
 *   is old mixture until the path's whole volume has been pushed (plug flow, src/dosing/catheter.ts).
 *   Keeping the old flow rate while that volume drains keeps every old drug at its old dose rate;
 *   the new rate starts exactly when the new mixture reaches the tip. That is the bridge.
 * - Switching to the new rate at once instead delivers the old mixture at the new rate for the
 *   time the new rate takes to clear the path: a transient under- or overdose. The plan reports it
 *   per drug as delivered against intended picograms, intended being what the new prescription
 *   would deliver over the same volume.
 * - A change that raises any drug's delivered dose rate (flow × concentration, pg/day, once the tip
 *   clears) by more than a configured factor needs an explicit confirmation; a drug that is new to
 *   the mixture always does (its factor is unbounded).
 * - The controller keeps the old *schedule* (flex steps included) through the bridge; a bridge ends
 *   when that schedule has programmed the bridge volume (`scheduleReachesMs`), in fine units
 *   (1/DAY_MS nL) so the end is exact.
 * Rates are integers in nL/day, so a dose rate in pg/day is exact: nL/day × µg/mL = pg/day.
 * Pure functions; nothing of XState, the HAL or time sources.
 */
import { assert, assertSafeInteger } from '../assert.js';
import { increaseFactorPpmMax, rateNlPerDayMax } from '../constants.js';
import { DAY_MS } from '../units.js';
import { stepIndexAt, timeOfDayMs, type RateSteps } from './rates.js';
import { bolusFineAt, type ActiveBolus } from './delivery.js';
import type { Bridge } from '../therapy/schema.js';
import {
  addDoses,
  ceilDiv,
  checkInteger,
  checkMixture,
  concentrationOf,
  DrugPathError,
  inletContentPg,
  pathContentPg,
  pushDurationMs,
  sameMixture,
  volumeAheadOfReservoirNl,
  type DrugPath,
  type PathMixture,
} from './catheter.js';

const PPM = 1_000_000;
export { increaseFactorPpmMax };

export interface DoseRateChange {
  readonly drug: string;
  readonly oldDoseRatePgPerDay: number;
  readonly newDoseRatePgPerDay: number;
  /**
   * new ÷ old in parts per million, rounded up (so a threshold is never passed by rounding);
   * null when the drug was not delivered before (a drug new to the mixture: unbounded).
   */
  readonly increaseFactorPpm: number | null;
}

/** Per drug of both mixtures (old order first, then new drugs), the dose rate before and after the tip clears. */
export function doseRateIncreaseFactor(
  oldMixture: PathMixture,
  oldRateNlPerDay: number,
  newMixture: PathMixture,
  newRateNlPerDay: number,
): readonly DoseRateChange[] {
  checkMixture('oldMixture', oldMixture);
  checkMixture('newMixture', newMixture);
  checkInteger('oldRateNlPerDay', oldRateNlPerDay, 0, rateNlPerDayMax);
  checkInteger('newRateNlPerDay', newRateNlPerDay, 0, rateNlPerDayMax);
  const drugs = oldMixture.map((d) => d.drug);
  for (const { drug } of newMixture) if (!drugs.includes(drug)) drugs.push(drug);
  return drugs.map((drug) => {
    const oldDoseRatePgPerDay = oldRateNlPerDay * concentrationOf(oldMixture, drug);
    const newDoseRatePgPerDay = newRateNlPerDay * concentrationOf(newMixture, drug);
    return {
      drug,
      oldDoseRatePgPerDay,
      newDoseRatePgPerDay,
      increaseFactorPpm: increaseFactorPpm(oldDoseRatePgPerDay, newDoseRatePgPerDay),
    };
  });
}

function increaseFactorPpm(oldPgPerDay: number, newPgPerDay: number): number | null {
  if (oldPgPerDay === 0) return newPgPerDay === 0 ? PPM : null;
  // BigInt: a dose rate times a million can pass 2^53.
  const numerator = BigInt(newPgPerDay) * BigInt(PPM);
  const denominator = BigInt(oldPgPerDay);
  const quotient = numerator / denominator;
  return Number(numerator % denominator === 0n ? quotient : quotient + 1n);
}

/** The drugs whose dose rate would rise by more than `increaseFactorPpmLimit` (or that are new): these need confirmation. */
export function drugsNeedingConfirmation(
  changes: readonly DoseRateChange[],
  increaseFactorPpmLimit: number,
): readonly string[] {
  checkInteger('increaseFactorPpmLimit', increaseFactorPpmLimit, PPM, increaseFactorPpmMax);
  return changes
    .filter((c) => c.increaseFactorPpm === null || c.increaseFactorPpm > increaseFactorPpmLimit)
    .map((c) => c.drug);
}

export interface DrugChange {
  /** The drug path now, holding the old mixture. */
  readonly path: DrugPath;
  readonly oldMixture: PathMixture;
  readonly oldRateNlPerDay: number;
  /** The mixture now in the reservoir. */
  readonly newMixture: PathMixture;
  readonly newRateNlPerDay: number;
  /** The drug the prescription is written for; the first drug of the old mixture by default. */
  readonly primaryDrug?: string;
}

export interface DrugTransient {
  /** What leaves the tip while the path clears (the path's content). */
  readonly deliveredPg: number;
  /** What the new prescription would deliver over the same volume. */
  readonly intendedPg: number;
}

export interface BridgePlan {
  readonly primaryDrug: string;
  /** The volume to push at the old rate: the path (plus any inlet). */
  readonly bridgeVolumeNl: number;
  readonly bridgeRateNlPerDay: number;
  /** Ceil: by then the bridge volume has been pushed; then switch to the new rate. */
  readonly bridgeDurationMs: number;
  /** With the bridge, the new mixture first reaches the tip after this (equals the bridge duration). */
  readonly newMixtureAtTipAfterMs: number;
  /** Without a bridge (new rate at once), the new mixture first reaches the tip after this. */
  readonly newMixtureAtTipWithoutBridgeAfterMs: number;
  /** False when the path also holds other fluid (a prime's tail, an earlier change): the bridge then keeps the old flow, not exactly the old dose. */
  readonly pathHoldsOnlyOldMixture: boolean;
  /** Per drug, dose rate before (kept through the bridge) and after the tip clears. */
  readonly doseRates: readonly DoseRateChange[];
  /** Per drug, the transient if the new rate started at once. */
  readonly transientWithoutBridge: ReadonlyMap<string, DrugTransient>;
}

function holdsOnly(path: DrugPath, mixture: PathMixture): boolean {
  return (
    path.inlet.length === 0 &&
    path.segments.every((s) => s.excessPg === undefined && sameMixture(s.mixture, mixture))
  );
}

/** The bridge for a drug or concentration change. */
export function planBridge(change: DrugChange): BridgePlan {
  checkMixture('oldMixture', change.oldMixture, 1);
  checkMixture('newMixture', change.newMixture, 1);
  checkInteger('oldRateNlPerDay', change.oldRateNlPerDay, 1, rateNlPerDayMax);
  checkInteger('newRateNlPerDay', change.newRateNlPerDay, 1, rateNlPerDayMax);
  const primaryDrug = change.primaryDrug ?? change.oldMixture[0]!.drug;
  if (concentrationOf(change.oldMixture, primaryDrug) === 0) {
    throw new DrugPathError(
      'primaryDrug',
      JSON.stringify(primaryDrug),
      `a drug of the old mixture (${change.oldMixture.map((d) => d.drug).join(', ')})`,
    );
  }
  const bridgeVolumeNl = volumeAheadOfReservoirNl(change.path);
  const bridgeDurationMs = pushDurationMs(bridgeVolumeNl, change.oldRateNlPerDay);
  const doseRates = doseRateIncreaseFactor(
    change.oldMixture,
    change.oldRateNlPerDay,
    change.newMixture,
    change.newRateNlPerDay,
  );
  const deliveredPg = new Map(pathContentPg(change.path));
  addDoses(deliveredPg, inletContentPg(change.path));
  const transientWithoutBridge = new Map<string, DrugTransient>();
  const drugs = [
    ...doseRates.map((r) => r.drug),
    ...[...deliveredPg.keys()].filter((d) => !doseRates.some((r) => r.drug === d)),
  ];
  for (const drug of drugs) {
    transientWithoutBridge.set(drug, {
      deliveredPg: deliveredPg.get(drug) ?? 0,
      intendedPg: bridgeVolumeNl * concentrationOf(change.newMixture, drug),
    });
  }
  return {
    primaryDrug,
    bridgeVolumeNl,
    bridgeRateNlPerDay: change.oldRateNlPerDay,
    bridgeDurationMs,
    newMixtureAtTipAfterMs: bridgeDurationMs,
    newMixtureAtTipWithoutBridgeAfterMs: pushDurationMs(bridgeVolumeNl, change.newRateNlPerDay),
    pathHoldsOnlyOldMixture: holdsOnly(change.path, change.oldMixture),
    doseRates,
    transientWithoutBridge,
  };
}

// ---------------------------------------------------------------------------------------------
// A bridge on a schedule: how long the old schedule takes to push a volume.

/** Fine units (1/DAY_MS nL) one whole day of a schedule programs: the same for every 24 h window. */
export function scheduleDailyFine(steps: RateSteps): number {
  let fine = 0;
  for (let i = 0; i < steps.startsMs.length; i++)
    fine += steps.ratesNlPerDay[i]! * ((steps.startsMs[i + 1] ?? DAY_MS) - steps.startsMs[i]!);
  assertSafeInteger(fine, 'daily fine units');
  return fine;
}

/** The step in force at `t` and when it ends. */
function stepAt(
  steps: RateSteps,
  t: number,
  rtcOffsetMs: number,
): { rateNlPerDay: number; endMs: number } {
  const tod = timeOfDayMs(t + rtcOffsetMs);
  const index = stepIndexAt(steps, tod);
  return {
    rateNlPerDay: steps.ratesNlPerDay[index]!,
    endMs: t + ((steps.startsMs[index + 1] ?? DAY_MS) - tod),
  };
}

/** Fine units a schedule programs over [fromMs, toMs), read on a clock `rtcOffsetMs` ahead of monotonic time. */
export function scheduleFine(
  steps: RateSteps,
  rtcOffsetMs: number,
  fromMs: number,
  toMs: number,
): number {
  assert(toMs >= fromMs, `scheduleFine: ${toMs} < ${fromMs}`);
  const days = Math.floor((toMs - fromMs) / DAY_MS);
  let fine = days * scheduleDailyFine(steps);
  for (let t = fromMs + days * DAY_MS; t < toMs; ) {
    const { rateNlPerDay, endMs } = stepAt(steps, t, rtcOffsetMs);
    const end = Math.min(endMs, toMs);
    fine += rateNlPerDay * (end - t);
    t = end;
  }
  assertSafeInteger(fine, 'scheduleFine');
  return fine;
}

/**
 * The first time at which the schedule, started at `fromMs`, has programmed `fine` fine units
 * (rounded up to a whole ms); `fromMs` for nothing to push, undefined when the schedule programs
 * nothing at all.
 */
export function scheduleReachesMs(
  steps: RateSteps,
  rtcOffsetMs: number,
  fromMs: number,
  fine: number,
): number | undefined {
  assert(Number.isSafeInteger(fine), `scheduleReachesMs: ${fine} is not an integer`);
  if (fine <= 0) return fromMs;
  const daily = scheduleDailyFine(steps);
  if (daily === 0) return undefined;
  // Every 24 h window programs exactly `daily`: skip whole days, then walk at most one day of steps.
  const days = Math.floor((fine - 1) / daily);
  let t = fromMs + days * DAY_MS;
  let left = fine - days * daily;
  for (let guard = 0; ; guard++) {
    assert(guard <= 2 * steps.startsMs.length + 2, 'scheduleReachesMs: walked past a whole day');
    const { rateNlPerDay, endMs } = stepAt(steps, t, rtcOffsetMs);
    if (rateNlPerDay * (endMs - t) >= left) return t + ceilDiv(left, rateNlPerDay);
    left -= rateNlPerDay * (endMs - t);
    t = endMs;
  }
}

// ---------------------------------------------------------------------------------------------
// The bridge as the controller keeps it: a volume still to push, anchored at a moment.

/** A bolus the bridge counts as it is programmed (its fine units accrue at its rate). */
export type BridgeBolus = NonNullable<Bridge['pushingBolus']>;

/** Fine units a pushing bolus programs over [fromMs, toMs). */
function bolusPushedFine(b: BridgeBolus | undefined, fromMs: number, toMs: number): number {
  return b ? bolusFineAt(b, toMs) - bolusFineAt(b, fromMs) : 0;
}

/**
 * The bridge volume (fine units) still to push at `nowMs`: what was left at the anchor, less what
 * the old schedule (or, paused, the rate then pushing it) and a pushing bolus programmed since.
 * A bolus is credited as it is programmed, never ahead, so a bolus cancelled half-way has pushed
 * only its half (FOUND-BUGS #20).
 */
export function bridgeRemainingFine(b: Bridge, rtcOffsetMs: number, nowMs: number): number {
  const basal =
    b.pausedRateNlPerDay !== undefined
      ? b.pausedRateNlPerDay * (nowMs - b.anchorMs)
      : scheduleFine(b.steps, rtcOffsetMs, b.anchorMs, nowMs);
  return Math.max(0, b.remainingFine - basal - bolusPushedFine(b.pushingBolus, b.anchorMs, nowMs));
}

/**
 * When the old schedule plus a pushing bolus, from `fromMs`, have programmed `fine`: the first
 * such millisecond (the sum only grows, so a binary search inside the bolus finds it).
 */
function bridgeEndMs(b: Bridge, rtcOffsetMs: number, fromMs: number, fine: number): number {
  const bolus = b.pushingBolus;
  const rest = bolusPushedFine(bolus, fromMs, Number.MAX_SAFE_INTEGER);
  // A schedule that programs nothing (a washout at a zero basal) never pushes the rest.
  const withWholeBolus =
    scheduleReachesMs(b.steps, rtcOffsetMs, fromMs, fine - rest) ?? Number.MAX_SAFE_INTEGER;
  if (bolus === undefined || withWholeBolus >= bolus.endMs) return withWholeBolus;
  const pushed = (t: number) =>
    scheduleFine(b.steps, rtcOffsetMs, fromMs, t) + bolusPushedFine(bolus, fromMs, t);
  let lo = Math.max(fromMs, withWholeBolus);
  let hi = bolus.endMs;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (pushed(mid) >= fine) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The bridge re-anchored at `nowMs` with `remainingFine` left: paused at a rate (a paused bridge
 * is pushed by no bolus: leaving the basal mode cancels it), or running with its end recomputed
 * (pushed on by `bolus`, or by the bolus it had while that still programs volume).
 */
export function reanchoredBridge(
  b: Bridge,
  rtcOffsetMs: number,
  nowMs: number,
  remainingFine: number,
  pausedRateNlPerDay: number | undefined,
  bolus?: BridgeBolus,
): Bridge {
  const { pausedRateNlPerDay: _paused, pushingBolus: old, ...rest } = b;
  if (pausedRateNlPerDay !== undefined)
    return { ...rest, remainingFine, anchorMs: nowMs, pausedRateNlPerDay };
  const pushing = bolus ?? (old !== undefined && old.endMs > nowMs ? old : undefined);
  const next: Bridge = { ...rest, remainingFine, anchorMs: nowMs, endMs: nowMs };
  if (pushing) next.pushingBolus = pushing;
  return { ...next, endMs: bridgeEndMs(next, rtcOffsetMs, nowMs, remainingFine) };
}

/** A running bridge that a new bolus starts to push: counted from its start, as it is programmed. */
export function bridgeWithBolus(b: Bridge, rtcOffsetMs: number, bolus: ActiveBolus): Bridge {
  assert(b.pausedRateNlPerDay === undefined, 'a paused bridge takes no bolus');
  const { kind: _kind, ...pushing } = bolus;
  const left = bridgeRemainingFine(b, rtcOffsetMs, bolus.startMs);
  return {
    ...reanchoredBridge(b, rtcOffsetMs, bolus.startMs, left, undefined, pushing),
    bolusCountedStartMs: bolus.startMs,
  };
}

/** When a paused bridge will have been pushed through at its rate (never, stopped). */
export function pausedBridgeEndMs(b: Bridge): number {
  const rate = b.pausedRateNlPerDay;
  if (rate === undefined || rate === 0) return Number.POSITIVE_INFINITY;
  return b.anchorMs + Math.ceil(b.remainingFine / rate);
}

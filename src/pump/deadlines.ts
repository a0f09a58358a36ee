/**
 * The controller's next deadline: the one moment it must wake if nothing else happens.
 *
 * The controller is tickless. After every event it computes the earliest of: the end of a running
 * bolus, the end of a paused bridge, a stalled motor's retry, the next alarm tone, and (with the motor idle) the moment strokes
 * fall due or the programmed rate changes. It arms the clock port's single alarm for that moment
 * and sleeps. A running motor batch needs no wake: its end is reported by the motor.
 */
import { batchDurationMsMax } from '../constants.js';
import { pausedBridgeEndMs } from '../dosing/bridge.js';
import { FINE_PER_NL, rateAt } from '../dosing/delivery.js';
import { programmeOf, strokesBeforeThreshold } from './decide.js';
import type { PumpContext } from './types.js';

export type MotorRegion = 'idle' | 'running' | 'stopping' | 'stalled';

function nextStrokeOrRateChangeMs(ctx: PumpContext): number {
  const { rateNlPerDay, untilMs } = rateAt(programmeOf(ctx), ctx.nowMs);
  let due = untilMs;
  if (rateNlPerDay > 0 && strokesBeforeThreshold(ctx) > 0 && ctx.battery !== 'eos') {
    const strokeFine = ctx.config.strokeVolumeNl * FINE_PER_NL;
    const owed = Math.min(ctx.owedFine, strokeFine);
    // Wake when the next stroke comes within a batch's reach (a day), not before: an event that
    // arrives meanwhile (a refused command, say) then finds no stroke due and leaves the motor idle.
    const nextStrokeMs = ctx.nowMs + Math.max(1, Math.ceil((strokeFine - owed) / rateNlPerDay));
    const reachMs = nextStrokeMs - batchDurationMsMax + 1;
    due = Math.min(due, reachMs > ctx.nowMs ? reachMs : nextStrokeMs);
  }
  return due;
}

/**
 * `nowMs` is the controller's time: the context is settled only by events that changed it, so it
 * may be older (a deadline it computes from then is the same moment, as the programme is exact).
 */
export function nextDeadlineMs(ctx: PumpContext, motor: MotorRegion, nowMs = ctx.nowMs): number {
  let due = Number.POSITIVE_INFINITY;
  if (ctx.bolus) due = Math.min(due, ctx.bolus.endMs);
  // A paused bridge still pushed (at the safe minimum rate) ends on its own deadline, not at
  // whatever event comes next (FOUND-BUGS #21).
  if (ctx.bridge) due = Math.min(due, pausedBridgeEndMs(ctx.bridge));
  // A running bridge ends on its own deadline too, whatever the motor does meanwhile (a washout
  // changes no rate at all): never at whatever event comes next (seed 6, a refused reprogramming).
  if (ctx.bridge !== undefined && ctx.bridge.pausedRateNlPerDay === undefined)
    due = Math.min(due, ctx.bridge.endMs);
  for (const a of ctx.alarms) due = Math.min(due, a.nextToneMs);
  if (motor === 'stalled' && ctx.stall) due = Math.min(due, ctx.stall.retryAtMs);
  if (motor === 'idle') due = Math.min(due, nextStrokeOrRateChangeMs(ctx));
  return Math.max(due, nowMs);
}

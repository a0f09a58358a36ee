/**
 * The programmer's own look at a command before it sends it: does it pass a soft limit of the drug
 * library (or a dose-rate increase) that the clinician must confirm? A real clinician programmer
 * asks before it transmits, so the pump's log holds the confirmed command, not a refusal followed
 * by it. The check is the pump's own pure decision (src/pump/commands.ts) on the pump's context
 * now; it changes nothing. A command that fails anything else is sent as it is, and the pump's
 * refusal is what the page shows.
 */
import type { Refusal } from '../../src/dosing/limits.js';
import { checkProgram, checkRefill, clinicianBolusRefusal } from '../../src/pump/commands.js';
import type { PumpContext } from '../../src/pump/types.js';
import { toMixture, toPrescription, toPtm, type TimelineEvent } from '../scenario.js';

type RefillCheck = Parameters<typeof checkRefill>[1];

/** The soft limit a command passes unconfirmed, as the pump would word it; undefined if none. */
export function softLimitOf(
  e: TimelineEvent,
  ctx: PumpContext,
  nowMs: number,
  trueReservoirNl: number,
): Refusal | undefined {
  const r = refusalOf(e, ctx, nowMs, trueReservoirNl);
  return r !== undefined && r.rule === 'soft' ? r : undefined;
}

function refusalOf(
  e: TimelineEvent,
  ctx: PumpContext,
  nowMs: number,
  trueReservoirNl: number,
): Refusal | undefined {
  if (e.program && !e.program.confirm) {
    const checked = checkProgram(ctx, {
      type: 'cmd.program',
      prescription: e.program.prescription ? toPrescription(e.program.prescription) : undefined,
      ptm: e.program.ptm === null ? null : e.program.ptm ? toPtm(e.program.ptm) : undefined,
      nowMs,
    });
    return 'rule' in checked ? checked : undefined;
  }
  if (e.clinicianBolus && !e.clinicianBolus.confirm)
    return clinicianBolusRefusal(ctx, {
      type: 'cmd.clinicianBolus',
      doseNg: e.clinicianBolus.dose,
      durationMs: e.clinicianBolus.duration,
      nowMs,
    });
  if (e.refill && !e.refill.confirm) {
    const r = e.refill;
    const event: RefillCheck = {
      type: 'cmd.refill',
      withdrawnNl: r.withdrawn === 'auto' ? trueReservoirNl : r.withdrawn,
      addedNl: r.added,
      mixture: r.mixture ? toMixture(r.mixture) : undefined,
      nowMs,
      ...(r.bridge === undefined ? {} : { bridge: r.bridge }),
    };
    const checked = checkRefill(ctx, event);
    return 'rule' in checked ? checked : undefined;
  }
  return undefined;
}

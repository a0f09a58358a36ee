/**
 * The controller's context, its events and its effects, as plain data.
 *
 * The context is everything the pump knows; every field is an integer in firmware units or plain
 * data, so it can be persisted and compared. Effects are what the statechart asks the hardware to
 * do; src/controller.ts carries them out through the HAL ports.
 */
import type { AlarmCode, ActiveAlarm } from '../alarms.js';
import type { BatteryLevel, StrokeBatch, TonePattern } from '../../hal/index.js';
import type { ActiveBolus, ProgrammeSteps } from '../dosing/delivery.js';
import type {
  Bridge,
  DrugLibrary,
  Mixture,
  Prescription,
  PtmSettings,
  PumpConfig,
} from '../therapy/schema.js';
import type { LogBody } from '../eventLog.js';

export type DeliveryMode = 'off' | 'basal' | 'minimum';

/** A batch the motor is running, as the controller commanded it. */
export interface RunningBatch extends StrokeBatch {
  startMs: number;
  rateNlPerDay: number;
  /** The programme version the batch was planned for; a newer version makes it obsolete. */
  version: number;
  mixture: Mixture;
  /** Strokes this batch had done when a refill reset the estimate; they left the old contents. */
  strokesBeforeRefill?: number;
}

/** A finished batch kept for the rolling 24-hour dose. */
export interface DoneBatch {
  startMs: number;
  leadMs: number;
  intervalMs: number;
  strokes: number;
  mixture: Mixture;
}

export interface StallState {
  sinceMs: number;
  attempts: number;
  retryAtMs: number;
}

export interface PumpContext {
  config: PumpConfig;
  library: DrugLibrary;
  mixture: Mixture | undefined;
  prescription: Prescription | undefined;
  /**
   * Derived from prescription and mixture when either changes (kept for speed on every event),
   * with the bridge's old schedule as an override while a bridge runs.
   */
  steps: ProgrammeSteps | undefined;
  ptm: PtmSettings | undefined;
  /** Volume of one patient bolus, derived from the PTM dose and the primary concentration. */
  ptmBolusNl: number;

  mode: DeliveryMode;
  nowMs: number;
  rtcOffsetMs: number;
  /** Accounting is settled up to here. */
  settledAtMs: number;
  /** Programmed volume not yet delivered, in fine units (1/DAY_MS nL). */
  owedFine: number;
  deliveredStrokes: number;
  /** Programmed volume the motor could not deliver (stalls), dropped rather than caught up. */
  missedFine: number;
  reservoirNl: number;

  bolus: ActiveBolus | undefined;
  /**
   * After a drug change: the old schedule runs until the pump estimates the new mixture has
   * reached the catheter tip (docs/drug-path.md §6). Optional so that contexts built before the
   * drug path existed stay valid; persisted with the ledger.
   */
  bridge?: Bridge | undefined;
  /** Start-to-start lockout: no patient bolus is granted before this monotonic time. */
  lockoutUntilMs: number;
  /** Monotonic start times of patient boluses granted in the last 24 hours. */
  grantsMs: number[];

  batch: RunningBatch | undefined;
  nextBatchId: number;
  recentBatches: DoneBatch[];
  programmeVersion: number;
  stall: StallState | undefined;
  alarms: ActiveAlarm[];
  battery: BatteryLevel;
  stoppedSinceMs: number | undefined;
}

// A denied press's reason is what its log record carries: defined with the log (src/eventLog.ts).
export { denyReasons, type DenyReason } from '../eventLog.js';

// ---------------------------------------------------------------------------------------------
// Events. Every event carries the monotonic time at which the controller handles it.

export interface RestoredState {
  context: Partial<PumpContext>;
  therapy: 'stopped' | 'infusing' | 'minimumRate' | 'halted';
  memoryError: boolean;
  /** Strokes of the batch in flight at the reset, counted as delivered up to the restart. */
  inFlightStrokes: number;
}

export type CommandEvent =
  | { type: 'cmd.program'; prescription?: unknown; ptm?: unknown; confirm?: boolean }
  /**
   * The refill workflow: the volume withdrawn (measured), the volume added, the new mixture if it
   * changes. `confirm` confirms soft limits and a dose-rate increase beyond the configured factor;
   * `bridge` (default true) keeps the old schedule until the new mixture reaches the catheter tip.
   */
  | {
      type: 'cmd.refill';
      withdrawnNl: number;
      addedNl: number;
      mixture?: unknown;
      confirm?: boolean;
      bridge?: boolean;
    }
  /**
   * A priming bolus after implant or a catheter revision: the dead volume (plus `marginNl`) at
   * `rateNlPerDay` (default: the configured priming rate), instead of the basal rate. `confirm`
   * states that the catheter holds no drug; without it the command is refused.
   */
  | { type: 'cmd.primingBolus'; rateNlPerDay?: number; marginNl?: number; confirm?: boolean }
  | { type: 'cmd.clinicianBolus'; doseNg: number; durationMs: number; confirm?: boolean }
  | { type: 'cmd.stop' }
  | { type: 'cmd.resume' }
  | { type: 'cmd.clearAlarms' }
  | { type: 'cmd.setClock'; rtcMs: number };

export type HardwareEvent =
  | { type: 'hal.button.pressed' }
  | { type: 'hal.clock.wake' }
  | {
      type: 'hal.motor.batchEnded';
      batchId: number;
      strokesDone: number;
      reason: 'completed' | 'stopped' | 'stalled' | 'linkLost';
    }
  | { type: 'hal.battery.levelChanged'; level: BatteryLevel }
  | { type: 'hal.nvm.failed'; what: string };

export type BootEvent = {
  type: 'boot';
  rtcMs: number;
  battery: BatteryLevel;
  lowBatteryReset: boolean;
  restored: RestoredState | undefined;
};

export type PumpEventBody = CommandEvent | HardwareEvent | BootEvent;

/**
 * Raised inside the statechart, never sent from outside (src/machine.ts): a decision changed what
 * the motor plans from, or a refill changed the drug path. Raised events are handled after every
 * eventless transition has settled, so the motor re-plans once the programme is final for the event.
 */
export type InternalEvent =
  | { type: 'motor.replan' }
  /** What a refill did to the drug path: the drugPath region follows it (src/machine.ts). */
  | { type: 'path.flowing' | 'path.waiting' | 'path.unbridged' };

export type PumpEvent = (PumpEventBody | InternalEvent) & { nowMs: number };

// ---------------------------------------------------------------------------------------------
// Effects the controller carries out after each step.

export type Effect =
  | { type: 'motor.deliver'; batch: StrokeBatch }
  | { type: 'motor.stop' }
  | { type: 'tone'; pattern: TonePattern }
  | { type: 'clock.setRtc'; rtcMs: number }
  | { type: 'log'; body: LogBody };

export type { AlarmCode, Bridge };

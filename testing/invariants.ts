/**
 * The invariants of issue 3 as named checks, each traced to requirement ids (docs/requirements.md).
 *
 * A check takes the rig (what the pump did, seen from outside) and the reference model (what it
 * was told and what that allows) and throws an `InvariantViolation` naming the invariant, the
 * requirement and the numbers when the pump broke it. Checks never change the rig or the model.
 *
 * `InvariantMonitor` runs the checks that must hold at every step (INV-4, INV-5) from the rig's
 * `onStep` hook, and keeps the little state they need (the previous step's alarms, when the
 * current critical alarm began). The checks that judge a command (INV-1, 2, 6, 7) are called by
 * the commands in testing/commands.ts right after the command ran.
 */
import type { AlarmCode } from '../src/alarms.js';
import type { LogRecord } from '../src/eventLog.js';
import { denyReasons, type DenyReason } from '../src/pump/types.js';
import { deadVolumeNlOf, type Prescription } from '../src/therapy/schema.js';
import {
  DAY_MS,
  MINUTE_MS,
  PG_PER_NG,
  formatDoseNg,
  formatDosePgExact,
  formatTimeMs,
} from '../src/units.js';
import { FINE_PER_NL, programmedFine, type Programme } from '../src/dosing/delivery.js';
import { strokeLeavesAtMs, strokesLeftBy } from '../hal/sim/strokeClock.js';
import { kitSchedule, scheduleNlDayMs } from './programmedVolume.js';
import { programmeOf, withNewBolus } from '../src/pump/decide.js';
import {
  capOracle,
  oracleProgrammedFine,
  type CapOracleExcess,
  type OracleBolus,
} from './dailyCap.js';
import type { PumpContext } from '../src/pump/types.js';
import type { Mixture } from '../src/therapy/schema.js';
import type { Outcome, PumpRig } from './harness.js';
import { tipMixtureWorstCase, type ReferenceModel } from './model.js';

export interface InvariantInfo {
  id: string;
  requirements: readonly string[];
  title: string;
}

/** The invariants of issue 3; ids and requirements match docs/requirements.md. */
export const INVARIANTS = {
  lockout: {
    id: 'INV-1',
    requirements: ['REQ-PTM-1', 'REQ-PTM-2', 'REQ-PTM-3'],
    title:
      'no two patient boluses start closer than the lockout, whatever the real-time clock says',
  },
  count24h: {
    id: 'INV-2',
    requirements: ['REQ-PTM-4'],
    title: 'no more patient boluses in any rolling 24 hours than programmed',
  },
  dose24h: {
    id: 'INV-3',
    requirements: ['REQ-LIM-5', 'REQ-LIM-6'],
    title:
      'every drug’s dose in any rolling 24 hours is within the programmed worst case and the hard daily maximum',
  },
  volume: {
    id: 'INV-4',
    requirements: ['REQ-DOS-1', 'REQ-DOS-2'],
    title: 'with an ideal motor, delivered volume stays within one stroke of the programmed volume',
  },
  reservoir: {
    id: 'INV-5',
    requirements: ['REQ-RES-1', 'REQ-RES-3', 'REQ-ALM-3', 'REQ-ALM-2'],
    title:
      'reservoir estimate never negative; low-reservoir alarm before empty; nothing above the safe minimum rate under a critical alarm',
  },
  refusal: {
    id: 'INV-6',
    requirements: ['REQ-CMD-1'],
    title: 'a refused command changes nothing but the log record of the refusal',
  },
  denial: {
    id: 'INV-7',
    requirements: ['REQ-PTM-5', 'REQ-PTM-6'],
    title:
      'every denied press has exactly one reason, the first true one, and it is true at that moment',
  },
  alarmTones: {
    id: 'ALM-TONE',
    requirements: ['REQ-ALM-4'],
    title: 'an active alarm sounds its pattern when raised and again within its repeat interval',
  },
  bridge: {
    id: 'INV-8',
    requirements: ['REQ-DRG-1'],
    title:
      'a bridge after a drug change lasts until the drug path’s volume has been pushed, no less and no more',
  },
} as const satisfies Record<string, InvariantInfo>;

export class InvariantViolation extends Error {
  override name = 'InvariantViolation';
  constructor(
    readonly invariant: InvariantInfo,
    message: string,
  ) {
    super(`${invariant.id} (${invariant.requirements.join(', ')}) ${invariant.title}: ${message}`);
  }
}

function fail(invariant: InvariantInfo, message: string): never {
  throw new InvariantViolation(invariant, message);
}

const at = formatTimeMs;

/**
 * The alarm table of the requirements (REQ-ALM-2, REQ-ALM-4), kept here apart from the catalogue in
 * src/alarms.ts so that a change there is judged, not copied: which alarms are critical, and how
 * often each priority repeats (critical every 10 min, non-critical every hour; the catalogue's
 * settings, UNCONFIRMED against the device, docs/sources.md §1.4).
 */
export const alarmPriorities: Readonly<Record<AlarmCode, 'critical' | 'nonCritical'>> = {
  lowReservoir: 'nonCritical',
  emptyReservoir: 'critical',
  motorStall: 'critical',
  memoryError: 'critical',
  batteryEri: 'nonCritical',
  batteryEos: 'critical',
  lowBatteryReset: 'critical',
};
export const alarmRepeatMs = { critical: 10 * MINUTE_MS, nonCritical: 60 * MINUTE_MS } as const;

// ---------------------------------------------------------------------------------------------
// INV-1 and INV-2: judged at every granted press.

/** INV-1: the press granted at `grantMs` starts at least a lockout after every earlier lockout start. */
export function checkLockout(model: ReferenceModel, grantMs: number): void {
  for (const s of model.lockoutStarts) {
    if (s.atMs > grantMs || (s.kind === 'patient' && s.atMs === grantMs)) continue;
    if (grantMs - s.atMs < s.lockoutMs) {
      fail(
        INVARIANTS.lockout,
        `patient bolus at ${at(grantMs)} only ${grantMs - s.atMs} ms after the ${s.kind} bolus at ${at(s.atMs)}; lockout ${s.lockoutMs} ms`,
      );
    }
  }
}

/** INV-2: with the bolus granted at `grantMs`, the last 24 hours hold no more than allowed. */
export function checkCount24h(model: ReferenceModel, grantMs: number): void {
  const grant = model.grants.at(-1);
  if (!grant || grant.atMs !== grantMs) return;
  const n = model.grantsInWindow(grantMs);
  if (n > grant.bolusesPer24hMax)
    fail(
      INVARIANTS.count24h,
      `${n} patient boluses in the 24 h ending ${at(grantMs)}; at most ${grant.bolusesPer24hMax} allowed`,
    );
}

// ---------------------------------------------------------------------------------------------
// INV-3: the dose in every rolling 24 hours.

/**
 * Window ends where the 24-hour dose can peak: the first and last stroke of every batch (doses
 * arrive) and a millisecond before those strokes leave the window (doses about to leave), plus now.
 */
export function doseWindowEnds(rig: PumpRig, fromMs: number, toMs: number): number[] {
  const ends = new Set<number>([toMs]);
  const batches = rig.countedBatches();
  for (let i = batches.length - 1; i >= 0; i--) {
    const b = batches[i]!;
    if (b.startMs + 3 * DAY_MS <= fromMs) break; // its strokes, and their exits a day later, are all judged
    const n = rig.strokesOfBatchBy(b, toMs);
    if (n === 0) continue;
    for (const t of [strokeLeavesAtMs(b, 1), strokeLeavesAtMs(b, n)]) {
      for (const end of [t, t + DAY_MS - 1]) if (end > fromMs && end <= toMs) ends.add(end);
    }
  }
  return [...ends].sort((a, b) => a - b);
}

/** INV-3 for the 24 hours ending at `t`. */
export function checkDose24h(rig: PumpRig, model: ReferenceModel, t: number): void {
  const delivered = rig.dosePgInWindow(t);
  for (const [drug, pg] of delivered) {
    const lim = rig.library.drugs.find((d) => d.drug === drug);
    if (lim && pg > lim.dailyDoseNgHardMax * PG_PER_NG) {
      fail(
        INVARIANTS.dose24h,
        `${drug}: ${formatDosePgExact(pg, lim.dailyDoseNgHardMax * PG_PER_NG)} in the 24 h ending ${at(t)}, above the hard daily maximum ${formatDosePgExact(lim.dailyDoseNgHardMax * PG_PER_NG)}`,
      );
    }
  }
  const worst = model.worstCasePg(t);
  if (!worst || !model.mixture || !rig.tipUniformInWindow(model.mixture, t)) return;
  for (const [drug, boundPg] of worst) {
    const pg = delivered.get(drug) ?? 0;
    if (pg > boundPg * (1 + 1e-12) + 1) {
      fail(
        INVARIANTS.dose24h,
        `${drug}: ${formatDosePgExact(pg, boundPg)} in the 24 h ending ${at(t)}, above the programmed worst case ${formatDosePgExact(boundPg)}`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// INV-4: delivered against programmed volume.

/**
 * INV-4 at `t` (now, or any moment since the last step), against the programmed volume by the
 * kit's own arithmetic (testing/programmedVolume.ts). Delivered volume is never more than a
 * stroke ahead of the programmed volume. With an ideal motor and a reservoir that never ran out it
 * is never more than a stroke behind either. Once delivery was blocked (a stall, or an estimate
 * below one stroke) the volume the pump could not deliver is dropped as missed, never caught up
 * (REQ-MOT-2) when the next batch starts: then, while it runs a batch, it is within a stroke of
 * the programmed volume less the missed volume.
 */
export function checkVolume(rig: PumpRig, model: ReferenceModel, t = rig.nowMs): void {
  const c = rig.controller.context;
  const stroke = rig.config.strokeVolumeNl;
  const delivered = rig.deliveredNlBy(t);
  const programmed = rig.kitProgrammedNl(t);
  // The pump's own account (delivered strokes + owed + missed) must say the same: a volume it
  // gains or loses there is delivered or withheld later (FOUND-BUGS #27). Within 2 nL: the kit
  // spreads a bolus exactly, the pump at a rate rounded down to whole nL per day.
  const account = rig.programmedNl(t);
  if (Math.abs(account - programmed) > 2)
    fail(
      INVARIANTS.volume,
      `at ${at(t)} the pump's account of the programmed volume is ${account.toFixed(3)} nL, the programme's ${programmed.toFixed(3)} nL`,
    );
  if (delivered > programmed + stroke)
    fail(
      INVARIANTS.volume,
      `at ${at(t)} delivered ${delivered} nL is more than a stroke (${stroke} nL) above the programmed ${programmed.toFixed(3)} nL`,
    );
  if (!model.deliveryEverBlocked) {
    if (delivered < programmed - stroke)
      fail(
        INVARIANTS.volume,
        `at ${at(t)} delivered ${delivered} nL is more than a stroke (${stroke} nL) below the programmed ${programmed.toFixed(3)} nL (ideal motor, reservoir never out)`,
      );
    return;
  }
  // What a blocked pump owes is dropped when its next batch starts; judge the batches it runs.
  const delivering =
    rig.controller.state.motor === 'running' &&
    c.stall === undefined &&
    c.reservoirNl >= stroke &&
    !rig.stallWindows.some((w) => w.fromMs <= t && t < w.toMs);
  const intended = programmed - c.missedFine / FINE_PER_NL;
  if (delivering && delivered < intended - stroke)
    fail(
      INVARIANTS.volume,
      `at ${at(t)} delivered ${delivered} nL is more than a stroke (${stroke} nL) below the programmed volume less the missed, ${intended.toFixed(3)} nL`,
    );
}

/**
 * The volume a prescription schedules over [0, durationMs) from a given real-time clock reading,
 * by walking its steps (the requirement's arithmetic, REQ-DOS-2; whole nL per day per step).
 */
export function scheduledNl(
  prescription: Prescription,
  primaryConcentrationUgPerMl: number,
  rtcStartMs: number,
  durationMs: number,
): number {
  const schedule = kitSchedule(prescription, primaryConcentrationUgPerMl);
  return scheduleNlDayMs(schedule, rtcStartMs, 0, durationMs) / DAY_MS;
}

// ---------------------------------------------------------------------------------------------
// INV-5: reservoir and alarms, at every step.

const activeCodes = (rig: PumpRig): Set<AlarmCode> =>
  new Set(rig.controller.context.alarms.map((a) => a.code));

/** Runs INV-4 and INV-5 after every controller step and feeds the model what it observes. */
export class InvariantMonitor {
  private previousAlarms = new Set<AlarmCode>();
  /** Log records already seen by a step (to tell what the current step logged). */
  private logSeen = 0;
  /** The bridge running, as first seen: when it started and what had been delivered then. */
  private bridge: { startMs: number; volumeNl: number; pushedAtStartNl: number } | undefined;
  private criticalSinceMs: number | undefined;
  /** Steps judged, for the reports of how much was checked. */
  stepsChecked = 0;
  /** Steps at which the pump was not in a plain basal without alarms (a steady basal ends there). */
  disturbances = 0;

  constructor(
    private readonly rig: PumpRig,
    private readonly model: ReferenceModel,
  ) {
    rig.onStep.push(() => this.step());
  }

  private step(): void {
    const { rig, model } = this;
    const c = rig.controller.context;
    const state = rig.controller.state;
    this.stepsChecked++;
    if (state.therapy !== 'infusing.basal' || c.alarms.length > 0 || c.bridge !== undefined)
      this.disturbances++;
    model.observeMinimumRate(rig.nowMs, state.therapy === 'minimumRate');
    if (c.reservoirNl < rig.config.strokeVolumeNl || c.stall !== undefined)
      model.deliveryEverBlocked = true;

    // INV-5a: the estimate is a whole, non-negative number of nL; with an ideal motor it is the
    // true volume left (REQ-RES-3), at every step.
    if (!Number.isSafeInteger(c.reservoirNl) || c.reservoirNl < 0)
      fail(INVARIANTS.reservoir, `reservoir estimate ${c.reservoirNl} nL at ${rig.at}`);
    if (rig.idealMotor && c.reservoirNl !== rig.motor.trueReservoirNl)
      fail(
        INVARIANTS.reservoir,
        `reservoir estimate ${c.reservoirNl} nL at ${rig.at}; ${rig.motor.trueReservoirNl} nL truly left (ideal motor)`,
      );

    // INV-5b: the low-reservoir alarm comes before the empty one: already active at an earlier
    // step, or, when a refill itself leaves the estimate at or below empty, raised with it. A refill
    // to a volume at or below the low threshold is no excuse when the empty alarm comes later.
    const alarms = activeCodes(rig);
    const stepRecords = rig.log.slice(this.logSeen);
    this.logSeen = rig.log.length;
    if (
      alarms.has('emptyReservoir') &&
      !this.previousAlarms.has('emptyReservoir') &&
      !this.previousAlarms.has('lowReservoir')
    ) {
      const refillStep = stepRecords.some((r) => r.type === 'refill');
      const lastRefill = rig.records('refill').at(-1);
      if (!(refillStep && alarms.has('lowReservoir'))) {
        fail(
          INVARIANTS.reservoir,
          `empty-reservoir alarm at ${rig.at} without an earlier low-reservoir alarm (estimate ${c.reservoirNl} nL${lastRefill ? `, last refill ${lastRefill.addedNl} nL` : ''})`,
        );
      }
    }
    this.previousAlarms = alarms;

    this.checkAlarmTones();
    this.checkBridge(stepRecords);

    // INV-5c: under a critical alarm, the safe minimum rate at most.
    const critical = [...alarms].some((code) => alarmPriorities[code] === 'critical');
    if (!critical) this.criticalSinceMs = undefined;
    else {
      this.criticalSinceMs ??= rig.nowMs;
      if (state.therapy.startsWith('infusing'))
        fail(
          INVARIANTS.reservoir,
          `critical alarm ${[...alarms].filter((code) => alarmPriorities[code] === 'critical').join(', ')} active at ${rig.at} while therapy is ${state.therapy}`,
        );
      this.checkCriticalRate(rig.nowMs);
    }

    checkVolume(rig, model);
  }

  /**
   * INV-8 (REQ-DRG-1): a bridge runs the old schedule until the pump has pushed the drug path's
   * volume since the drug change: it may not end with less pushed, nor run on past it. A bolus
   * running when it ends counts with its whole volume (the pump ends the bridge when a bolus will
   * push the rest of the path). Slack of three strokes: the pump estimates from the programme,
   * which is within a stroke of the strokes at either end, and a drug change drops what was owed.
   * After a stall the pump's estimate may run ahead of the strokes: only the late side is judged.
   */
  private checkBridge(stepRecords: readonly LogRecord[]): void {
    const { rig, model } = this;
    const b = rig.controller.context.bridge;
    const stroke = rig.config.strokeVolumeNl;
    const pushed = () => rig.deliveredNlBy() - (this.bridge?.pushedAtStartNl ?? 0);
    if (this.bridge && (b === undefined || b.startMs !== this.bridge.startMs)) {
      const finished = stepRecords.some((r) => r.type === 'bridgeFinished');
      const bolusNl = rig.controller.context.bolus?.volumeNl ?? 0;
      if (
        finished &&
        !model.deliveryEverBlocked &&
        pushed() + bolusNl < this.bridge.volumeNl - 3 * stroke
      ) {
        fail(
          INVARIANTS.bridge,
          `the bridge from ${at(this.bridge.startMs)} ended at ${rig.at} after ${pushed()} nL of a ${this.bridge.volumeNl} nL path (bolus running: ${bolusNl} nL)`,
        );
      }
      this.bridge = undefined;
    }
    if (b && !this.bridge) {
      const deadVolumeNl = deadVolumeNlOf(rig.config);
      if (b.volumeNl !== deadVolumeNl)
        fail(
          INVARIANTS.bridge,
          `a bridge of ${b.volumeNl} nL for a drug path of ${deadVolumeNl} nL`,
        );
      this.bridge = {
        startMs: b.startMs,
        volumeNl: b.volumeNl,
        pushedAtStartNl: rig.deliveredNlBy(),
      };
    }
    if (this.bridge && pushed() > this.bridge.volumeNl + 3 * stroke) {
      fail(
        INVARIANTS.bridge,
        `the bridge from ${at(this.bridge.startMs)} still runs at ${rig.at} after ${pushed()} nL of a ${this.bridge.volumeNl} nL path`,
      );
    }
  }

  /**
   * REQ-ALM-4: every active alarm has sounded its pattern (critical: the two-tone, non-critical: the
   * single tone) since it was raised, and no longer ago than its repeat interval.
   */
  checkAlarmTones(t = this.rig.nowMs): void {
    for (const a of this.rig.controller.context.alarms) {
      const priority = alarmPriorities[a.code];
      const pattern = priority === 'critical' ? 'alarmCritical' : 'alarmNonCritical';
      let last: number | undefined;
      const tones = this.rig.annunciator.tones;
      for (let i = tones.length - 1; i >= 0; i--) {
        if (tones[i]!.atMs < a.raisedAtMs) break;
        if (tones[i]!.pattern === pattern) {
          last = tones[i]!.atMs;
          break;
        }
      }
      if (last === undefined)
        fail(
          INVARIANTS.alarmTones,
          `${a.code} (raised ${at(a.raisedAtMs)}) has not sounded "${pattern}" by ${at(t)}`,
        );
      if (t - last > alarmRepeatMs[priority])
        fail(
          INVARIANTS.alarmTones,
          `${a.code}: "${pattern}" last sounded at ${at(last)}, more than ${alarmRepeatMs[priority] / MINUTE_MS} min before ${at(t)}`,
        );
    }
  }

  /** INV-5c over the current critical alarm, up to `t`. */
  checkCriticalRate(t = this.rig.nowMs): void {
    const since = this.criticalSinceMs;
    if (since === undefined) return;
    const { strokeVolumeNl: stroke, safeMinimumRateNlPerDay: m } = this.rig.config;
    const deliveredNl = this.rig.strokesBetween(since, t) * stroke;
    const allowedNl = Math.floor((m * (t - since)) / DAY_MS) + stroke;
    if (deliveredNl > allowedNl) {
      fail(
        INVARIANTS.reservoir,
        `${deliveredNl} nL delivered under a critical alarm from ${at(since)} to ${at(t)}; the safe minimum rate allows ${allowedNl} nL (one stroke included)`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// INV-6: a refused command changes nothing but the log.

/** Context fields that settling moves by design on every event, refused or not. */
export const settlingFields = ['nowMs', 'settledAtMs', 'owedFine'] as const;

export interface PumpSnapshot {
  /** Each context field as JSON, but the settling fields. */
  context: Record<string, string>;
  rtcMs: number;
  tones: number;
  batches: number;
  state: { therapy: string; motor: string; alarms: string };
}

export function snapshotPump(rig: PumpRig): PumpSnapshot {
  const context: Record<string, string> = {};
  for (const [k, v] of Object.entries(rig.controller.context))
    if (!(settlingFields as readonly string[]).includes(k))
      context[k] = JSON.stringify(v) ?? 'undefined';
  return {
    context,
    rtcMs: rig.simClock.rtcMs(),
    tones: rig.annunciator.tones.length,
    batches: rig.batches.length,
    state: { ...rig.controller.state },
  };
}

/** Is this outcome a refusal (one or more `refused` records, and no alarm cleared with them)? */
export function isRefusal(outcome: Outcome): boolean {
  // Whatever else is logged: a refusal that comes with another record (a bridge ended by it, say)
  // is still a refusal, and must have changed nothing (FOUND-BUGS #21). Only a clear of alarms
  // may both clear some and refuse others.
  return outcome.refused.length > 0 && !outcome.records.some((r) => r.type === 'alarmCleared');
}

/** INV-6: after a refusal the pump is as it was, but for the refusal records. */
export function checkRefusal(
  rig: PumpRig,
  before: PumpSnapshot,
  outcome: Outcome,
  command: string,
): void {
  const after = snapshotPump(rig);
  const changed: string[] = [];
  const keys = new Set([...Object.keys(before.context), ...Object.keys(after.context)]);
  for (const k of keys)
    if (before.context[k] !== after.context[k])
      changed.push(`context.${k}: ${diff(before.context[k] ?? '', after.context[k] ?? '')}`);
  for (const k of ['rtcMs', 'tones', 'batches'] as const)
    if (before[k] !== after[k]) changed.push(`${k}: ${before[k]} became ${after[k]}`);
  for (const k of ['therapy', 'motor', 'alarms'] as const)
    if (before.state[k] !== after.state[k])
      changed.push(`${k} state: ${before.state[k]} became ${after.state[k]}`);
  if (changed.length > 0) {
    fail(
      INVARIANTS.refusal,
      `${command} at ${rig.at} was refused (${outcome.refused.map((r) => r.message).join('; ')}) but changed ${changed.join('; ')}`,
    );
  }
  for (const r of outcome.refused) {
    const named =
      r.field.length > 0 && r.value.length > 0 && r.limit.length > 0 && r.message.includes(r.field);
    if (!named)
      fail(
        INVARIANTS.refusal,
        `a refusal must name the field, the value and the limit: ${JSON.stringify(r)}`,
      );
  }
}

function diff(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `…${a.slice(Math.max(0, i - 40), i + 60)}… became …${b.slice(Math.max(0, i - 40), i + 60)}…`;
}

// ---------------------------------------------------------------------------------------------
// INV-7: every denied press has one reason, the first true one.

/** The facts behind each deny reason, established from outside just before a press. */
export type PressFacts = Record<DenyReason, boolean> & {
  /** The cap counting the running batch as planned (a stall not yet reported): also a true basis. */
  dailyDoseCapAsPlanned: boolean;
  detail: string;
};

/** The declared order of precedence of the deny reasons (REQ-PTM-5), as the product states it. */
export const denyPrecedence: readonly DenyReason[] = denyReasons;

export function pressFacts(rig: PumpRig, model: ReferenceModel): PressFacts {
  const state = rig.controller.state;
  const c = rig.controller.context;
  const now = rig.nowMs;
  const bolusNl = model.bolusVolumeNl();
  const therapy = state.therapy;
  // While a bridge runs, the bolus is judged on what the path may push (REQ-LIM-7).
  const judged = model.mixture ? tipMixtureWorstCase(model.mixture, rig.log) : [];
  // REQ-LIM-6, forward: with this bolus, every window ending in the next 24 hours stays within
  // each drug's hard daily maximum (the kit's own stroke walk, testing/dailyCap.ts).
  const capExceeded = (assumeNoStall: boolean) => {
    if (model.ptm === undefined || bolusNl <= 0 || judged.length === 0) return false;
    const durationMs = model.ptm.bolusDurationMs;
    const bolus = {
      startMs: now,
      volumeNl: bolusNl,
      rateNlPerDay: Math.max(1, Math.floor((bolusNl * DAY_MS) / durationMs)),
    };
    return (
      capWouldExceed(
        rig,
        model,
        { bolus, mixture: judged, assumeNoStall, prescription: model.prescription },
        () => withNewBolus(c, now, 'patient', bolusNl, durationMs),
      ) !== undefined
    );
  };
  const capTruth = capExceeded(false);
  const facts: PressFacts = {
    stopped: !(therapy.startsWith('infusing') || therapy === 'minimumRate'),
    noPtm: model.ptm === undefined || bolusNl <= 0,
    reservoirEmpty: c.reservoirNl <= rig.config.emptyReservoirNl,
    criticalAlarm:
      therapy === 'minimumRate' || c.alarms.some((a) => alarmPriorities[a.code] === 'critical'),
    lockout:
      now < model.lockoutUntilMs() ||
      (therapy.startsWith('infusing.') && therapy !== 'infusing.basal'),
    count24h: model.ptm !== undefined && model.grantsInWindow(now) >= model.ptm.bolusesPer24hMax,
    bolusDoseCap: judged.some((d) => {
      const lim = rig.library.drugs.find((x) => x.drug === d.drug);
      return (
        lim !== undefined && bolusNl * d.concentrationUgPerMl > lim.bolusDoseNgHardMax * PG_PER_NG
      );
    }),
    dailyDoseCap: capTruth,
    dailyDoseCapAsPlanned: capTruth || capExceeded(true),
    detail: `therapy ${therapy}, reservoir ${c.reservoirNl} nL, lockout until ${formatTimeMs(model.lockoutUntilMs())}, ${model.grantsInWindow(now)} grants in 24 h`,
  };
  return facts;
}

/**
 * The kit's forward daily cap (REQ-LIM-6) for a decision taken now: the first window ending in the
 * next 24 hours that would pass a drug's hard maximum, by the kit's own stroke walk over the
 * strokes that truly left the pump (as planned, with `assumeNoStall`). The programme after the
 * decision is the kit's own arithmetic of `prescription` and `bolus` (the running bolus when none
 * is given); while a bridge, a priming bolus or the safe minimum rate shapes it, the programme is
 * the controller's, as `firmwareAfter` leaves it (what the kit does not yet model on its own).
 */
export function capWouldExceed(
  rig: PumpRig,
  model: ReferenceModel,
  decision: {
    prescription: Prescription | undefined;
    bolus?: OracleBolus;
    mixture: Mixture;
    assumeNoStall: boolean;
  },
  firmwareAfter: () => PumpContext,
): CapOracleExcess | undefined {
  const c = rig.controller.context;
  const now = rig.nowMs;
  const stroke = rig.config.strokeVolumeNl;
  const running = c.batch;
  const doneFine = running ? strokesLeftBy(running, running.count, now) * stroke * FINE_PER_NL : 0;
  const owedFine = c.owedFine + programmedFine(programmeOf(c), c.settledAtMs, now) - doneFine;
  const primary = model.mixture?.[0];
  const own =
    c.bridge === undefined &&
    c.mode !== 'minimum' &&
    c.bolus?.kind !== 'priming' &&
    decision.prescription !== undefined &&
    primary !== undefined;
  let programmed: (e: number) => number;
  if (own) {
    const p = decision.prescription!;
    const doses =
      p.mode === 'continuous' ? [{ startMinute: 0, doseNgPerDay: p.doseNgPerDay }] : p.steps;
    const steps = doses.map((s) => ({
      startMinute: s.startMinute,
      rateNlPerDay: Math.floor((s.doseNgPerDay * PG_PER_NG) / primary.concentrationUgPerMl),
    }));
    const bolus = decision.bolus ?? c.bolus;
    const offset = rig.simClock.rtcMs() - now;
    programmed = (e) => oracleProgrammedFine(steps, offset, bolus, now, e);
  } else {
    const programme: Programme = { ...programmeOf(firmwareAfter()), mode: 'basal' };
    const atMinimum = c.mode === 'minimum' ? { ...programme, mode: 'minimum' as const } : undefined;
    programmed = (e) =>
      Math.max(
        programmedFine(programme, now, e),
        atMinimum ? programmedFine(atMinimum, now, e) : 0,
      );
  }
  return capOracle({
    library: rig.library,
    nowMs: now,
    strokeVolumeNl: stroke,
    strokes: rig.strokesDone(now, DAY_MS, decision.assumeNoStall),
    owedFine,
    programmedFine: programmed,
    mixture: decision.mixture,
  });
}

/** INV-7 (and the grant side of INV-1/2): judge the outcome of a press against the facts before it. */
export function checkPress(
  rig: PumpRig,
  facts: PressFacts,
  outcome: Outcome,
): 'granted' | DenyReason {
  const granted = outcome.records.filter((r) => r.type === 'pressGranted');
  const denied = outcome.records.filter(
    (r): r is Extract<LogRecord, { type: 'pressDenied' }> => r.type === 'pressDenied',
  );
  const when = formatTimeMs(outcome.atMs);
  if (granted.length + denied.length !== 1) {
    fail(
      INVARIANTS.denial,
      `press at ${when} logged ${granted.length} grants and ${denied.length} denials; exactly one outcome expected`,
    );
  }
  // The patient hears the answer: one tone, the granted or the denied pattern (REQ-PTM-6).
  const answer = granted.length === 1 ? 'pressGranted' : 'pressDenied';
  const pressTones = outcome.tones.filter((t) => t === 'pressGranted' || t === 'pressDenied');
  if (pressTones.length !== 1 || pressTones[0] !== answer)
    fail(
      INVARIANTS.denial,
      `press at ${when} answered with tones [${outcome.tones.join(', ')}]; expected one "${answer}"`,
    );
  const firstTrue = denyPrecedence.find((r) => facts[r]);
  if (granted.length === 1) {
    if (firstTrue !== undefined)
      fail(
        INVARIANTS.denial,
        `press at ${when} was granted although "${firstTrue}" held (${facts.detail})`,
      );
    return 'granted';
  }
  const reason = denied[0]!.reason;
  const holds = facts[reason] || (reason === 'dailyDoseCap' && facts.dailyDoseCapAsPlanned);
  if (!holds)
    fail(
      INVARIANTS.denial,
      `press at ${when} denied for "${reason}", which was not true (${facts.detail})`,
    );
  const earlier = denyPrecedence.slice(0, denyPrecedence.indexOf(reason)).find((r) => facts[r]);
  if (earlier)
    fail(
      INVARIANTS.denial,
      `press at ${when} denied for "${reason}" but "${earlier}" comes first and held (${facts.detail})`,
    );
  return reason;
}

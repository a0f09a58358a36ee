/**
 * The pump's event log: a bounded ring of timestamped records.
 *
 * Records are appended by the controller for every programming change (old and new values),
 * refusal, patient press (granted, or denied with its one reason), bolus (patient, clinician or
 * priming), alarm, refill, drug change (the bridge that keeps the old dose at the catheter tip, or
 * why there is none, and a confirmed dose-rate increase), stop and resume. The ring keeps the newest `capacity` records; the persistence layer mirrors each record
 * to non-volatile memory as it is appended.
 */
import { assert } from './assert.js';
import type { AlarmCode } from './alarms.js';
import type { BolusKind } from './dosing/delivery.js';

export type DenyReason =
  | 'stopped'
  | 'reservoirEmpty'
  | 'criticalAlarm'
  | 'noPtm'
  | 'lockout'
  | 'count24h'
  | 'bolusDoseCap'
  | 'dailyDoseCap';

/** In order of precedence: a denied press is logged with the first that holds. */
export const denyReasons: readonly DenyReason[] = [
  'stopped',
  'reservoirEmpty',
  'criticalAlarm',
  'noPtm',
  'lockout',
  'count24h',
  'bolusDoseCap',
  'dailyDoseCap',
];

export type LogBody =
  | {
      type: 'boot';
      restored: boolean;
      memoryError: boolean;
      lowBatteryReset: boolean;
      stoppedForMs?: number;
    }
  | { type: 'programmed'; field: 'prescription' | 'ptm'; old: unknown; new: unknown }
  | {
      type: 'refused';
      command: string;
      field: string;
      value: string;
      limit: string;
      message: string;
    }
  /** A confirmed programme passed this soft maximum: the clinician's override, on the record. */
  | { type: 'softLimitConfirmed'; command: string; field: string; value: string; limit: string }
  | { type: 'pressGranted'; bolusNl: number }
  | { type: 'pressDenied'; reason: DenyReason }
  | { type: 'bolusStarted'; kind: BolusKind; volumeNl: number; durationMs: number }
  | { type: 'bolusFinished'; kind: BolusKind; volumeNl: number }
  | { type: 'bolusCancelled'; kind: BolusKind; reason: string }
  | { type: 'alarmRaised'; code: AlarmCode; priority: 'critical' | 'nonCritical' }
  | { type: 'alarmCleared'; code: AlarmCode }
  | {
      type: 'refill';
      withdrawnNl: number;
      addedNl: number;
      estimateBeforeNl: number;
      discrepancyNl: number;
      discrepancyFlagged: boolean;
      mixture: unknown;
      discrepancyLimitPercent?: number;
    }
  /** A refill's new mixture raises dose rates beyond the configured factor, and the clinician confirmed it. */
  | {
      type: 'doseRateIncreaseConfirmed';
      limitPpm: number;
      drugs: { drug: string; increaseFactorPpm: number | null }[];
    }
  /**
   * A bridge after a drug change: the old basal schedule runs until the pump estimates the new
   * mixture reaches the catheter tip at `endMs` (monotonic), having pushed the path's `volumeNl`.
   */
  | {
      type: 'bridgeStarted';
      volumeNl: number;
      endMs: number;
      oldRateNlPerDay: number;
      oldMixture: unknown;
      newMixture: unknown;
      pathMixture: unknown;
      paused: boolean;
      /** The old schedule is not kept: only the counting of the path's worst case (a washout). */
      washoutOnly?: boolean;
    }
  /** A bolus pushed the path faster, or therapy paused and resumed: the bridge's estimated end moved. */
  | {
      type: 'bridgeAdjusted';
      reason: 'bolus' | 'paused' | 'resumed' | 'clockSet';
      endMs: number;
      remainingNl: number;
    }
  /** The pump estimates the new mixture reached the tip: the new schedule runs from here. */
  | { type: 'bridgeFinished'; startedAtMs: number; volumeNl: number }
  /** The mixture changed but no bridge runs: the tip delivers the old mixture at the new rate until it clears. */
  | {
      type: 'bridgeSkipped';
      reason: 'declined' | 'catheter not recorded' | 'no basal' | 'empty path';
      newMixtureAtTipAfterMs: number | null;
    }
  | { type: 'stopped' }
  | { type: 'resumed' }
  | { type: 'minimumRate'; reason: string }
  | { type: 'clockSet'; oldRtcMs: number; newRtcMs: number }
  | { type: 'motorStall'; attempt: number; strokesDone: number }
  | { type: 'motorRecovered'; stalledForMs: number }
  | { type: 'deliveryMissed'; volumeNl: number }
  /** The motor reported strokes earlier than the programme called for them (by this volume). */
  | { type: 'deliveryAhead'; volumeNl: number }
  | { type: 'battery'; level: string }
  | { type: 'memory'; what: string }
  | { type: 'longStop'; stoppedForMs: number };

export type LogRecord = LogBody & { seq: number; atMs: number; rtcMs: number };

export class EventLog {
  private readonly ring: (LogRecord | undefined)[];
  private nextSeq = 0;
  /** The first sequence number this ring has held (above 0 after a restore). */
  private firstSeq = 0;

  constructor(readonly capacity: number) {
    assert(capacity > 0, 'the event log needs room for at least one record');
    this.ring = new Array<LogRecord | undefined>(capacity);
  }

  append(body: LogBody, atMs: number, rtcMs: number): LogRecord {
    const record = { ...body, seq: this.nextSeq, atMs, rtcMs } as LogRecord;
    this.ring[this.nextSeq % this.capacity] = record;
    this.nextSeq++;
    return record;
  }

  /** Restore after a reset: records in sequence order (as recovered from memory). */
  restore(records: readonly LogRecord[]): void {
    const kept = records.slice(-this.capacity);
    if (kept.length > 0 && this.nextSeq === 0) this.firstSeq = kept[0]!.seq;
    for (const r of kept) {
      this.ring[r.seq % this.capacity] = r;
      this.nextSeq = Math.max(this.nextSeq, r.seq + 1);
    }
  }

  get size(): number {
    return Math.min(this.nextSeq - this.firstSeq, this.capacity);
  }

  get appended(): number {
    return this.nextSeq;
  }

  /** The records still held, oldest first. */
  records(): LogRecord[] {
    const out: LogRecord[] = [];
    for (let seq = this.nextSeq - this.size; seq < this.nextSeq; seq++)
      out.push(this.ring[seq % this.capacity]!);
    return out;
  }
}

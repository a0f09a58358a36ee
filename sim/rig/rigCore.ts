/**
 * The rig emulator's core, without I/O: what a rig's microcontroller does, driven by bytes and
 * times passed in (docs/protocol.md §9, the checklist for a rig firmware).
 *
 * It runs the protocol's `RigLink`, a stepper that executes batches of strokes on schedule, and a
 * balance under the outlet. emulator.ts moves its bytes to a serial port and arms its one timer;
 * tests join it to the host session on a wire in memory, in virtual time.
 *
 * Model (docs/rig.md, "The emulator"):
 * - Time: the link runs on real milliseconds; the motor and the balance on rig time, real time ×
 *   `timeScale`, the same scale the host runs its controller at. Every `…RealMs` argument is real.
 * - Strokes: a batch starts when its DELIVER_STROKES arrives; stroke j is due at
 *   start + leadMs + (j − 1) × intervalMs (rig time). A stroke due at or before the moment a STOP
 *   arrives is done. Each stroke moves `strokeVolumeNl × (1 + strokeVolumeErrorPpm / 10^6)` nL.
 * - Balance: water, density 1.0 g/mL, so 1 nL weighs 1 µg. A reading is the true mass plus
 *   Gaussian noise (`noiseMg`, seeded), every `balanceIntervalMs` of rig time but no more often
 *   than every `balanceIntervalRealMsMin` real ms. Readings are dropped, never queued, when the
 *   link is down or busy: a balance streams, it does not remember.
 * - Safety behaviour: the motor stops when the link is lost (state `linkLost`); a reset stops it
 *   too (`interrupted`). The last-batch record and the batch-id memory survive a reset
 *   (capability `persistentBatchRecord`, as FRAM would keep them). A batch id is never executed
 *   twice; every accepted or rejected batch gets exactly one BATCH_REPORT, resent in the next
 *   session if the session it was sent in ended before its ACK.
 *   The pan loses `evaporationMgPerHour` linearly with rig time.
 * - Faults: bytes dropped or corrupted at a rate in both directions, a delay on both directions,
 *   a silent cable (`disconnect`), a motor that jams after N strokes, a reset (`reboot`), a
 *   firmware that reports only `reportedStrokesPpm` of its strokes. Every random choice comes
 *   from `seed`.
 *
 * This module knows nothing of serial ports, timers or the host's controller.
 */
import { assert } from '../../src/assert.js';
import { strokeLeavesAtMs, strokesLeftBy } from '../../hal/sim/strokeClock.js';
import {
  BatchMemory,
  firmwareIdBytes,
  RigLink,
  wireTimeMs,
  type BatchReportMessage,
  type HostAppMessage,
  type LastBatchState,
  type RigLinkEvent,
  type RigStatus,
  type TonePattern,
} from '../../src/protocol/index.js';
import { HOUR_MS } from '../../src/units.js';
import { Prng } from '../prng.js';

export interface RigFaults {
  /** Chance that a byte is lost, each direction, 0 … 1. */
  dropRate: number;
  /** Chance that a byte arrives as another value, each direction, 0 … 1. */
  corruptRate: number;
  /** Real milliseconds added to every byte, each direction. */
  delayMs: number;
}

export interface RigCoreOptions {
  seed: number;
  /** Rig milliseconds per real millisecond: the host's --time-scale. */
  timeScale: number;
  /** The true volume of one stroke (nL). */
  strokeVolumeNl: number;
  /** Systematic error of every stroke, parts per million. */
  strokeVolumeErrorPpm: number;
  /** What HELLO_ACK reports as the calibrated stroke volume (null: never calibrated). */
  calibratedStrokeVolumeNl: number | null;
  /** Standard deviation of the balance noise, mg. */
  noiseMg: number;
  /** Mass the pan loses to evaporation, mg per hour of rig time (the reading falls linearly). */
  evaporationMgPerHour: number;
  /**
   * The share of its strokes a faulty rig firmware reports, parts per million (1 000 000: every
   * stroke). Its reports and its batch record both say that count; the balance weighs all. Above
   * 1 000 000 (tests only; the CLI stops there) it over-reports.
   */
  reportedStrokesPpm: number;
  /** Rig time between balance readings. */
  balanceIntervalMs: number;
  /** Real time between balance readings at least (a fast time scale must not flood the link). */
  balanceIntervalRealMsMin: number;
  /** The motor jams after this many strokes in total (undefined: never). */
  stallAfterStrokes: number | undefined;
  /** Rig time the jam lasts (undefined: until `unjam()`). */
  stallForMs: number | undefined;
  strokesPerBatchMax: number;
  /**
   * The last-batch record and the batch-id memory survive a reset (FRAM). False models a rig
   * whose record is in RAM: after a reset it reports no last batch.
   */
  persistentBatchRecord: boolean;
  /**
   * Mixed into every boot id. A real rig draws a new boot id at every power-up; so does `rig
   * emulate` (a random nonce per process), so an emulator restarted with the same --seed still
   * looks like a reset. 0 (the default) keeps boot ids a function of the seed, for tests.
   */
  bootNonce: number;
  faults: RigFaults;
}

export const rigCoreDefaults: RigCoreOptions = {
  seed: 1,
  timeScale: 1,
  strokeVolumeNl: 500,
  strokeVolumeErrorPpm: 0,
  calibratedStrokeVolumeNl: null,
  bootNonce: 0,
  noiseMg: 0,
  evaporationMgPerHour: 0,
  reportedStrokesPpm: 1_000_000,
  balanceIntervalMs: 1_000,
  balanceIntervalRealMsMin: 20,
  stallAfterStrokes: undefined,
  stallForMs: undefined,
  strokesPerBatchMax: 1_000_000,
  persistentBatchRecord: true,
  faults: { dropRate: 0, corruptRate: 0, delayMs: 0 },
};

/** The firmware id announces the time scale, so a host at another scale can refuse to run. */
export function emulatorFirmwareId(timeScale: number): string {
  const id = `itpump-emu x${timeScale}`;
  assert(id.length <= firmwareIdBytes, `firmware id ${id} too long`);
  return id;
}

/** What the emulated rig has truly done with one batch. */
export interface RigBatchTruth {
  batchId: number;
  count: number;
  strokesDone: number;
  state: LastBatchState | 'rejected';
}

interface RunningBatch {
  batchId: number;
  count: number;
  leadMs: number;
  intervalMs: number;
  /** Rig time of arrival. */
  startMs: number;
  done: number;
}

interface LastBatchRecord {
  batchId: number;
  strokesDone: number;
  state: LastBatchState;
}

interface Transit {
  atRealMs: number;
  bytes: Uint8Array;
}

/** Balance readings wait for the link only this deep: reports and presses must not queue behind. */
const balanceQueueLengthMax = 2;

export class RigCore {
  readonly options: RigCoreOptions;
  private link: RigLink;
  private readonly prng: Prng;
  private readonly wirePrng: Prng;
  private readonly balancePrng: Prng;
  private bootId: number;
  private nowRealMs: number;
  private running: RunningBatch | undefined;
  private record: LastBatchRecord = { batchId: 0, strokesDone: 0, state: 'none' };
  private memory = new BatchMemory(64);
  private pendingReports: BatchReportMessage[] = [];
  private estop: 'host' | undefined;
  private jammedSinceMs: number | undefined;
  private nextBalanceRealMs: number;
  private silentUntilRealMs = Number.NEGATIVE_INFINITY;
  private inbound: Transit[] = [];
  private outbound: Transit[] = [];
  private lastStrokeMs = Number.NEGATIVE_INFINITY;
  private pressId = 0;
  private statusKey = '';

  // --- The truth, for tests and the status line ----------------------------------------------------
  /** Strokes the motor mechanically completed, all batches, all boots. */
  strokesExecuted = 0;
  /** The true mass on the balance (µg, fractional). */
  trueMassUg = 0;
  readonly batches = new Map<number, RigBatchTruth>();
  readonly tones: { rigMs: number; pattern: TonePattern }[] = [];
  reboots = 0;
  bytesDropped = 0;
  bytesCorrupted = 0;
  balanceReadingsSent = 0;
  presses = 0;
  pressesLost = 0;
  /** Everything worth a line in the emulator's log. */
  onEvent: ((text: string) => void) | undefined;

  constructor(options: Partial<RigCoreOptions> & { startRealMs: number }) {
    this.options = {
      ...rigCoreDefaults,
      ...options,
      faults: { ...rigCoreDefaults.faults, ...options.faults },
    };
    const o = this.options;
    assert(Number.isInteger(o.timeScale) && o.timeScale >= 1, `timeScale ${o.timeScale}`);
    assert(o.strokeVolumeNl > 0, `strokeVolumeNl ${o.strokeVolumeNl}`);
    assert(o.balanceIntervalMs >= 1 && o.balanceIntervalRealMsMin >= 1, 'balance intervals');
    this.prng = new Prng(o.seed);
    this.wirePrng = this.prng.fork('wire');
    this.balancePrng = this.prng.fork('balance');
    this.nowRealMs = options.startRealMs;
    this.bootId = this.drawBootId('boot');
    this.nextBalanceRealMs = options.startRealMs + this.balancePeriodRealMs();
    this.link = new RigLink({ startMs: options.startRealMs, status: this.status() });
  }

  // --- I/O --------------------------------------------------------------------------------------------

  /** Bytes from the wire. They pass the fault injection, then (after `delayMs`) the link. */
  receiveBytes(bytes: Uint8Array, realMs: number): void {
    this.advance(realMs);
    if (realMs < this.silentUntilRealMs) return; // the cable is cut
    const arrived = this.spoil(bytes);
    if (arrived.length === 0) return;
    if (this.options.faults.delayMs > 0)
      this.inbound.push({ atRealMs: realMs + this.options.faults.delayMs, bytes: arrived });
    else this.deliverToLink(arrived);
    this.afterStep();
  }

  handleTimeout(realMs: number): void {
    this.advance(realMs);
    while (this.inbound[0] !== undefined && this.inbound[0].atRealMs <= realMs)
      this.deliverToLink(this.inbound.shift()!.bytes);
    this.link.handleTimeout(realMs);
    this.afterStep();
  }

  /** Bytes for the wire now (after the fault injection and the delay). */
  takeBytes(realMs: number): Uint8Array {
    this.advance(realMs);
    this.collectOutput();
    const due: Uint8Array[] = [];
    while (this.outbound[0] !== undefined && this.outbound[0].atRealMs <= realMs)
      due.push(this.outbound.shift()!.bytes);
    return concat(due);
  }

  nextDeadlineRealMs(): number {
    const k = this.options.timeScale;
    let due = Math.min(this.link.nextDeadlineMs(), this.nextBalanceRealMs);
    const b = this.running;
    if (b !== undefined) due = Math.min(due, Math.ceil(strokeLeavesAtMs(b, b.done + 1) / k));
    if (this.jammedSinceMs !== undefined && this.options.stallForMs !== undefined) {
      due = Math.min(due, Math.ceil((this.jammedSinceMs + this.options.stallForMs) / k));
    }
    if (this.inbound[0] !== undefined) due = Math.min(due, this.inbound[0].atRealMs);
    if (this.outbound[0] !== undefined) due = Math.min(due, this.outbound[0].atRealMs);
    if (Number.isFinite(this.silentUntilRealMs) && this.silentUntilRealMs > this.nowRealMs)
      due = Math.min(due, this.silentUntilRealMs);
    return Math.max(due, this.nowRealMs);
  }

  // --- Faults and the operator ---------------------------------------------------------------------

  /** The cable goes silent for `forRealMs`: nothing in, nothing out. The motor runs on. */
  disconnect(realMs: number, forRealMs: number): void {
    this.advance(realMs);
    this.silentUntilRealMs = realMs + forRealMs;
    this.inbound = [];
    this.outbound = [];
    this.log(`cable cut for ${forRealMs} ms`);
  }

  /** A reset: the motor stops mid-batch, RAM is lost, the persistent record is kept. */
  reboot(realMs: number): void {
    this.advance(realMs);
    const b = this.running;
    if (b !== undefined) {
      this.running = undefined;
      this.record = { batchId: b.batchId, strokesDone: b.done, state: 'interrupted' };
      this.truth(b.batchId).state = 'interrupted';
      this.memory.ended({
        type: 'batchReport',
        batchId: b.batchId,
        strokesDone: b.done,
        reason: 'stopped',
        rigTimeMs: wireTimeMs(this.rigMs()),
      });
    }
    if (!this.options.persistentBatchRecord) {
      this.record = { batchId: 0, strokesDone: 0, state: 'none' };
      this.memory = new BatchMemory(64);
    }
    this.reboots++;
    this.bootId = this.drawBootId(`boot${this.reboots}`);
    this.pendingReports = [];
    this.estop = undefined;
    this.pressId = 0;
    this.inbound = [];
    this.outbound = [];
    this.link = new RigLink({ startMs: realMs, status: this.status() });
    this.statusKey = '';
    this.log(
      `reset (boot id ${this.bootId})${b !== undefined ? `: batch ${b.batchId} interrupted after ${b.done} of ${b.count} strokes` : ''}`,
    );
  }

  /** Jam the motor now (it stays jammed until `unjam()` or `stallForMs`). */
  jam(realMs: number): void {
    this.advance(realMs);
    this.jammedSinceMs ??= this.rigMs();
    this.log('motor jammed');
  }

  unjam(realMs: number): void {
    this.advance(realMs);
    this.jammedSinceMs = undefined;
    this.options.stallAfterStrokes = undefined;
    this.log('motor free');
  }

  /** The patient presses the rig's button. */
  press(realMs: number): void {
    this.advance(realMs);
    this.pressId++;
    this.presses++;
    if (this.link.linkUp && this.link.canSend()) {
      this.link.send(
        { type: 'buttonPress', pressId: this.pressId, rigTimeMs: wireTimeMs(this.rigMs()) },
        realMs,
      );
    } else {
      this.pressesLost++;
    }
  }

  // --- State, for tests and the CLI ------------------------------------------------------------------

  get linkUp(): boolean {
    return this.link.linkUp;
  }

  /** A boot id in 1..2^31 − 1: seeded, with the options' nonce mixed in. */
  private drawBootId(stream: string): number {
    const seeded = this.prng.fork(stream).int(1, 0x7fff_ffff);
    return (seeded ^ this.options.bootNonce) & 0x7fff_ffff || 1;
  }

  get currentBootId(): number {
    return this.bootId;
  }

  get batchRunning(): boolean {
    return this.running !== undefined;
  }

  get jammed(): boolean {
    return this.jammedSinceMs !== undefined;
  }

  get linkStats() {
    return this.link.stats;
  }

  rigMs(realMs = this.nowRealMs): number {
    return Math.floor(realMs * this.options.timeScale);
  }

  // --- Inside ------------------------------------------------------------------------------------------

  private balancePeriodRealMs(): number {
    return Math.max(
      this.options.balanceIntervalRealMsMin,
      Math.ceil(this.options.balanceIntervalMs / this.options.timeScale),
    );
  }

  private log(text: string): void {
    this.onEvent?.(text);
  }

  private truth(batchId: number): RigBatchTruth {
    const t = this.batches.get(batchId);
    assert(t !== undefined, `no truth for batch ${batchId}`);
    return t;
  }

  private spoil(bytes: Uint8Array): Uint8Array {
    const { dropRate, corruptRate } = this.options.faults;
    if (dropRate === 0 && corruptRate === 0) return bytes;
    const out: number[] = [];
    for (const byte of bytes) {
      if (this.wirePrng.chance(dropRate)) {
        this.bytesDropped++;
        continue;
      }
      if (this.wirePrng.chance(corruptRate)) {
        this.bytesCorrupted++;
        out.push(byte ^ this.wirePrng.int(1, 255));
      } else {
        out.push(byte);
      }
    }
    return new Uint8Array(out);
  }

  private deliverToLink(bytes: Uint8Array): void {
    // The HELLO_ACK a HELLO may trigger inside receiveBytes reports the record as of now.
    this.syncStatus();
    this.link.receiveBytes(bytes, this.nowRealMs);
  }

  /** Hand the link what HELLO_ACK must report, when it changed (the link validates each one). */
  private syncStatus(): void {
    const r = this.record;
    const key = `${this.bootId}/${r.batchId}/${r.strokesDone}/${r.state}/${this.estop ?? ''}`;
    if (key === this.statusKey) return;
    this.statusKey = key;
    this.link.setStatus(this.status());
  }

  /**
   * Everything due by `realMs`, in time order: strokes, the end of a jam, balance readings. A
   * reading taken between two strokes weighs the first and not the second, however late the
   * emulator's timer fired.
   */
  private advance(realMs: number): void {
    assert(realMs >= this.nowRealMs, `rig time went back: ${realMs} < ${this.nowRealMs}`);
    this.nowRealMs = realMs;
    const nowMs = this.rigMs(realMs);
    for (;;) {
      const readingAtMs =
        this.nextBalanceRealMs <= realMs
          ? this.rigMs(this.nextBalanceRealMs)
          : Number.POSITIVE_INFINITY;
      this.strokesUntil(Math.min(nowMs, readingAtMs));
      if (readingAtMs === Number.POSITIVE_INFINITY) break;
      this.sendBalance(this.nextBalanceRealMs);
      this.nextBalanceRealMs += this.balancePeriodRealMs();
    }
    const o = this.options;
    if (
      o.stallForMs !== undefined &&
      this.jammedSinceMs !== undefined &&
      nowMs >= this.jammedSinceMs + o.stallForMs
    )
      this.jammedSinceMs = undefined;
    this.syncStatus();
  }

  /** The running batch's strokes due by rig time `untilMs`. */
  private strokesUntil(untilMs: number): void {
    const o = this.options;
    const b = this.running;
    if (b === undefined) return;
    const due = strokesLeftBy(b, b.count, untilMs);
    while (b.done < due) {
      const atMs = strokeLeavesAtMs(b, b.done + 1);
      if (
        o.stallForMs !== undefined &&
        this.jammedSinceMs !== undefined &&
        atMs >= this.jammedSinceMs + o.stallForMs
      )
        this.jammedSinceMs = undefined;
      if (this.jammedSinceMs !== undefined) {
        this.endBatch(b, 'stalled', atMs);
        return;
      }
      this.stroke(b, atMs);
    }
    if (b.done === b.count) this.endBatch(b, 'completed', strokeLeavesAtMs(b, b.count));
  }

  private stroke(b: RunningBatch, atMs: number): void {
    const o = this.options;
    b.done++;
    this.strokesExecuted++;
    this.truth(b.batchId).strokesDone = b.done;
    this.trueMassUg += o.strokeVolumeNl * (1 + o.strokeVolumeErrorPpm / 1e6); // water: 1 nL = 1 µg
    this.lastStrokeMs = atMs;
    if (
      o.stallAfterStrokes !== undefined &&
      this.strokesExecuted >= o.stallAfterStrokes &&
      this.jammedSinceMs === undefined
    ) {
      this.jammedSinceMs = atMs;
      o.stallAfterStrokes = undefined;
      this.log(`motor jammed after stroke ${this.strokesExecuted}`);
    }
  }

  private sendBalance(atRealMs: number): void {
    if (!this.link.linkUp || this.link.queueLength >= balanceQueueLengthMax || !this.link.canSend())
      return;
    const atMs = this.rigMs(atRealMs);
    const noise =
      this.options.noiseMg > 0 ? this.balancePrng.normal(0, this.options.noiseMg * 1_000) : 0;
    // A balance settles a couple of seconds after a drop falls on it.
    const stable = atMs - this.lastStrokeMs >= 2_000;
    this.link.send(
      {
        type: 'balanceReading',
        massUg: Math.round(
          this.trueMassUg - (this.options.evaporationMgPerHour * 1_000 * atMs) / HOUR_MS + noise,
        ),
        rigTimeMs: wireTimeMs(atMs),
        stable,
      },
      this.nowRealMs,
    );
    this.balanceReadingsSent++;
  }

  private endBatch(
    b: RunningBatch,
    reason: 'completed' | 'stopped' | 'stalled',
    atMs: number,
    recordAs?: LastBatchState,
  ): void {
    assert(this.running === b, 'ending a batch that is not running');
    this.running = undefined;
    // What the firmware says it did: all of it, unless it is set to under-report.
    const reportedDone = Math.floor((b.done * this.options.reportedStrokesPpm) / 1_000_000);
    const report: BatchReportMessage = {
      type: 'batchReport',
      batchId: b.batchId,
      strokesDone: reportedDone,
      reason,
      rigTimeMs: wireTimeMs(atMs),
    };
    this.memory.ended(report);
    this.record = { batchId: b.batchId, strokesDone: reportedDone, state: recordAs ?? reason };
    this.truth(b.batchId).state = recordAs ?? reason;
    this.log(`batch ${b.batchId} ${recordAs ?? reason}: ${b.done} of ${b.count} strokes`);
    this.queueReport(report);
  }

  private queueReport(report: BatchReportMessage): void {
    this.pendingReports.push(report);
    this.flushReports();
  }

  private flushReports(): void {
    while (this.pendingReports.length > 0 && this.link.linkUp && this.link.canSend()) {
      this.link.send(this.pendingReports.shift()!, this.nowRealMs);
    }
  }

  private afterStep(): void {
    for (let e = this.link.nextEvent(); e !== undefined; e = this.link.nextEvent()) this.handle(e);
    this.flushReports();
    this.collectOutput();
  }

  private collectOutput(): void {
    const bytes = this.link.bytesToSend();
    if (bytes.length === 0 || this.nowRealMs < this.silentUntilRealMs) return;
    const sent = this.spoil(bytes);
    if (sent.length > 0)
      this.outbound.push({ atRealMs: this.nowRealMs + this.options.faults.delayMs, bytes: sent });
  }

  private handle(e: RigLinkEvent): void {
    switch (e.type) {
      case 'linkUp':
        if (this.estop === 'host') this.estop = undefined; // a new session clears the host's stop
        this.log(`session ${e.sessionId} open`);
        return;
      case 'linkLost': {
        const b = this.running;
        if (b !== undefined) this.endBatch(b, 'stopped', this.rigMs(), 'linkLost');
        // Reports the host may not have: send them again in the next session (it ignores repeats).
        const unfinished = [e.unconfirmed, ...e.unsent].filter(
          (m): m is BatchReportMessage => m?.type === 'batchReport',
        );
        this.pendingReports = [
          ...unfinished,
          ...this.pendingReports.filter((r) => !unfinished.includes(r)),
        ];
        this.log(`link lost (${e.reason})`);
        return;
      }
      case 'rejected':
        this.log(`host refused ${e.message.type} (${e.reason})`);
        return;
      case 'message':
        this.command(e.message);
        return;
    }
  }

  private command(m: HostAppMessage): void {
    const nowMs = this.rigMs();
    switch (m.type) {
      case 'deliverStrokes': {
        const known = this.memory.outcomeOf(m.batchId);
        if (known.state === 'running') return; // its report follows when it ends
        if (known.state === 'ended') {
          this.queueReport(known.report); // a repeat: the same answer, never a second run
          return;
        }
        // The order of docs/protocol.md §6.8.
        const problem =
          this.running !== undefined
            ? `batch ${this.running.batchId} is running`
            : this.estop !== undefined
              ? 'emergency stop engaged'
              : m.count > this.options.strokesPerBatchMax
                ? `count ${m.count} over ${this.options.strokesPerBatchMax}`
                : undefined;
        this.batches.set(m.batchId, {
          batchId: m.batchId,
          count: m.count,
          strokesDone: 0,
          state: 'running',
        });
        if (problem !== undefined) {
          const report: BatchReportMessage = {
            type: 'batchReport',
            batchId: m.batchId,
            strokesDone: 0,
            reason: 'rejected',
            rigTimeMs: wireTimeMs(nowMs),
          };
          this.memory.ended(report);
          this.truth(m.batchId).state = 'rejected';
          this.log(`batch ${m.batchId} rejected: ${problem}`);
          this.queueReport(report);
          return;
        }
        this.memory.started(m.batchId);
        this.running = {
          batchId: m.batchId,
          count: m.count,
          leadMs: m.leadMs,
          intervalMs: m.intervalMs,
          startMs: nowMs,
          done: 0,
        };
        this.record = { batchId: m.batchId, strokesDone: 0, state: 'running' };
        this.log(
          `batch ${m.batchId}: ${m.count} strokes, first after ${m.leadMs} ms, then every ${m.intervalMs} ms`,
        );
        this.advance(this.nowRealMs); // a batch with leadMs 0 makes its first stroke now
        return;
      }
      case 'stopStrokes':
        if (this.running !== undefined) this.endBatch(this.running, 'stopped', nowMs);
        return;
      case 'buzzerTone':
        this.tones.push({ rigMs: nowMs, pattern: m.pattern });
        this.log(`buzzer: ${m.pattern}`);
        return;
      case 'emergencyStop':
        if (this.running !== undefined) this.endBatch(this.running, 'stopped', nowMs);
        this.estop = 'host';
        this.log('emergency stop (host): motor stopped and latched until the next session');
        return;
    }
  }

  private status(): RigStatus {
    const r = this.record;
    return {
      bootId: this.bootId,
      firmwareId: emulatorFirmwareId(this.options.timeScale),
      capabilities: {
        motor: true,
        balance: true,
        button: true,
        buzzer: true,
        emergencyStopSwitch: false,
        persistentBatchRecord: this.options.persistentBatchRecord,
      },
      strokesPerBatchMax: this.options.strokesPerBatchMax,
      strokeVolumeNl: this.options.calibratedStrokeVolumeNl,
      lastBatchId: r.state === 'none' ? 0 : r.batchId,
      lastBatchStrokesDone: r.state === 'none' ? 0 : r.strokesDone,
      lastBatchState: r.state,
      emergencyStopEngaged: this.estop !== undefined,
    };
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

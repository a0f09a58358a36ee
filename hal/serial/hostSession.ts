/**
 * The host's side of a serial rig, without I/O: the motor, button and annunciator ports (and a
 * balance stream) over the protocol's `HostLink` (src/protocol, docs/protocol.md §6).
 *
 * Bytes and time come in, bytes go out; the adapter (serialRig.ts) moves them to a port and arms
 * the one timer `nextDeadlineRealMs()` asks for. Tests join this to the rig emulator's core on a
 * wire in memory, in virtual time.
 *
 * Stroke accounting, the point of the whole module (docs/rig.md, "Link supervision"):
 * - Every batch the controller commands ends with exactly one `hal.motor.batchEnded`, whose
 *   `strokesDone` is what the rig reported for that batch, never a count of commands sent.
 * - A batch is sent once. The link never delivers a retransmitted DELIVER_STROKES twice, and the
 *   rig never executes a batch id twice (§6.6). Wire batch ids are the controller's ids offset by
 *   the rig's last batch id at the first handshake, so a new host process never reuses an id the
 *   rig remembers.
 * - When the link is lost while a batch may be running, the batch is *in doubt*. If its command
 *   never left, it ends at once with 0 strokes. Otherwise the rig stops it on its own link loss
 *   and keeps the count (§6.4), and the host waits for the next HELLO_ACK (or, if the rig said
 *   "running", for its BATCH_REPORT) and ends the batch as `linkLost` with the rig's count.
 * - If the rig does not answer within `linkLostMs + resyncSlackMs` of the loss, or answers without
 *   a usable record (rebooted without `persistentBatchRecord`), the batch ends as `linkLost` with
 *   an upper bound: every stroke the batch could have made by then. Over-counting is the safe
 *   side (the dose limits see more, the pump delivers less); the difference, if the rig later
 *   tells it, is reported as a warning and counted in `stats.strokesOverAccounted`.
 * - The controller treats `linkLost` as a stall: retries, then the critical motor alarm.
 *
 * Listeners are only ever called from `receiveBytes` and `handleTimeout`, never from inside a
 * port method (hal/motor.ts).
 *
 * This module knows nothing of serialport, timers or the controller.
 */
import { assert } from '../../src/assert.js';
import { strokesBy } from '../../src/dosing/delivery.js';
import {
  HostLink,
  LinkError,
  linkLostMs,
  u32Max,
  type BalanceReadingMessage,
  type HelloAckMessage,
  type HostAppMessage,
  type HostLinkEvent,
  type RigAppMessage,
  type RigCapabilities,
} from '../../src/protocol/index.js';
import type { AnnunciatorPort, TonePattern } from '../annunciator.js';
import type { ButtonEvent, ButtonPort } from '../button.js';
import { HalError } from '../halError.js';
import type { BatchEndReason, MotorEvent, MotorPort, StrokeBatch } from '../motor.js';
import { SerialRigError } from './errors.js';

/** Both time axes (realTimeClock.ts): the link runs on real time, batches on pump time. */
export interface SessionTime {
  realMs(): number;
  pumpMs(): number;
}

export interface BalanceReading {
  /** Signed micrograms, as the balance reports them. */
  massUg: number;
  /** The rig's time of the reading (pump-time axis of the rig), modulo 2^32. */
  rigTimeMs: number;
  stable: boolean;
  /** Host pump time when the reading arrived. */
  receivedPumpMs: number;
  /** The rig's boot id then: rig times of different boots are not comparable. */
  bootId: number;
}

/** What the last handshake told of the rig. */
export interface RigInfo {
  firmwareId: string;
  bootId: number;
  capabilities: RigCapabilities;
  strokesPerBatchMax: number;
  strokeVolumeNl: number | null;
  emergencyStopEngaged: boolean;
}

export interface HostSessionStats {
  linkUps: number;
  linkLosses: number;
  rigReboots: number;
  batchesSent: number;
  /** Batches ended with the count from a BATCH_REPORT. */
  batchesReported: number;
  /** In-doubt batches settled by the rig's record in HELLO_ACK or a report in the next session. */
  batchesResynchronised: number;
  /** In-doubt batches ended with an upper bound because the rig could not tell. */
  batchesBounded: number;
  /** Strokes accounted to the controller, all batches. */
  strokesAccounted: number;
  /** Strokes accounted by upper bounds beyond what the rig later reported (≥ 0: the safe side). */
  strokesOverAccounted: number;
  /** BATCH_REPORTs for batches already ended (a resent report) or unknown. */
  staleReports: number;
  balanceReadings: number;
  buttonPresses: number;
  /** Presses the rig counted but the host never heard of (their messages died with a session). */
  buttonPressesMissed: number;
  tonesSent: number;
  warnings: number;
}

export interface HostSessionOptions {
  time: SessionTime;
  /** The first HELLO's session id, 1 … 2^32−1: random (crypto.randomInt) in production. */
  sessionIdFirst: number;
  /**
   * Margin after `linkLostMs` for the rig to have stopped a batch after the link was lost: its
   * answer time, line delays, the emulator's `--delay-ms`. Default 1000 ms.
   */
  resyncSlackMs?: number;
}

type Phase =
  /** DELIVER_STROKES queued or sent in the current session; its report will come. */
  | 'sent'
  /** The session ended; the rig's count is awaited from the next handshake. */
  | 'inDoubt'
  /** The handshake said "running": STOP_STROKES went out, the report is awaited. */
  | 'awaitingReport';

interface CurrentBatch extends StrokeBatch {
  wireId: number;
  /** Pump time of the command: no stroke of the batch can come before startMs + leadMs. */
  startMs: number;
  phase: Phase;
  /** The rig acknowledged the command (so it accepted or rejected it, and a record exists). */
  acknowledged: boolean;
  stopRequested: boolean;
  /** Real time by which an in-doubt batch is ended with an upper bound. */
  boundDeadlineRealMs: number;
}

/** How many of the controller's recent batch ids are remembered to ignore a retransmit. */
const recentBatchIdsMax = 64;
/** How many bounded batches are remembered to tell a late count apart. */
const boundedBatchesMax = 16;

export class HostSession {
  readonly link: HostLink;
  readonly stats: HostSessionStats = {
    linkUps: 0,
    linkLosses: 0,
    rigReboots: 0,
    batchesSent: 0,
    batchesReported: 0,
    batchesResynchronised: 0,
    batchesBounded: 0,
    strokesAccounted: 0,
    strokesOverAccounted: 0,
    staleReports: 0,
    balanceReadings: 0,
    buttonPresses: 0,
    buttonPressesMissed: 0,
    tonesSent: 0,
    warnings: 0,
  };
  /** The HAL ports the controller uses. */
  readonly motor: MotorPort;
  readonly button: ButtonPort;
  readonly annunciator: AnnunciatorPort;

  /** Observers for the adapter and the CLI. */
  onLinkUp: ((info: RigInfo, rebooted: boolean) => void) | undefined;
  onLinkLost: ((reason: string) => void) | undefined;
  onHandshakeUnanswered:
    | ((event: Extract<HostLinkEvent, { type: 'handshakeUnanswered' }>) => void)
    | undefined;
  onWarning: ((text: string) => void) | undefined;

  private readonly time: SessionTime;
  private readonly resyncSlackMs: number;
  private motorListener: ((event: MotorEvent) => void) | undefined;
  private buttonListener: ((event: ButtonEvent) => void) | undefined;
  private readonly balanceListeners: ((reading: BalanceReading) => void)[] = [];
  private current: CurrentBatch | undefined;
  private readonly recentBatchIds: number[] = [];
  /** Wire id → strokes accounted, for batches ended with an upper bound. */
  private readonly bounded = new Map<number, number>();
  private wireBase: number | undefined;
  private lastPressId: number | undefined;
  private info: RigInfo | undefined;
  private latest: BalanceReading | undefined;

  constructor(options: HostSessionOptions) {
    this.time = options.time;
    this.resyncSlackMs = options.resyncSlackMs ?? 1_000;
    assert(
      Number.isInteger(this.resyncSlackMs) && this.resyncSlackMs >= 0,
      `resyncSlackMs is ${this.resyncSlackMs}`,
    );
    this.link = new HostLink({
      startMs: this.time.realMs(),
      sessionIdFirst: options.sessionIdFirst,
    });
    this.motor = {
      deliver: (batch) => this.deliver(batch),
      stop: () => this.stop(),
      listen: (listener) => void (this.motorListener = listener),
    };
    this.button = { listen: (listener) => void (this.buttonListener = listener) };
    this.annunciator = { sound: (pattern) => this.sound(pattern) };
  }

  // --- I/O, for the adapter ----------------------------------------------------------------------

  receiveBytes(bytes: Uint8Array): void {
    this.link.receiveBytes(bytes, this.time.realMs());
    this.drain();
  }

  handleTimeout(): void {
    const nowMs = this.time.realMs();
    this.link.handleTimeout(nowMs);
    this.drain();
    const c = this.current;
    if (c !== undefined && c.phase !== 'sent' && nowMs >= c.boundDeadlineRealMs) {
      this.endBounded(
        c,
        `the rig did not report batch ${c.batchId} within ${linkLostMs + this.resyncSlackMs} ms of losing the link`,
      );
    }
  }

  nextDeadlineRealMs(): number {
    const c = this.current;
    const bound =
      c !== undefined && c.phase !== 'sent' ? c.boundDeadlineRealMs : Number.POSITIVE_INFINITY;
    return Math.min(this.link.nextDeadlineMs(), bound);
  }

  bytesToSend(): Uint8Array {
    return this.link.bytesToSend();
  }

  // --- What the CLI reads -------------------------------------------------------------------------

  get linkUp(): boolean {
    return this.link.linkUp;
  }

  get rigInfo(): RigInfo | undefined {
    return this.info;
  }

  get latestBalance(): BalanceReading | undefined {
    return this.latest;
  }

  /** Whether a batch is running or in doubt (the motor is not known to be idle). */
  get batchOpen(): boolean {
    return this.current !== undefined;
  }

  /** Every balance reading, as it arrives. Any number of listeners; returns an unsubscribe. */
  listenBalance(listener: (reading: BalanceReading) => void): () => void {
    this.balanceListeners.push(listener);
    return () => {
      const i = this.balanceListeners.indexOf(listener);
      if (i >= 0) this.balanceListeners.splice(i, 1);
    };
  }

  /** Stop the motor and latch it (operator abort). Returns false when there is no session. */
  emergencyStop(): boolean {
    if (!this.link.linkUp) return false;
    if (this.current !== undefined) this.current.stopRequested = true;
    try {
      this.link.send({ type: 'emergencyStop', source: 'host' }, this.time.realMs());
      return true;
    } catch (e) {
      if (e instanceof LinkError) return false;
      throw e;
    }
  }

  // --- Ports ---------------------------------------------------------------------------------------

  private deliver(batch: StrokeBatch): void {
    if (this.current !== undefined) {
      throw new HalError(
        'busy',
        `batch ${this.current.batchId} has not ended (the rig has not reported it yet)`,
      );
    }
    // hal/motor.ts: a command repeated with the same batchId must not start a second batch.
    if (this.recentBatchIds.includes(batch.batchId)) return;
    if (!this.link.linkUp || this.wireBase === undefined) {
      throw new SerialRigError(
        'linkDown',
        `cannot deliver batch ${batch.batchId}: the rig link is down (reconnecting)`,
      );
    }
    const wireId = (this.wireBase + batch.batchId) % (u32Max + 1);
    this.send(
      {
        type: 'deliverStrokes',
        batchId: wireId,
        count: batch.count,
        leadMs: batch.leadMs,
        intervalMs: batch.intervalMs,
      },
      `batch ${batch.batchId}`,
    );
    this.recentBatchIds.push(batch.batchId);
    if (this.recentBatchIds.length > recentBatchIdsMax) this.recentBatchIds.shift();
    this.stats.batchesSent++;
    this.current = {
      ...batch,
      wireId,
      startMs: this.time.pumpMs(),
      phase: 'sent',
      acknowledged: false,
      stopRequested: false,
      boundDeadlineRealMs: Number.POSITIVE_INFINITY,
    };
  }

  private stop(): void {
    const c = this.current;
    if (c === undefined) return;
    c.stopRequested = true;
    // In doubt, the rig has stopped on its own (or will at our next HELLO): nothing to send.
    if (c.phase !== 'sent' || !this.link.linkUp) return;
    try {
      this.link.send({ type: 'stopStrokes' }, this.time.realMs());
    } catch (e) {
      if (!(e instanceof LinkError)) throw e;
      // The queue is full or the link just fell: the batch will be settled as in doubt.
    }
  }

  private sound(pattern: TonePattern): void {
    if (!this.link.linkUp)
      throw new SerialRigError('linkDown', `cannot sound ${pattern}: the rig link is down`);
    this.send({ type: 'buzzerTone', pattern }, `tone ${pattern}`);
    this.stats.tonesSent++;
  }

  /** Send, turning the link's refusal into a HAL error the controller handles. */
  private send(message: HostAppMessage, what: string): void {
    try {
      this.link.send(message, this.time.realMs());
    } catch (e) {
      if (!(e instanceof LinkError)) throw e;
      if (e.kind === 'queueFull')
        throw new HalError('busy', `cannot send ${what}: ${e.message}`, { cause: e });
      throw new SerialRigError('linkDown', `cannot send ${what}: ${e.message}`, { cause: e });
    }
  }

  // --- Link events ---------------------------------------------------------------------------------

  private drain(): void {
    for (let e = this.link.nextEvent(); e !== undefined; e = this.link.nextEvent()) this.handle(e);
  }

  private handle(e: HostLinkEvent): void {
    switch (e.type) {
      case 'linkUp':
        this.linkUp_(e.helloAck, e.rigRebooted);
        return;
      case 'handshakeUnanswered':
        this.onHandshakeUnanswered?.(e);
        return;
      case 'message':
        this.rigMessage(e.message);
        return;
      case 'rejected': {
        const m = e.message;
        const c = this.current;
        if (m.type === 'deliverStrokes' && c !== undefined && m.batchId === c.wireId) {
          this.warn(`the rig refused batch ${c.batchId} (NAK ${e.reason}); it never ran`);
          this.end(c, 'stalled', 0, 'reported');
        } else {
          this.warn(`the rig refused ${m.type} (NAK ${e.reason})`);
        }
        return;
      }
      case 'linkLost':
        this.linkLost(e);
        return;
    }
  }

  private linkUp_(h: HelloAckMessage, rebooted: boolean): void {
    this.stats.linkUps++;
    if (rebooted) this.stats.rigReboots++;
    this.info = {
      firmwareId: h.firmwareId,
      bootId: h.bootId,
      capabilities: { ...h.capabilities },
      strokesPerBatchMax: h.strokesPerBatchMax,
      strokeVolumeNl: h.strokeVolumeNl,
      emergencyStopEngaged: h.emergencyStopEngaged,
    };
    // Our wire ids start after the last id the rig knows, so none of them is one it remembers.
    this.wireBase ??= h.lastBatchId;
    const c = this.current;
    if (c !== undefined && c.phase === 'inDoubt') this.resynchronise(c, h, rebooted);
    else
      this.reconcileBounded(
        h.lastBatchId,
        h.lastBatchState === 'none' || h.lastBatchState === 'running'
          ? undefined
          : h.lastBatchStrokesDone,
      );
    this.onLinkUp?.(this.info, rebooted);
  }

  /** Settle an in-doubt batch from the rig's record of its last batch (docs/protocol.md §6.5). */
  private resynchronise(c: CurrentBatch, h: HelloAckMessage, rebooted: boolean): void {
    if (h.lastBatchId === c.wireId && h.lastBatchState !== 'none') {
      switch (h.lastBatchState) {
        case 'running':
          // The rig has not noticed the loss yet, or its record predates the HELLO: make sure it
          // stops, and take the count from its report in this session.
          c.phase = 'awaitingReport';
          c.boundDeadlineRealMs = Math.max(
            c.boundDeadlineRealMs,
            this.time.realMs() + linkLostMs + this.resyncSlackMs,
          );
          try {
            this.link.send({ type: 'stopStrokes' }, this.time.realMs());
          } catch (e) {
            if (!(e instanceof LinkError)) throw e;
          }
          return;
        case 'stalled':
          this.end(c, 'stalled', h.lastBatchStrokesDone, 'resynchronised');
          return;
        case 'interrupted':
          if (!h.capabilities.persistentBatchRecord) {
            this.endBounded(
              c,
              `the rig was reset during batch ${c.batchId} and keeps no persistent batch record: its count (${h.lastBatchStrokesDone}) is only a lower bound`,
            );
            return;
          }
          this.end(c, 'linkLost', h.lastBatchStrokesDone, 'resynchronised');
          return;
        default: // completed, stopped, linkLost: the count is final
          this.end(c, 'linkLost', h.lastBatchStrokesDone, 'resynchronised');
          return;
      }
    }
    if (rebooted && !h.capabilities.persistentBatchRecord) {
      this.endBounded(
        c,
        `the rig was reset while batch ${c.batchId} was in doubt and keeps no persistent batch record`,
      );
    } else if (c.acknowledged) {
      // It accepted our batch, yet its last batch is another: its record cannot be trusted.
      this.endBounded(
        c,
        `the rig acknowledged batch ${c.batchId} but its record shows batch ${h.lastBatchId} (${h.lastBatchState})`,
      );
    } else {
      // The command was never acknowledged and the rig's last batch is an older one: it never ran.
      this.end(c, 'linkLost', 0, 'resynchronised');
    }
  }

  private linkLost(e: Extract<HostLinkEvent, { type: 'linkLost' }>): void {
    this.stats.linkLosses++;
    const c = this.current;
    if (c !== undefined) {
      const isOurs = (m: HostAppMessage | undefined) =>
        m?.type === 'deliverStrokes' && m.batchId === c.wireId;
      if (c.phase === 'sent' && e.unsent.some(isOurs)) {
        this.end(c, 'linkLost', 0, 'reported'); // it never left: exactly nothing was done
      } else {
        const wasSent = c.phase === 'sent';
        if (wasSent && !isOurs(e.unconfirmed)) c.acknowledged = true;
        // The rig stops the batch within linkLostMs of the last frame it had from us (§6.4), or
        // at our next HELLO, whichever comes first; the slack covers its answer and line delays.
        const deadlineMs = this.time.realMs() + linkLostMs + this.resyncSlackMs;
        c.boundDeadlineRealMs = wasSent ? deadlineMs : Math.max(c.boundDeadlineRealMs, deadlineMs);
        c.phase = 'inDoubt';
      }
    }
    this.onLinkLost?.(e.reason);
  }

  private rigMessage(m: RigAppMessage): void {
    switch (m.type) {
      case 'batchReport': {
        const c = this.current;
        if (c === undefined || m.batchId !== c.wireId) {
          this.stats.staleReports++;
          this.reconcileBounded(m.batchId, m.reason === 'rejected' ? 0 : m.strokesDone);
          return;
        }
        if (m.reason === 'completed' && m.strokesDone < c.count)
          this.warn(
            `the rig reported batch ${c.batchId} completed with ${m.strokesDone} of ${c.count} strokes: the controller takes it as a stall`,
          );
        if (m.reason === 'rejected')
          this.warn(
            `the rig rejected batch ${c.batchId} (busy, over its batch limit, or emergency stop engaged)`,
          );
        let reason: BatchEndReason;
        if (c.phase !== 'sent') reason = m.reason === 'stalled' ? 'stalled' : 'linkLost';
        else if (m.reason === 'completed') reason = 'completed';
        else if (m.reason === 'stopped')
          reason = c.stopRequested ? 'stopped' : 'stalled'; // stopped by the rig itself
        else reason = 'stalled'; // stalled, rejected: the motor did not do what it was told
        this.end(c, reason, m.strokesDone, c.phase === 'sent' ? 'reported' : 'resynchronised');
        return;
      }
      case 'balanceReading':
        this.balance(m);
        return;
      case 'buttonPress':
        this.stats.buttonPresses++;
        if (this.lastPressId !== undefined && m.pressId > this.lastPressId + 1)
          this.stats.buttonPressesMissed += m.pressId - this.lastPressId - 1;
        this.lastPressId = m.pressId;
        this.buttonListener?.({ type: 'hal.button.pressed' });
        return;
      case 'emergencyStop':
        if (this.info !== undefined) this.info.emergencyStopEngaged = true;
        this.warn(
          `the rig reports an emergency stop (${m.source}): the motor is stopped and latched`,
        );
        return;
    }
  }

  private balance(m: BalanceReadingMessage): void {
    this.stats.balanceReadings++;
    const reading: BalanceReading = {
      massUg: m.massUg,
      rigTimeMs: m.rigTimeMs,
      stable: m.stable,
      receivedPumpMs: this.time.pumpMs(),
      bootId: this.info?.bootId ?? 0,
    };
    this.latest = reading;
    for (const listener of [...this.balanceListeners]) listener(reading);
  }

  // --- Ending batches --------------------------------------------------------------------------------

  private end(
    c: CurrentBatch,
    reason: BatchEndReason,
    strokesReported: number,
    how: 'reported' | 'resynchronised',
  ): void {
    assert(this.current === c, 'ending a batch that is not the current one');
    const strokesDone = Math.min(strokesReported, c.count);
    if (strokesReported > c.count)
      this.warn(`the rig reported ${strokesReported} strokes for batch ${c.batchId} of ${c.count}`);
    if (how === 'reported') this.stats.batchesReported++;
    else this.stats.batchesResynchronised++;
    this.finish(c, reason, strokesDone);
  }

  /** End an in-doubt batch with every stroke it could have made by now: the safe side. */
  private endBounded(c: CurrentBatch, why: string): void {
    const strokesDone = strokesBy(c, c.count, this.time.pumpMs());
    this.stats.batchesBounded++;
    this.bounded.set(c.wireId, strokesDone);
    if (this.bounded.size > boundedBatchesMax)
      this.bounded.delete(this.bounded.keys().next().value!);
    this.warn(
      `${why}; batch ${c.batchId} is accounted as ${strokesDone} strokes, the most it could have made`,
    );
    this.finish(c, 'linkLost', strokesDone);
  }

  private finish(c: CurrentBatch, reason: BatchEndReason, strokesDone: number): void {
    this.current = undefined;
    this.stats.strokesAccounted += strokesDone;
    this.motorListener?.({ type: 'hal.motor.batchEnded', batchId: c.batchId, strokesDone, reason });
  }

  /** A late count for a batch ended with an upper bound: report the difference. */
  private reconcileBounded(wireId: number, strokesDone: number | undefined): void {
    const accounted = this.bounded.get(wireId);
    if (accounted === undefined || strokesDone === undefined) return;
    this.bounded.delete(wireId);
    const over = accounted - strokesDone;
    this.stats.strokesOverAccounted += over;
    this.warn(
      over >= 0
        ? `the rig now reports ${strokesDone} strokes for a batch accounted as ${accounted}: ${over} strokes were counted that did not happen (the safe side)`
        : `the rig now reports ${strokesDone} strokes for a batch accounted as ${accounted}: ${-over} strokes were NOT counted`,
    );
  }

  private warn(text: string): void {
    this.stats.warnings++;
    this.onWarning?.(text);
  }
}

/**
 * A host link and a rig link joined by an in-memory wire, driven in virtual time: the test
 * harness of the link layer, as h11's ConnectionPair joins two connections.
 *
 * The wire delivers each direction in order after `latencyMs`, and can drop or corrupt bytes at a
 * rate drawn from a seeded PRNG (sim/prng.ts), or through a `tamper` hook that sees every write,
 * so a test can lose exactly the frame it means to. Time jumps from one deadline or delivery to
 * the next; nothing here reads a clock.
 */
import { assert } from '../../src/assert.js';
import {
  HostLink,
  RigLink,
  type HostLinkEvent,
  type RigLinkEvent,
  type RigStatus,
} from '../../src/protocol/index.js';
import { Prng } from '../../sim/prng.js';

export type Side = 'host' | 'rig';

export interface WireFaults {
  /** Chance that a byte is lost. */
  dropRate: number;
  /** Chance that a byte arrives as another value. */
  corruptRate: number;
  /** False cuts the wire: nothing arrives. */
  connected: boolean;
}

export const cleanWire: WireFaults = { dropRate: 0, corruptRate: 0, connected: true };

export const rigStatus: RigStatus = {
  bootId: 0x1234,
  firmwareId: 'rig-test 1.0',
  capabilities: {
    motor: true,
    balance: true,
    button: true,
    buzzer: true,
    emergencyStopSwitch: false,
    persistentBatchRecord: true,
  },
  strokesPerBatchMax: 10_000,
  strokeVolumeNl: 250,
  lastBatchId: 0,
  lastBatchStrokesDone: 0,
  lastBatchState: 'none',
  emergencyStopEngaged: false,
};

interface Transit {
  atMs: number;
  to: Side;
  bytes: Uint8Array;
}

export interface LinkPairOptions {
  seed?: number;
  startMs?: number;
  sessionIdFirst?: number;
  latencyMs?: number;
  faults?: WireFaults;
  status?: RigStatus;
}

export class LinkPair {
  host: HostLink;
  rig: RigLink;
  nowMs: number;
  readonly hostEvents: HostLinkEvent[] = [];
  readonly rigEvents: RigLinkEvent[] = [];
  /** Per direction, keyed by the sender. */
  readonly faults: Record<Side, WireFaults>;
  /** Sees every write before the wire faults; returns what goes on the wire. */
  tamper: ((from: Side, bytes: Uint8Array) => Uint8Array) | undefined;
  onHostEvent: ((event: HostLinkEvent) => void) | undefined;
  onRigEvent: ((event: RigLinkEvent) => void) | undefined;
  readonly bytesWritten: Record<Side, number> = { host: 0, rig: 0 };

  private readonly latencyMs: number;
  private readonly prng: Prng;
  private transits: Transit[] = [];
  private readonly actions: { atMs: number; run: () => void }[] = [];

  constructor(options: LinkPairOptions = {}) {
    this.nowMs = options.startMs ?? 0;
    this.latencyMs = options.latencyMs ?? 2;
    this.prng = new Prng(options.seed ?? 1).fork('wire');
    this.faults = {
      host: { ...(options.faults ?? cleanWire) },
      rig: { ...(options.faults ?? cleanWire) },
    };
    this.host = new HostLink({
      startMs: this.nowMs,
      sessionIdFirst: options.sessionIdFirst ?? 100,
    });
    this.rig = new RigLink({ startMs: this.nowMs, status: options.status ?? rigStatus });
    this.flush();
  }

  setFaults(faults: WireFaults): void {
    this.faults.host = { ...faults };
    this.faults.rig = { ...faults };
  }

  /** Run `run` at `atMs` within `runUntil`. */
  at(atMs: number, run: () => void): void {
    this.actions.push({ atMs, run });
    this.actions.sort((a, b) => a.atMs - b.atMs);
  }

  /** Replace the rig by a freshly started one: a reboot, with whatever it remembers in `status`. */
  rebootRig(status: RigStatus): void {
    this.transits = this.transits.filter((t) => t.to !== 'rig');
    this.rig = new RigLink({ startMs: this.nowMs, status });
    this.flush();
  }

  /** Advance virtual time to `untilMs`, handling every delivery, deadline and action on the way. */
  runUntil(untilMs: number): void {
    assert(untilMs >= this.nowMs, 'the pair cannot go back in time');
    this.flush(); // what a test sent directly goes out now
    for (let steps = 0; ; steps++) {
      assert(steps < 1_000_000, `the pair made no progress at ${this.nowMs} ms: a livelock`);
      const nextMs = Math.min(
        this.host.nextDeadlineMs(),
        this.rig.nextDeadlineMs(),
        this.transits[0]?.atMs ?? Number.POSITIVE_INFINITY,
        this.actions[0]?.atMs ?? Number.POSITIVE_INFINITY,
      );
      if (nextMs > untilMs) break;
      this.step(Math.max(nextMs, this.nowMs));
    }
    this.nowMs = untilMs;
  }

  private step(nowMs: number): void {
    this.nowMs = nowMs;
    while (this.transits.length > 0 && this.transits[0]!.atMs <= nowMs) {
      const transit = this.transits.shift()!;
      (transit.to === 'host' ? this.host : this.rig).receiveBytes(transit.bytes, nowMs);
    }
    while (this.actions.length > 0 && this.actions[0]!.atMs <= nowMs) this.actions.shift()!.run();
    this.host.handleTimeout(nowMs);
    this.rig.handleTimeout(nowMs);
    // Every deadline that was due has been handled: none may be left in the past.
    assert(
      this.host.nextDeadlineMs() > nowMs,
      `host deadline ${this.host.nextDeadlineMs()} not after ${nowMs}`,
    );
    assert(
      this.rig.nextDeadlineMs() > nowMs,
      `rig deadline ${this.rig.nextDeadlineMs()} not after ${nowMs}`,
    );
    this.drainEvents();
    this.flush();
  }

  /** Hand events to the tests' handlers, then put what the links wrote on the wire. */
  drainEvents(): void {
    for (let progress = true; progress; ) {
      progress = false;
      for (let e = this.host.nextEvent(); e !== undefined; e = this.host.nextEvent()) {
        progress = true;
        this.hostEvents.push(e);
        this.onHostEvent?.(e);
      }
      for (let e = this.rig.nextEvent(); e !== undefined; e = this.rig.nextEvent()) {
        progress = true;
        this.rigEvents.push(e);
        this.onRigEvent?.(e);
      }
    }
  }

  flush(): void {
    this.transmit('host', this.host.bytesToSend());
    this.transmit('rig', this.rig.bytesToSend());
  }

  private transmit(from: Side, written: Uint8Array): void {
    if (written.length === 0) return;
    this.bytesWritten[from] += written.length;
    const bytes = this.tamper === undefined ? written : this.tamper(from, written);
    const faults = this.faults[from];
    if (!faults.connected) return;
    const arrived: number[] = [];
    for (const byte of bytes) {
      if (this.prng.chance(faults.dropRate)) continue;
      if (this.prng.chance(faults.corruptRate)) {
        const other = this.prng.int(0, 255);
        arrived.push(other === byte ? other ^ 0xff : other);
      } else {
        arrived.push(byte);
      }
    }
    if (arrived.length > 0)
      this.transits.push({
        atMs: this.nowMs + this.latencyMs,
        to: from === 'host' ? 'rig' : 'host',
        bytes: new Uint8Array(arrived),
      });
  }
}

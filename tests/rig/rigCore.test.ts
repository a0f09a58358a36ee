/**
 * The rig emulator's core as a rig firmware must behave (docs/protocol.md §6, §9), driven by a
 * bare `HostLink` in virtual time with an instant wire: stroke timing, stops, batch-id memory
 * across sessions, rejection, emergency stop, the jammed motor, the balance model, and the fault
 * switches.
 */
import { describe, expect, it } from 'vitest';
import { RigCore, type RigCoreOptions } from '../../sim/rig/rigCore.js';
import { HostLink, type HostAppMessage, type RigAppMessage } from '../../src/protocol/index.js';

/** A host link and a rig core joined by a wire without delay, stepped deadline by deadline. */
function pair(options: Partial<RigCoreOptions> = {}) {
  let now = 0;
  let hostLink = new HostLink({ startMs: 0, sessionIdFirst: 5 });
  const core = new RigCore({ startRealMs: 0, balanceIntervalMs: 60_000, ...options });
  const received: RigAppMessage[] = [];
  const exchange = () => {
    for (let i = 0; i < 100; i++) {
      const toRig = hostLink.bytesToSend();
      const toHost = core.takeBytes(now);
      if (toRig.length === 0 && toHost.length === 0) break;
      if (toRig.length > 0) core.receiveBytes(toRig, now);
      if (toHost.length > 0) hostLink.receiveBytes(toHost, now);
      for (let e = hostLink.nextEvent(); e !== undefined; e = hostLink.nextEvent())
        if (e.type === 'message') received.push(e.message);
    }
  };
  const runUntil = (toMs: number) => {
    exchange();
    for (;;) {
      const next = Math.min(hostLink.nextDeadlineMs(), core.nextDeadlineRealMs());
      if (next > toMs) break;
      now = Math.max(now, next);
      hostLink.handleTimeout(now);
      core.handleTimeout(now);
      exchange();
    }
    now = toMs;
    exchange();
  };
  const send = (m: HostAppMessage) => {
    hostLink.send(m, now);
    exchange();
  };
  for (let t = 10; !hostLink.linkUp && t < 10_000; t += 10) runUntil(t);
  return {
    core,
    received,
    reports: () => received.filter((m) => m.type === 'batchReport'),
    readings: () => received.flatMap((m) => (m.type === 'balanceReading' ? [m] : [])),
    send,
    runUntil,
    now: () => now,
    /** A new host process: a new session, numbering from 0 again. */
    newHost: (sessionIdFirst: number) => {
      hostLink = new HostLink({ startMs: now, sessionIdFirst });
      exchange();
    },
  };
}

describe('strokes', () => {
  it("stroke j comes at arrival + lead + (j − 1) × interval; the report carries the last stroke's time", () => {
    const p = pair();
    const t = p.now();
    p.send({ type: 'deliverStrokes', batchId: 1, count: 3, leadMs: 500, intervalMs: 1_000 });
    const counts = [499, 500, 1_499, 1_500, 2_499, 2_500].map((d) => {
      p.runUntil(t + d);
      return p.core.strokesExecuted;
    });
    expect(counts).toEqual([0, 1, 1, 2, 2, 3]);
    expect(p.reports()).toEqual([
      {
        type: 'batchReport',
        batchId: 1,
        strokesDone: 3,
        reason: 'completed',
        rigTimeMs: t + 2_500,
      },
    ]);
  });

  it('a stop that arrives at the moment a stroke is due: the stroke is done and counted', () => {
    const p = pair();
    const t = p.now();
    p.send({ type: 'deliverStrokes', batchId: 1, count: 10, leadMs: 0, intervalMs: 1_000 });
    p.runUntil(t + 1_000);
    p.send({ type: 'stopStrokes' });
    p.runUntil(t + 5_000);
    expect(p.reports()).toMatchObject([{ batchId: 1, strokesDone: 2, reason: 'stopped' }]);
    expect(p.core.strokesExecuted).toBe(2);
  });

  it('at time scale k, rig durations run k times faster than real time', () => {
    const p = pair({ timeScale: 10 });
    const t = p.now();
    p.send({ type: 'deliverStrokes', batchId: 1, count: 5, leadMs: 0, intervalMs: 1_000 });
    p.runUntil(t + 250); // 2500 rig ms: strokes at 0, 1000, 2000
    expect(p.core.strokesExecuted).toBe(3);
  });

  it('a batch while another runs is rejected, and the running one goes on', () => {
    const p = pair();
    p.send({ type: 'deliverStrokes', batchId: 1, count: 3, leadMs: 0, intervalMs: 1_000 });
    p.send({ type: 'deliverStrokes', batchId: 2, count: 3, leadMs: 0, intervalMs: 1_000 });
    p.runUntil(p.now() + 5_000);
    expect(p.reports()).toMatchObject([
      { batchId: 2, strokesDone: 0, reason: 'rejected' },
      { batchId: 1, strokesDone: 3, reason: 'completed' },
    ]);
    expect(p.core.batches.get(2)?.state).toBe('rejected');
  });

  it('a batch id the rig remembers is never run again, in a new session: its report is sent again', () => {
    const p = pair();
    p.send({ type: 'deliverStrokes', batchId: 9, count: 2, leadMs: 0, intervalMs: 100 });
    p.runUntil(p.now() + 1_000);
    p.newHost(77);
    p.runUntil(p.now() + 1_000);
    p.send({ type: 'deliverStrokes', batchId: 9, count: 2, leadMs: 0, intervalMs: 100 });
    p.runUntil(p.now() + 1_000);
    expect(p.core.strokesExecuted).toBe(2);
    expect(p.reports()).toMatchObject([
      { batchId: 9, strokesDone: 2, reason: 'completed' },
      { batchId: 9, strokesDone: 2, reason: 'completed' },
    ]);
  });

  it('an emergency stop stops the motor and latches until the next session', () => {
    const p = pair();
    p.send({ type: 'deliverStrokes', batchId: 1, count: 10, leadMs: 0, intervalMs: 1_000 });
    p.runUntil(p.now() + 1_500);
    p.send({ type: 'emergencyStop', source: 'host' });
    p.send({ type: 'deliverStrokes', batchId: 2, count: 1, leadMs: 0, intervalMs: 1 });
    p.runUntil(p.now() + 1_000);
    expect(p.reports()).toMatchObject([
      { batchId: 1, strokesDone: 2, reason: 'stopped' },
      { batchId: 2, reason: 'rejected' },
    ]);
    p.newHost(77);
    p.send({ type: 'deliverStrokes', batchId: 3, count: 1, leadMs: 0, intervalMs: 1 });
    p.runUntil(p.now() + 1_000);
    expect(p.reports().at(-1)).toMatchObject({ batchId: 3, strokesDone: 1, reason: 'completed' });
  });

  it('a motor that jams after N strokes stalls the batch there, and frees itself after stallForMs', () => {
    const p = pair({ stallAfterStrokes: 2, stallForMs: 10_000 });
    p.send({ type: 'deliverStrokes', batchId: 1, count: 5, leadMs: 0, intervalMs: 1_000 });
    p.runUntil(p.now() + 6_000);
    expect(p.reports()).toMatchObject([{ batchId: 1, strokesDone: 2, reason: 'stalled' }]);
    p.runUntil(p.now() + 10_000);
    p.send({ type: 'deliverStrokes', batchId: 2, count: 2, leadMs: 0, intervalMs: 1_000 });
    p.runUntil(p.now() + 3_000);
    expect(p.reports().at(-1)).toMatchObject({ batchId: 2, strokesDone: 2, reason: 'completed' });
  });

  it('a reset mid-batch keeps the batch in the persistent record as interrupted', () => {
    const p = pair();
    p.send({ type: 'deliverStrokes', batchId: 4, count: 10, leadMs: 0, intervalMs: 1_000 });
    p.runUntil(p.now() + 2_500);
    const bootBefore = p.core.currentBootId;
    p.core.reboot(p.now());
    p.runUntil(p.now() + 5_000);
    expect(p.core.currentBootId).not.toBe(bootBefore);
    expect(p.core.strokesExecuted).toBe(3);
    expect(p.core.batches.get(4)?.state).toBe('interrupted');
  });
});

describe('balance', () => {
  it('weighs strokes × volume × (1 + error) of water, 1 µg per nL', () => {
    const p = pair({
      strokeVolumeNl: 500,
      strokeVolumeErrorPpm: -20_000,
      balanceIntervalMs: 1_000,
    });
    p.send({ type: 'deliverStrokes', batchId: 1, count: 4, leadMs: 0, intervalMs: 100 });
    p.runUntil(p.now() + 5_000);
    expect(p.readings().at(-1)?.massUg).toBe(1_960);
    expect(p.readings().at(-1)?.stable).toBe(true);
  });

  it('noise is seeded: the same seed gives the same readings, and its spread is noiseMg', () => {
    const readings = (seed: number) => {
      const p = pair({ seed, noiseMg: 0.1, balanceIntervalMs: 1_000 });
      p.runUntil(400_000);
      return p.readings().map((r) => r.massUg);
    };
    const a = readings(3);
    expect(readings(3)).toEqual(a);
    expect(readings(4)).not.toEqual(a);
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / (a.length - 1));
    expect(a.length).toBeGreaterThan(300);
    expect(Math.abs(mean)).toBeLessThan(20);
    expect(sd).toBeGreaterThan(80);
    expect(sd).toBeLessThan(120);
  });

  it('a reading taken between two strokes weighs the first and not the second', () => {
    const p = pair({ strokeVolumeNl: 100, balanceIntervalMs: 1_000 });
    const t = p.now();
    p.send({ type: 'deliverStrokes', batchId: 1, count: 100, leadMs: 0, intervalMs: 400 });
    p.runUntil(t + 60_000);
    for (const r of p.readings()) {
      const strokes = Math.min(100, Math.floor((r.rigTimeMs - t) / 400) + 1);
      expect(r.massUg).toBe(r.rigTimeMs < t ? 0 : strokes * 100);
    }
  });
});

describe('fault switches', () => {
  it('drop and corrupt rates spoil bytes in both directions, yet the batch runs once', () => {
    const p = pair({ seed: 2, faults: { dropRate: 0.003, corruptRate: 0.003, delayMs: 0 } });
    p.send({ type: 'deliverStrokes', batchId: 1, count: 20, leadMs: 0, intervalMs: 500 });
    p.runUntil(p.now() + 30_000);
    expect(p.core.bytesDropped).toBeGreaterThan(0);
    expect(p.core.bytesCorrupted).toBeGreaterThan(0);
    expect(p.core.linkStats.duplicatesReceived + p.core.linkStats.retransmits).toBeGreaterThan(0);
    expect(p.core.strokesExecuted).toBe(20);
    expect(p.core.batches.size).toBe(1);
    expect(p.reports().filter((r) => r.batchId === 1)).toHaveLength(1);
  });

  it('a delay holds every byte for delayMs in each direction', () => {
    const p = pair({ faults: { dropRate: 0, corruptRate: 0, delayMs: 30 } });
    const t = p.now();
    p.send({ type: 'deliverStrokes', batchId: 1, count: 1, leadMs: 0, intervalMs: 1 });
    p.runUntil(t + 29);
    expect(p.core.strokesExecuted).toBe(0);
    p.runUntil(t + 30);
    expect(p.core.strokesExecuted).toBe(1);
    p.runUntil(t + 59);
    expect(p.reports()).toHaveLength(0);
    p.runUntil(t + 60);
    expect(p.reports()).toHaveLength(1);
  });

  it('a cut cable: nothing in, nothing out; the rig notices the silence and stops the motor', () => {
    const p = pair();
    p.send({ type: 'deliverStrokes', batchId: 1, count: 100, leadMs: 0, intervalMs: 1_000 });
    p.runUntil(p.now() + 2_500);
    p.core.disconnect(p.now(), 10_000);
    p.runUntil(p.now() + 5_000);
    expect(p.core.linkUp).toBe(false);
    expect(p.core.batches.get(1)?.state).toBe('linkLost');
    const done = p.core.strokesExecuted;
    expect(done).toBeGreaterThanOrEqual(5);
    expect(done).toBeLessThanOrEqual(7);
    p.runUntil(p.now() + 20_000);
    expect(p.core.strokesExecuted).toBe(done);
    expect(p.core.linkUp).toBe(true); // the host's HELLOs got through once the cable was back
  });
});

describe('boot id', () => {
  it('is a function of the seed alone by default, and a nonce (as `rig emulate` draws one per start) changes it', () => {
    const boot = (options: Partial<RigCoreOptions>) =>
      new RigCore({ startRealMs: 0, seed: 5, ...options }).currentBootId;
    // The situation: the seed alone gives the same boot id to two cores (a replayable test rig).
    expect(boot({})).toBe(boot({}));
    // Issue 13: two emulator processes started with the same --seed must not look like one boot.
    const a = boot({ bootNonce: 0x1234_5678 });
    const b = boot({ bootNonce: 0x0abc_def0 });
    expect(a).not.toBe(b);
    expect(a).not.toBe(boot({}));
    for (const id of [a, b]) expect(id >= 1 && id <= 0x7fff_ffff).toBe(true);
    // A reboot of one core draws a new id too.
    const core = new RigCore({ startRealMs: 0, seed: 5, bootNonce: 7 });
    const first = core.currentBootId;
    core.reboot(1);
    expect(core.currentBootId).not.toBe(first);
  });
});

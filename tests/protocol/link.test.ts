/**
 * Link layer (src/protocol/link.ts): handshake, sequencing, ACK/NAK, retransmit, heartbeat,
 * link loss, rig reboot, duplicate suppression.
 *
 * Goal: every behaviour docs/protocol.md §6 promises, with the numbers of constants.ts, and the
 * issue's property (d): over a lossy wire every application message arrives exactly once and in
 * order, and a DELIVER_STROKES is executed once even when its ACK is lost and it is sent again.
 * Method: a host and a rig link joined by an in-memory wire in virtual time (linkPair.ts); exact
 * frames are dropped or injected through the wire's tamper hook; the property drives random
 * traffic over a wire that drops and corrupts bytes at a seeded rate.
 */
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionFailure } from '../../src/assert.js';
import {
  FrameDecoder,
  LinkError,
  LocalProtocolError,
  ackTimeoutMs,
  encodeFrame,
  handshakeTimeoutMs,
  heartbeatIntervalMs,
  helloIntervalMs,
  linkLostMs,
  retransmitsMax,
  sendQueueLengthMax,
  slipFrame,
  type AppMessage,
  type DeliverStrokesMessage,
  type Frame,
  type HostAppMessage,
  type HostLinkEvent,
  type RigAppMessage,
  type RigLinkEvent,
} from '../../src/protocol/index.js';
import { fcRuns, fcSeed } from './arbitraries.js';
import { LinkPair, cleanWire, rigStatus, type Side } from './linkPair.js';

function framesIn(bytes: Uint8Array): Frame[] {
  const decoder = new FrameDecoder();
  decoder.receiveBytes(bytes);
  const frames: Frame[] = [];
  for (let d = decoder.nextFrame(); d !== 'needData'; d = decoder.nextFrame())
    if (d.kind === 'frame') frames.push(d.frame);
  return frames;
}

/** A body with a valid CRC around any header and payload bytes, as a buggy or newer peer sends. */
function withCrc(headerAndPayload: readonly number[]): Uint8Array {
  const body = new Uint8Array(headerAndPayload.length + 4);
  body.set(headerAndPayload);
  new DataView(body.buffer).setUint32(
    headerAndPayload.length,
    crc32(body.subarray(0, headerAndPayload.length)),
    true,
  );
  return body;
}

/** A tamper hook that drops the first `count` frames from `side` matching `match`, and logs all. */
function dropFrames(
  pair: LinkPair,
  side: Side,
  match: (frame: Frame) => boolean,
  count = 1,
): Record<Side, Frame[]> {
  const log: Record<Side, Frame[]> = { host: [], rig: [] };
  let left = count;
  pair.tamper = (from, bytes) => {
    const frames = framesIn(bytes);
    log[from].push(...frames);
    const kept = frames.filter(
      (frame) => !(from === side && left > 0 && match(frame) && left-- > 0),
    );
    return kept.length === frames.length
      ? bytes
      : new Uint8Array(kept.flatMap((frame) => [...encodeFrame(frame)]));
  };
  return log;
}

const deliver = (batchId: number): DeliverStrokesMessage => ({
  type: 'deliverStrokes',
  batchId,
  count: 3,
  leadMs: 0,
  intervalMs: 1_000,
});
const messagesOf = <E extends HostLinkEvent | RigLinkEvent>(events: E[]) =>
  events.flatMap((e) => (e.type === 'message' ? [e.message] : []));
const typesOf = (events: (HostLinkEvent | RigLinkEvent)[]) => events.map((e) => e.type);

function connectedPair(): LinkPair {
  const pair = new LinkPair();
  pair.runUntil(50);
  expect(pair.host.state).toBe('established');
  expect(pair.rig.state).toBe('established');
  return pair;
}

describe('handshake', () => {
  it('opens a session with HELLO / HELLO_ACK that reports the rig status', () => {
    const pair = new LinkPair({ sessionIdFirst: 77 });
    expect(pair.host.state).toBe('connecting');
    expect(pair.rig.state).toBe('awaitingHello');
    pair.runUntil(50);
    expect(pair.hostEvents).toEqual([
      {
        type: 'linkUp',
        helloAck: { type: 'helloAck', ...rigStatus, sessionId: 77, rigTimeMs: 2 },
        rigRebooted: false,
      },
    ]);
    expect(pair.rigEvents).toEqual([{ type: 'linkUp', sessionId: 77 }]);
    expect(pair.rig.currentSessionId).toBe(77);
  });

  it('answers a repeated HELLO of the current session without starting a new one', () => {
    const pair = new LinkPair();
    const log = dropFrames(pair, 'rig', (f) => f.message.type === 'helloAck');
    pair.runUntil(helloIntervalMs + 50);
    // The first HELLO left in the constructor, before the log; this is the repeat.
    expect(log.host.filter((f) => f.message.type === 'hello')).toHaveLength(1);
    expect(log.rig.filter((f) => f.message.type === 'helloAck')).toHaveLength(2);
    expect(typesOf(pair.rigEvents)).toEqual(['linkUp']);
    expect(pair.host.state).toBe('established');
    // The numbering survived the repeat: a message still arrives.
    pair.host.send(deliver(1), pair.nowMs);
    pair.runUntil(pair.nowMs + 50);
    expect(messagesOf(pair.rigEvents)).toEqual([deliver(1)]);
  });

  it('keeps sending HELLO every helloIntervalMs and reports an unanswered handshake once, with what it heard', () => {
    const pair = new LinkPair();
    pair.faults.rig.connected = false;
    const log = dropFrames(pair, 'host', () => false, 0);
    pair.at(100, () =>
      pair.host.receiveBytes(new Uint8Array([0xc0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xc0]), pair.nowMs),
    );
    pair.runUntil(2 * handshakeTimeoutMs);
    const hellos = log.host.filter((f) => f.message.type === 'hello');
    expect(hellos.length).toBe(Math.floor((2 * handshakeTimeoutMs) / helloIntervalMs)); // the first went out in the constructor
    expect(pair.hostEvents).toHaveLength(1);
    expect(pair.hostEvents[0]).toMatchObject({
      type: 'handshakeUnanswered',
      sinceMs: 0,
      decoderStats: { badCrc: 1 },
      foreignVersion: undefined,
    });
  });

  it('names the foreign version when a rig of another protocol version answers', () => {
    const pair = new LinkPair();
    pair.faults.rig.connected = false;
    // A version-2 answer: the same header shape, a valid CRC, version byte 2.
    pair.at(10, () => pair.host.receiveBytes(slipFrame(withCrc([2, 0x02, 0, 0, 0])), pair.nowMs));
    pair.runUntil(handshakeTimeoutMs);
    expect(pair.hostEvents[0]).toMatchObject({
      type: 'handshakeUnanswered',
      foreignVersion: 2,
      decoderStats: { badVersion: 1 },
    });
  });
});

describe('sequenced delivery', () => {
  it('delivers messages both ways in order, each answered by one ACK', () => {
    const pair = connectedPair();
    const hostSent: HostAppMessage[] = [
      deliver(1),
      { type: 'buzzerTone', pattern: 'pressGranted' },
      { type: 'stopStrokes' },
    ];
    const rigSent: RigAppMessage[] = [
      { type: 'buttonPress', pressId: 1, rigTimeMs: 60 },
      { type: 'balanceReading', massUg: -5, rigTimeMs: 61, stable: false },
      { type: 'batchReport', batchId: 1, strokesDone: 1, reason: 'stopped', rigTimeMs: 62 },
    ];
    for (const m of hostSent) pair.host.send(m, pair.nowMs);
    for (const m of rigSent) pair.rig.send(m, pair.nowMs);
    expect(pair.host.queueLength).toBe(2); // one in flight, two waiting: stop-and-wait
    pair.flush();
    pair.runUntil(pair.nowMs + 100);
    expect(messagesOf(pair.rigEvents)).toEqual(hostSent);
    expect(messagesOf(pair.hostEvents)).toEqual(rigSent);
    expect(pair.host.stats.retransmits + pair.rig.stats.retransmits).toBe(0);
  });

  it('executes a DELIVER_STROKES once when its ACK is lost and it is sent again', () => {
    const pair = connectedPair();
    const log = dropFrames(pair, 'rig', (f) => f.message.type === 'ack');
    const sentAtMs = pair.nowMs;
    pair.host.send(deliver(42), sentAtMs);
    pair.flush();
    pair.runUntil(sentAtMs + ackTimeoutMs + 50);
    expect(log.host.filter((f) => f.message.type === 'deliverStrokes')).toHaveLength(2);
    expect(log.rig.filter((f) => f.message.type === 'ack')).toHaveLength(2);
    expect(messagesOf(pair.rigEvents)).toEqual([deliver(42)]);
    expect(pair.rig.stats.duplicatesReceived).toBe(1);
    expect(pair.host.stats.retransmits).toBe(1);
    expect(pair.host.state).toBe('established');
  });

  it('retransmits after ackTimeoutMs, retransmitsMax times, then declares the link lost and hands the messages back', () => {
    const pair = connectedPair();
    pair.faults.rig.connected = false;
    const sentAtMs = pair.nowMs;
    pair.host.send(deliver(1), sentAtMs);
    pair.host.send(deliver(2), sentAtMs);
    pair.flush();
    pair.runUntil(sentAtMs + ackTimeoutMs * (retransmitsMax + 1) - 1);
    expect(pair.host.stats.retransmits).toBe(retransmitsMax);
    expect(pair.host.state).toBe('established');
    pair.runUntil(sentAtMs + ackTimeoutMs * (retransmitsMax + 1));
    expect(pair.hostEvents.at(-1)).toEqual({
      type: 'linkLost',
      reason: 'retransmitsExhausted',
      unconfirmed: deliver(1),
      unsent: [deliver(2)],
    });
    expect(pair.host.state).toBe('connecting');
    expect(pair.host.currentSessionId).toBe(101);
  });

  it('passes a NAK of the peer up as rejected and goes on with the next message', () => {
    const pair = connectedPair();
    pair.faults.host.connected = false; // the rig never sees them; we answer for it
    pair.host.send(deliver(1), pair.nowMs);
    pair.host.send(deliver(2), pair.nowMs);
    pair.host.receiveBytes(
      encodeFrame({ seq: 0, ack: 0, message: { type: 'nak', reason: 'badPayload' } }),
      pair.nowMs,
    );
    expect(pair.host.nextEvent()).toEqual({
      type: 'rejected',
      message: deliver(1),
      reason: 'badPayload',
    });
    const written = framesIn(pair.host.bytesToSend());
    expect(written.at(-1)).toEqual({ seq: 1, ack: 0, message: deliver(2) });
    expect(pair.host.stats.naksReceived).toBe(1);
  });

  it('ignores an answer for a frame no longer in flight', () => {
    const pair = connectedPair();
    pair.host.receiveBytes(encodeFrame({ seq: 0, ack: 9, message: { type: 'ack' } }), pair.nowMs);
    expect(pair.host.stats.staleAnswers).toBe(1);
    expect(pair.host.nextEvent()).toBeUndefined();
  });

  it('NAKs a sequenced frame of an unknown type, one sent in the wrong direction, and one out of sequence', () => {
    const pair = connectedPair();
    const rig = pair.rig;
    rig.bytesToSend();
    rig.receiveBytes(slipFrame(withCrc([1, 0xbf, 0, 0, 0])), pair.nowMs);
    rig.receiveBytes(
      encodeFrame({
        seq: 1,
        ack: 0,
        message: {
          type: 'batchReport',
          batchId: 1,
          strokesDone: 0,
          reason: 'rejected',
          rigTimeMs: 0,
        },
      }),
      pair.nowMs,
    );
    rig.receiveBytes(encodeFrame({ seq: 9, ack: 0, message: deliver(1) }), pair.nowMs);
    expect(framesIn(rig.bytesToSend()).map((f) => [f.ack, f.message])).toEqual([
      [0, { type: 'nak', reason: 'unknownType' }],
      [1, { type: 'nak', reason: 'unexpected' }],
      [9, { type: 'nak', reason: 'outOfSequence' }],
    ]);
    expect(rig.nextEvent()).toBeUndefined();
    // A repeat of a refused frame gets the same refusal, never an ACK.
    rig.receiveBytes(
      encodeFrame({
        seq: 1,
        ack: 0,
        message: {
          type: 'batchReport',
          batchId: 1,
          strokesDone: 0,
          reason: 'rejected',
          rigTimeMs: 0,
        },
      }),
      pair.nowMs,
    );
    expect(framesIn(rig.bytesToSend()).map((f) => [f.ack, f.message])).toEqual([
      [1, { type: 'nak', reason: 'unexpected' }],
    ]);
  });

  it('drops the session when the peer answers NAK outOfSequence', () => {
    const pair = connectedPair();
    pair.faults.host.connected = false;
    pair.host.send(deliver(1), pair.nowMs);
    pair.host.receiveBytes(
      encodeFrame({ seq: 0, ack: 0, message: { type: 'nak', reason: 'outOfSequence' } }),
      pair.nowMs,
    );
    expect(pair.host.nextEvent()).toEqual({
      type: 'linkLost',
      reason: 'outOfSequence',
      unconfirmed: deliver(1),
      unsent: [],
    });
    expect(pair.host.state).toBe('connecting');
  });

  it('wraps the one-byte sequence number without losing or repeating a message', () => {
    const pair = connectedPair();
    const sent = Array.from({ length: 600 }, (_, i) => deliver(i));
    let next = 0;
    pair.onRigEvent = () => undefined;
    for (let t = pair.nowMs; next < sent.length; t += 5) {
      pair.runUntil(t);
      while (next < sent.length && pair.host.canSend()) pair.host.send(sent[next++]!, pair.nowMs);
      pair.flush();
    }
    pair.runUntil(pair.nowMs + 1_000);
    expect(messagesOf(pair.rigEvents)).toEqual(sent);
  });
});

describe('send() refuses', () => {
  it('without a session: LinkError linkDown', () => {
    const pair = new LinkPair();
    expect(() => pair.host.send(deliver(1), 0)).toThrow(LinkError);
    expect(() => pair.rig.send({ type: 'buttonPress', pressId: 1, rigTimeMs: 0 }, 0)).toThrow(
      /no session with the host/,
    );
    expect(pair.host.canSend()).toBe(false);
  });

  it('beyond sendQueueLengthMax: LinkError queueFull, and the queue is unchanged', () => {
    const pair = connectedPair();
    for (let i = 0; i <= sendQueueLengthMax; i++) pair.host.send(deliver(i), pair.nowMs); // one goes in flight
    expect(pair.host.canSend()).toBe(false);
    let error: unknown;
    try {
      pair.host.send(deliver(999), pair.nowMs);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LinkError);
    expect((error as LinkError).kind).toBe('queueFull');
    expect(pair.host.queueLength).toBe(sendQueueLengthMax);
  });

  it('an invalid message or one the side may not send: LocalProtocolError, and nothing is queued', () => {
    const pair = connectedPair();
    expect(() => pair.host.send({ ...deliver(1), count: 0 }, pair.nowMs)).toThrow(
      /deliverStrokes\.count is 0, must be an integer in 1\.\./,
    );
    expect(() =>
      pair.host.send(
        {
          type: 'batchReport',
          batchId: 1,
          strokesDone: 1,
          reason: 'completed',
          rigTimeMs: 0,
        } as unknown as HostAppMessage,
        pair.nowMs,
      ),
    ).toThrow(LocalProtocolError);
    expect(() =>
      pair.rig.send({ type: 'heartbeat', timeMs: 0 } as unknown as RigAppMessage, pair.nowMs),
    ).toThrow(/not an application message the rig may send/);
    expect(pair.host.queueLength).toBe(0);
    expect(pair.host.bytesToSend()).toHaveLength(0);
  });

  it('time that goes back is a bug of the caller', () => {
    const pair = connectedPair();
    pair.host.handleTimeout(100);
    expect(() => pair.host.handleTimeout(99)).toThrow(AssertionFailure);
    expect(() => pair.host.receiveBytes(new Uint8Array(), 99)).toThrow(/time went back: 99 < 100/);
  });

  it('an invalid rig status or session id is refused where it is given', () => {
    const pair = connectedPair();
    expect(() => pair.rig.setStatus({ ...rigStatus, strokesPerBatchMax: 0 })).toThrow(
      /rig status: helloAck\.strokesPerBatchMax is 0/,
    );
    expect(() => new LinkPair({ sessionIdFirst: 0 })).toThrow(
      /sessionIdFirst is 0, must be an integer in 1\.\.4294967295/,
    );
  });
});

describe('heartbeat and link loss', () => {
  it('keeps an idle link up with one HEARTBEAT per heartbeatIntervalMs each way', () => {
    const pair = connectedPair();
    const log = dropFrames(pair, 'host', () => false, 0);
    const fromMs = pair.nowMs;
    pair.runUntil(fromMs + 10 * heartbeatIntervalMs);
    for (const side of ['host', 'rig'] as const) {
      const beats = log[side].filter((f) => f.message.type === 'heartbeat').length;
      expect(beats).toBeGreaterThanOrEqual(9);
      expect(beats).toBeLessThanOrEqual(10);
      expect(log[side]).toHaveLength(beats);
    }
    expect(pair.host.state).toBe('established');
    expect(pair.host.stats.linkLosses + pair.rig.stats.linkLosses).toBe(0);
  });

  it('declares the link lost after linkLostMs of silence on both sides, then reconnects when the wire heals', () => {
    const pair = connectedPair();
    const cutMs = pair.nowMs;
    pair.setFaults({ ...cleanWire, connected: false });
    pair.runUntil(cutMs + linkLostMs - heartbeatIntervalMs);
    expect(pair.host.state).toBe('established');
    pair.runUntil(cutMs + linkLostMs + heartbeatIntervalMs);
    expect(pair.hostEvents.at(-1)).toEqual({
      type: 'linkLost',
      reason: 'silence',
      unconfirmed: undefined,
      unsent: [],
    });
    expect(pair.rigEvents.at(-1)).toEqual({
      type: 'linkLost',
      reason: 'silence',
      unconfirmed: undefined,
      unsent: [],
    });
    pair.setFaults(cleanWire);
    pair.runUntil(pair.nowMs + helloIntervalMs + 50);
    expect(typesOf(pair.hostEvents)).toEqual(['linkUp', 'linkLost', 'linkUp']);
    expect(typesOf(pair.rigEvents)).toEqual(['linkUp', 'linkLost', 'linkUp']);
    expect(pair.rig.currentSessionId).toBe(101);
  });

  it('a rig that dropped the session says so with RIG_RESET, and the host reconnects', () => {
    const pair = connectedPair();
    pair.faults.host.connected = false; // the host's frames are lost, the rig's arrive
    pair.runUntil(pair.nowMs + linkLostMs + 100);
    expect(pair.rigEvents.at(-1)).toMatchObject({ type: 'linkLost', reason: 'silence' });
    const lost = pair.hostEvents.find((e) => e.type === 'linkLost');
    expect(lost).toMatchObject({
      reason: 'rigReset',
      rigReset: { type: 'rigReset', reason: 'linkLost', bootId: rigStatus.bootId },
    });
  });

  it('a rebooted rig is noticed, the session is restarted, and HELLO_ACK carries its last batch and a new boot id', () => {
    const pair = connectedPair();
    pair.host.send(deliver(5), pair.nowMs);
    pair.flush();
    pair.runUntil(pair.nowMs + 20);
    expect(messagesOf(pair.rigEvents)).toEqual([deliver(5)]);
    const rebooted = {
      ...rigStatus,
      bootId: 0x9999,
      lastBatchId: 5,
      lastBatchStrokesDone: 2,
      lastBatchState: 'interrupted' as const,
    };
    const eventsBeforeReboot = pair.rigEvents.length;
    pair.rebootRig(rebooted);
    pair.runUntil(pair.nowMs + 100);
    expect(pair.hostEvents.find((e) => e.type === 'linkLost')).toMatchObject({
      reason: 'rigReset',
      rigReset: { reason: 'powerOn', bootId: 0x9999 },
    });
    const up = pair.hostEvents.at(-1);
    expect(up).toMatchObject({
      type: 'linkUp',
      rigRebooted: true,
      helloAck: {
        bootId: 0x9999,
        lastBatchId: 5,
        lastBatchStrokesDone: 2,
        lastBatchState: 'interrupted',
      },
    });
    // The host's link hands nothing old to the new rig: batch 5 is known only through HELLO_ACK.
    expect(typesOf(pair.rigEvents.slice(eventsBeforeReboot))).toEqual(['linkUp']);
  });

  it('a rig without a session answers any other frame with RIG_RESET', () => {
    const pair = new LinkPair();
    pair.rig.bytesToSend();
    pair.rig.receiveBytes(
      encodeFrame({ seq: 0, ack: 0, message: { type: 'heartbeat', timeMs: 1 } }),
      1,
    );
    expect(framesIn(pair.rig.bytesToSend()).map((f) => f.message)).toEqual([
      { type: 'rigReset', reason: 'powerOn', bootId: rigStatus.bootId, rigTimeMs: 1 },
    ]);
  });

  it('a HELLO with a new session id ends the rig session and starts another', () => {
    const pair = connectedPair();
    pair.rig.send({ type: 'buttonPress', pressId: 1, rigTimeMs: 0 }, pair.nowMs);
    pair.rig.receiveBytes(
      encodeFrame({ seq: 0, ack: 0, message: { type: 'hello', sessionId: 555 } }),
      pair.nowMs,
    );
    expect([pair.rig.nextEvent(), pair.rig.nextEvent()]).toEqual([
      {
        type: 'linkLost',
        reason: 'newSession',
        unconfirmed: { type: 'buttonPress', pressId: 1, rigTimeMs: 0 },
        unsent: [],
      },
      { type: 'linkUp', sessionId: 555 },
    ]);
  });
});

// --- Property (d) -----------------------------------------------------------------------------------

interface Traffic {
  seed: number;
  dropRate: number;
  corruptRate: number;
  hostSendsAtMs: number[];
  rigSendsAtMs: number[];
}

const trafficArbitrary = (rateMax: number): fc.Arbitrary<Traffic> =>
  fc.record({
    seed: fc.integer(),
    dropRate: fc.double({ min: 0, max: rateMax, noNaN: true }),
    corruptRate: fc.double({ min: 0, max: rateMax, noNaN: true }),
    hostSendsAtMs: fc.array(fc.integer({ min: 0, max: 20_000 }), { maxLength: 40 }),
    rigSendsAtMs: fc.array(fc.integer({ min: 0, max: 20_000 }), { maxLength: 40 }),
  });

interface Outcome {
  pair: LinkPair;
  sent: Record<Side, AppMessage[]>;
  delivered: Record<Side, AppMessage[]>;
  /** What linkLost handed back, as the senders saw it. */
  unconfirmed: Record<Side, AppMessage[]>;
  unsent: Record<Side, AppMessage[]>;
  executions: Map<number, number>;
}

/** Random traffic both ways over a faulty wire for 20 s, then 10 s of clean wire to settle. */
function runTraffic(t: Traffic): Outcome {
  const pair = new LinkPair({
    seed: t.seed,
    faults: { dropRate: t.dropRate, corruptRate: t.corruptRate, connected: true },
  });
  const out: Outcome = {
    pair,
    sent: { host: [], rig: [] },
    delivered: { host: [], rig: [] },
    unconfirmed: { host: [], rig: [] },
    unsent: { host: [], rig: [] },
    executions: new Map(),
  };
  const backlog: Record<Side, AppMessage[]> = { host: [], rig: [] };
  let batchId = 0;
  let pressId = 0;
  const trySend = (side: Side) => {
    const link = side === 'host' ? pair.host : pair.rig;
    while (backlog[side].length > 0 && link.canSend()) {
      const message = backlog[side].shift()!;
      (link.send as (m: AppMessage, nowMs: number) => void)(message, pair.nowMs);
      out.sent[side].push(message);
    }
  };
  for (const atMs of t.hostSendsAtMs)
    pair.at(atMs, () => (backlog.host.push(deliver(++batchId)), trySend('host')));
  for (const atMs of t.rigSendsAtMs)
    pair.at(
      atMs,
      () => (
        backlog.rig.push({ type: 'buttonPress', pressId: ++pressId, rigTimeMs: atMs }),
        trySend('rig')
      ),
    );
  const onEvent = (side: Side) => (event: HostLinkEvent | RigLinkEvent) => {
    if (event.type === 'message') {
      out.delivered[side === 'host' ? 'rig' : 'host'].push(event.message);
      if (event.message.type === 'deliverStrokes') {
        out.executions.set(
          event.message.batchId,
          (out.executions.get(event.message.batchId) ?? 0) + 1,
        );
      }
    } else if (event.type === 'linkLost') {
      if (event.unconfirmed !== undefined) out.unconfirmed[side].push(event.unconfirmed);
      out.unsent[side].push(...event.unsent);
    } else if (event.type === 'linkUp') {
      trySend(side);
    }
  };
  pair.onHostEvent = onEvent('host');
  pair.onRigEvent = onEvent('rig');
  pair.runUntil(20_000);
  pair.setFaults(cleanWire);
  for (let ms = 20_000; ms <= 30_000; ms += 100)
    pair.at(ms, () => (trySend('host'), trySend('rig')));
  pair.runUntil(30_000);
  expect(backlog.host).toEqual([]);
  expect(backlog.rig).toEqual([]);
  return out;
}

/** At most once, in order; everything not handed back arrived; nothing handed back as unsent arrived. */
function expectDeliveryAccounted(out: Outcome): void {
  for (const side of ['host', 'rig'] as const) {
    const key = (m: AppMessage) => JSON.stringify(m);
    const delivered = out.delivered[side].map(key);
    expect(new Set(delivered).size).toBe(delivered.length);
    const sentOrder = out.sent[side].map(key);
    const positions = delivered.map((k) => sentOrder.indexOf(k));
    expect(positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1]!))).toBe(true);
    const unsent = new Set(out.unsent[side].map(key));
    const unconfirmed = new Set(out.unconfirmed[side].map(key));
    for (const k of sentOrder) {
      if (unsent.has(k)) expect(delivered).not.toContain(k);
      else if (!unconfirmed.has(k)) expect(delivered).toContain(k);
    }
  }
  for (const count of out.executions.values()) expect(count).toBe(1);
  // After the clean tail the link is up again on both sides.
  expect(out.pair.host.state).toBe('established');
  expect(out.pair.rig.state).toBe('established');
}

describe('property (d): a lossy wire', () => {
  it(`delivers every message exactly once and in order when faults stay below what drops the link (seed ${fcSeed})`, () => {
    let retransmitted = 0;
    let duplicates = 0;
    fc.assert(
      fc.property(trafficArbitrary(0.003), (t) => {
        const out = runTraffic(t);
        expectDeliveryAccounted(out);
        if (out.pair.host.stats.linkLosses + out.pair.rig.stats.linkLosses === 0) {
          expect(out.delivered.host).toEqual(out.sent.host);
          expect(out.delivered.rig).toEqual(out.sent.rig);
        }
        retransmitted += out.pair.host.stats.retransmits + out.pair.rig.stats.retransmits;
        duplicates +=
          out.pair.host.stats.duplicatesReceived + out.pair.rig.stats.duplicatesReceived;
      }),
      { seed: fcSeed, numRuns: fcRuns(25) },
    );
    // The faults did bite: frames were sent again and repeats were suppressed.
    expect(retransmitted).toBeGreaterThan(0);
    expect(duplicates).toBeGreaterThan(0);
  });

  it(`never delivers twice or out of order, accounts for every message, and recovers, under heavy faults (seed ${fcSeed})`, () => {
    let linkLosses = 0;
    fc.assert(
      fc.property(trafficArbitrary(0.05), (t) => {
        const out = runTraffic(t);
        expectDeliveryAccounted(out);
        linkLosses += out.pair.host.stats.linkLosses;
      }),
      { seed: fcSeed, numRuns: fcRuns(25) },
    );
    expect(linkLosses).toBeGreaterThan(0);
  });
});

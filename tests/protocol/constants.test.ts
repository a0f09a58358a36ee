/**
 * Relations between the protocol's constants (src/protocol/constants.ts).
 *
 * Goal: the numbers a rig author copies must fit together; if someone changes one, the relation
 * it breaks fails here, with its reason. Method: one assertion per relation, the stand-in for a
 * compile-time assert.
 */
import { describe, expect, it } from 'vitest';
import {
  ackTimeoutMs,
  baudRateDefault,
  baudRateMin,
  batchIdsRememberedMin,
  bitsPerByteOnWire,
  crcBytes,
  encodeFrame,
  frameBytesMax,
  frameBytesMin,
  handshakeTimeoutMs,
  headerBytes,
  heartbeatIntervalMs,
  helloIntervalMs,
  linkLostMs,
  messageTypes,
  payloadBytes,
  payloadBytesMax,
  retransmitsMax,
  rigAnswerMsMax,
  sendQueueLengthMax,
  seqModulus,
  slipEnd,
  slipEsc,
  slipEscEnd,
  slipEscEsc,
  u8Max,
  wireFrameBytesMax,
} from '../../src/protocol/index.js';

const wireMs = (bytes: number, baud: number) => (bytes * bitsPerByteOnWire * 1000) / baud;

describe('protocol constants', () => {
  it('a heartbeat can be lost twice in a row without the link being declared lost', () => {
    // After the last frame received, heartbeats leave at 1, 2 and 3 heartbeat intervals; the first
    // two are lost, the third must arrive (wire time at the slowest rate, plus the peer's answer
    // budget as scheduling slack) before the silence window closes.
    const heartbeatWireBytesMax = 2 * (frameBytesMin + payloadBytes('heartbeat')) + 2;
    const thirdArrivesMs =
      3 * heartbeatIntervalMs + wireMs(heartbeatWireBytesMax, baudRateMin) + rigAnswerMsMax;
    expect(thirdArrivesMs).toBeLessThan(linkLostMs);
  });

  it('all retransmits of one frame are over before silence would be declared', () => {
    expect(ackTimeoutMs * (retransmitsMax + 1)).toBeLessThan(linkLostMs);
  });

  it('the largest frame and its ACK cross the wire at the slowest baud rate, with the rig answering in time, within the ack timeout', () => {
    const ackWireBytesMax = 2 * frameBytesMin + 2;
    const roundTripMs =
      wireMs(wireFrameBytesMax, baudRateMin) +
      rigAnswerMsMax +
      wireMs(ackWireBytesMax, baudRateMin);
    expect(roundTripMs).toBeLessThan(ackTimeoutMs);
    expect(baudRateDefault).toBeGreaterThanOrEqual(baudRateMin);
  });

  it('the host sends several HELLOs before it reports an unanswered handshake', () => {
    expect(handshakeTimeoutMs).toBeGreaterThanOrEqual(3 * helloIntervalMs);
    expect(helloIntervalMs).toBeGreaterThan(ackTimeoutMs);
  });

  it('the frame sizes add up, every payload fits, and the length fits its byte', () => {
    expect(frameBytesMin).toBe(headerBytes + crcBytes);
    expect(frameBytesMax).toBe(headerBytes + payloadBytesMax + crcBytes);
    expect(wireFrameBytesMax).toBe(2 * frameBytesMax + 2);
    expect(payloadBytesMax).toBeLessThanOrEqual(u8Max);
    expect(Math.max(...messageTypes.map(payloadBytes))).toBeLessThanOrEqual(payloadBytesMax);
  });

  it('a full send queue drains well within the silence window', () => {
    // Stop-and-wait over a clean wire: one round trip per message.
    const roundTripMs = 2 * wireMs(wireFrameBytesMax, baudRateDefault);
    expect(sendQueueLengthMax * roundTripMs).toBeLessThan(linkLostMs);
    expect(sendQueueLengthMax).toBeLessThan(seqModulus);
  });

  it('the SLIP bytes are those of RFC 1055, and distinct', () => {
    expect([slipEnd, slipEsc, slipEscEnd, slipEscEsc]).toEqual([0xc0, 0xdb, 0xdc, 0xdd]);
    expect(encodeFrame({ seq: 0, ack: 0, message: { type: 'ack' } })[0]).toBe(slipEnd);
  });

  it('the rig remembers more than the one batch that can run at a time', () => {
    expect(batchIdsRememberedMin).toBeGreaterThanOrEqual(2);
  });
});

/**
 * Payload codec of every message type (src/protocol/messages.ts).
 *
 * Goal: each message survives encode → decode unchanged over its whole legal range; an illegal
 * message is refused at encoding with a LocalProtocolError that names the field, the value and the
 * limit; illegal bytes are refused at decoding with a RemoteProtocolError of the right kind.
 * Method: a round-trip property per type, byte checks for the layouts docs/protocol.md states,
 * and one example per error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TonePattern as HalTonePattern } from '../../hal/annunciator.js';
import type { BatchEndReason } from '../../hal/motor.js';
import {
  LocalProtocolError,
  RemoteProtocolError,
  decodePayload,
  encodePayload,
  isSequenced,
  maySend,
  messageSpecs,
  messageTypes,
  payloadBytes,
  type BatchReportReason,
  type LastBatchState,
  type Message,
  type TonePattern,
} from '../../src/protocol/index.js';
import { fcRuns, fcSeed, messageArbitraries } from './arbitraries.js';

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

function roundTrip(message: Message): Message {
  return decodePayload(messageSpecs[message.type].code, encodePayload(message));
}

function remoteErrorOf(run: () => unknown): RemoteProtocolError {
  try {
    run();
  } catch (error) {
    if (error instanceof RemoteProtocolError) return error;
    throw error;
  }
  throw new Error('expected a RemoteProtocolError, nothing was thrown');
}

const deliver = {
  type: 'deliverStrokes',
  batchId: 7,
  count: 12,
  leadMs: 500,
  intervalMs: 60_000,
} as const;
const helloAck: Message = {
  type: 'helloAck',
  sessionId: 1,
  bootId: 2,
  firmwareId: 'rig-emu 1.0',
  capabilities: {
    motor: true,
    balance: true,
    button: true,
    buzzer: true,
    emergencyStopSwitch: false,
    persistentBatchRecord: true,
  },
  strokesPerBatchMax: 1000,
  strokeVolumeNl: 250,
  lastBatchId: 0,
  lastBatchStrokesDone: 0,
  lastBatchState: 'none',
  emergencyStopEngaged: false,
  rigTimeMs: 0,
};

describe('message round trip', () => {
  for (const type of messageTypes) {
    it(`${type} survives encode and decode over its whole range (seed ${fcSeed})`, () => {
      fc.assert(
        fc.property(messageArbitraries[type] as fc.Arbitrary<Message>, (message) => {
          const bytes = encodePayload(message);
          expect(bytes.length).toBe(payloadBytes(type));
          expect(roundTrip(message)).toEqual(message);
        }),
        { seed: fcSeed, numRuns: fcRuns(100) },
      );
    });
  }
});

describe('payload layouts', () => {
  it('DELIVER_STROKES is four little-endian u32: batchId, count, leadMs, intervalMs', () => {
    const bytes = encodePayload({
      type: 'deliverStrokes',
      batchId: 0x04030201,
      count: 2,
      leadMs: 0x100,
      intervalMs: 0xffffffff,
    });
    expect([...bytes]).toEqual([1, 2, 3, 4, 2, 0, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff]);
  });

  it('BALANCE_READING carries a negative mass as a two-complement i64', () => {
    const bytes = encodePayload({ type: 'balanceReading', massUg: -2, rigTimeMs: 1, stable: true });
    expect([...bytes]).toEqual([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 1]);
  });

  it('HELLO_ACK pads the firmware id with NUL and sets one capability bit per capability', () => {
    const bytes = encodePayload(helloAck);
    const firmware = bytes.subarray(8, 24);
    expect(String.fromCharCode(...firmware.subarray(0, 11))).toBe('rig-emu 1.0');
    expect([...firmware.subarray(11)]).toEqual([0, 0, 0, 0, 0]);
    expect(bytes[24]).toBe(0b101111); // motor, balance, button, buzzer, persistentBatchRecord
    expect(bytes[25]).toBe(0);
  });

  it('HELLO_ACK ignores reserved capability bits a newer rig may set', () => {
    const bytes = encodePayload(helloAck);
    bytes[25] = 0x80; // bit 15
    expect(decodePayload(0x02, bytes)).toEqual(helloAck);
  });

  it('an uncalibrated stroke volume travels as 0 and comes back as null', () => {
    const uncalibrated = { ...helloAck, strokeVolumeNl: null };
    const bytes = encodePayload(uncalibrated);
    expect([...bytes.subarray(30, 34)]).toEqual([0, 0, 0, 0]);
    expect(decodePayload(0x02, bytes)).toEqual(uncalibrated);
  });

  it('bit 7 of the type code marks exactly the application messages, and every type has a direction', () => {
    const application = [
      'deliverStrokes',
      'stopStrokes',
      'buzzerTone',
      'emergencyStop',
      'batchReport',
      'balanceReading',
      'buttonPress',
    ];
    expect(messageTypes.filter(isSequenced).sort()).toEqual(application.sort());
    for (const type of messageTypes)
      expect(maySend(type, 'host') || maySend(type, 'rig')).toBe(true);
    expect(new Set(messageTypes.map((type) => messageSpecs[type].code)).size).toBe(
      messageTypes.length,
    );
    for (const type of messageTypes) expect([0xc0, 0xdb]).not.toContain(messageSpecs[type].code);
  });

  it('the tone patterns are those of hal/annunciator.ts, and the batch reasons cover the HAL ones', () => {
    const tonesMatch: Equal<TonePattern, HalTonePattern> = true;
    // Every HAL end reason but linkLost (which the host infers, not the rig) is a wire reason.
    const reasonsCovered: [Exclude<BatchEndReason, 'linkLost'>] extends [BatchReportReason]
      ? true
      : false = true;
    // A batch the rig stopped because the host fell silent is reported in HELLO_ACK.
    const linkLostKnown: [Extract<BatchEndReason, 'linkLost'>] extends [LastBatchState]
      ? true
      : false = true;
    expect([tonesMatch, reasonsCovered, linkLostKnown]).toEqual([true, true, true]);
  });
});

describe('encoding refuses an illegal message with a LocalProtocolError naming field, value and limit', () => {
  const cases: [string, Message, RegExp][] = [
    [
      'count of 0',
      { ...deliver, count: 0 },
      /deliverStrokes\.count is 0, must be an integer in 1\.\.4294967295/,
    ],
    [
      'batchId over u32',
      { ...deliver, batchId: 2 ** 32 },
      /deliverStrokes\.batchId is 4294967296, must be an integer in 0\.\.4294967295/,
    ],
    ['fractional leadMs', { ...deliver, leadMs: 1.5 }, /deliverStrokes\.leadMs is 1\.5/],
    [
      'intervalMs of 0',
      { ...deliver, intervalMs: 0 },
      /deliverStrokes\.intervalMs is 0, must be an integer in 1\.\./,
    ],
    [
      'unknown tone',
      { type: 'buzzerTone', pattern: 'fanfare' as TonePattern },
      /buzzerTone\.pattern is "fanfare", must be one of pressGranted, /,
    ],
    [
      'unsafe mass',
      { type: 'balanceReading', massUg: 2 ** 60, rigTimeMs: 0, stable: true },
      /balanceReading\.massUg is 1152921504606847000, must be a safe integer/,
    ],
    [
      'long firmware id',
      { ...helloAck, firmwareId: 'x'.repeat(17) } as Message,
      /helloAck\.firmwareId is "x{17}", must be printable ASCII of at most 16/,
    ],
    [
      'non-ASCII firmware id',
      { ...helloAck, firmwareId: 'rig µ' } as Message,
      /helloAck\.firmwareId is "rig µ"/,
    ],
    [
      'stroke volume 0 instead of null',
      { ...helloAck, strokeVolumeNl: 0 } as Message,
      /helloAck\.strokeVolumeNl is 0, must be null or an integer in 1\.\./,
    ],
    [
      'session id 0',
      { type: 'hello', sessionId: 0 },
      /hello\.sessionId is 0, must be an integer in 1\.\./,
    ],
    [
      'a last batch id with state none',
      { ...helloAck, lastBatchId: 3 } as Message,
      /lastBatchState is none, so lastBatchId \(3\)/,
    ],
    [
      'strokes done on a rejected batch',
      { type: 'batchReport', batchId: 1, strokesDone: 2, reason: 'rejected', rigTimeMs: 0 },
      /reason is rejected, so strokesDone \(2\) must be 0/,
    ],
    [
      'a missing capability',
      { ...helloAck, capabilities: { motor: true } } as unknown as Message,
      /helloAck\.capabilities\.balance is undefined, must be true or false/,
    ],
    [
      'an unknown type',
      { type: 'selfDestruct' } as unknown as Message,
      /type "selfDestruct" is not a message type/,
    ],
  ];
  for (const [name, message, pattern] of cases) {
    it(name, () => {
      expect(() => encodePayload(message)).toThrow(LocalProtocolError);
      expect(() => encodePayload(message)).toThrow(pattern);
    });
  }
});

describe('decoding refuses illegal bytes with a RemoteProtocolError of the right kind', () => {
  it('unknownType for a code no message has', () => {
    const error = remoteErrorOf(() => decodePayload(0x7f, new Uint8Array()));
    expect(error.kind).toBe('unknownType');
    expect(error.message).toMatch(/0x7f/);
  });

  it('badLength for a payload one byte short or long', () => {
    const bytes = encodePayload(deliver);
    for (const wrong of [bytes.subarray(0, 15), new Uint8Array([...bytes, 0])]) {
      const error = remoteErrorOf(() => decodePayload(0x81, wrong));
      expect(error.kind).toBe('badLength');
      expect(error.message).toMatch(/deliverStrokes payload is 1[57] bytes, must be 16/);
    }
  });

  const badPayloads: [
    string,
    number,
    (bytes: Uint8Array) => Message,
    (bytes: Uint8Array) => void,
    RegExp,
  ][] = [
    [
      'an unknown reason code',
      0xa1,
      () => ({
        type: 'batchReport',
        batchId: 1,
        strokesDone: 1,
        reason: 'completed',
        rigTimeMs: 0,
      }),
      (b) => void (b[8] = 9),
      /batchReport\.reason code 9 is unknown/,
    ],
    [
      'a boolean of 2',
      0xa2,
      () => ({ type: 'balanceReading', massUg: 1, rigTimeMs: 0, stable: true }),
      (b) => void (b[12] = 2),
      /balanceReading\.stable is 2, must be 0 or 1/,
    ],
    [
      'a count of 0',
      0x81,
      () => deliver,
      (b) => b.fill(0, 4, 8),
      /deliverStrokes\.count is 0, must be at least 1/,
    ],
    [
      'a mass beyond the safe integers',
      0xa2,
      () => ({ type: 'balanceReading', massUg: 1, rigTimeMs: 0, stable: true }),
      (b) => b.fill(0x7f, 0, 8),
      /balanceReading\.massUg is \d+, must be within/,
    ],
    [
      'a firmware id with a control byte',
      0x02,
      () => helloAck,
      (b) => void (b[9] = 0x07),
      /helloAck\.firmwareId is not printable ASCII/,
    ],
    [
      'a firmware id with text after NUL',
      0x02,
      () => helloAck,
      (b) => void (b[22] = 0x41),
      /helloAck\.firmwareId is not printable ASCII/,
    ],
    [
      'the cross-field rule of BATCH_REPORT',
      0xa1,
      () => ({
        type: 'batchReport',
        batchId: 1,
        strokesDone: 1,
        reason: 'completed',
        rigTimeMs: 0,
      }),
      (b) => void (b[8] = 5),
      /reason is rejected, so strokesDone \(1\) must be 0/,
    ],
  ];
  for (const [name, code, make, spoil, pattern] of badPayloads) {
    it(`badPayload for ${name}`, () => {
      const bytes = encodePayload(make(new Uint8Array()));
      spoil(bytes);
      const error = remoteErrorOf(() => decodePayload(code, bytes));
      expect(error.kind).toBe('badPayload');
      expect(error.message).toMatch(pattern);
    });
  }
});

/**
 * The record codec writes the byte format of docs/persistence.md and decodes every corruption
 * to a typed reason without throwing. The expected bytes are built here from the format table,
 * independently of the encoder; the CRC comes from node:zlib in both.
 */
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeRecord,
  encodeRecord,
  RECORD_DECODE_FAILURES,
  RECORD_OVERHEAD_BYTES,
  RECORD_SEQ_MAX,
  RECORD_TYPE_CODES,
  recordTypeOfCode,
  type RecordDecodeFailure,
  type RecordType,
} from '../../src/persistence/index.js';
import { AssertionFailure } from '../../src/assert.js';
import { recordFaults } from './faultTally.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 300 * Number(process.env.FC_RUNS_FACTOR ?? 1));
const RECORD_TYPES = Object.keys(RECORD_TYPE_CODES) as RecordType[];

function u32le(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

/** A record built straight from the format table, with any header field overridden. */
function recordFromTable(fields: {
  version?: number;
  typeCode?: number;
  seq: number;
  payload: number[];
}): Uint8Array {
  const body = [
    0x49,
    0x50,
    fields.version ?? 1,
    fields.typeCode ?? 0x02,
    ...u32le(fields.seq),
    ...u32le(fields.payload.length),
    ...fields.payload,
  ];
  return Uint8Array.from([...body, ...u32le(crc32(Uint8Array.from(body)))]);
}

function reasonOf(bytes: Uint8Array): RecordDecodeFailure | 'ok' {
  const decoded = decodeRecord(bytes);
  return decoded.ok ? 'ok' : decoded.reason;
}

describe('record format', () => {
  it('uses the IEEE CRC-32 of node:zlib (check value of "123456789" is 0xCBF43926)', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
  });

  it('encodes exactly the byte table of docs/persistence.md', () => {
    const payload = Array.from(new TextEncoder().encode('{"a":1}'));
    const encoded = encodeRecord({
      type: 'ledger',
      seq: 0x01020304,
      payload: Uint8Array.from(payload),
    });
    expect(Array.from(encoded)).toEqual(Array.from(recordFromTable({ seq: 0x01020304, payload })));
    expect(encoded.length).toBe(RECORD_OVERHEAD_BYTES + payload.length);
  });

  it('round-trips every type, sequence number and payload, ignoring bytes after the record', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...RECORD_TYPES),
        fc.integer({ min: 1, max: RECORD_SEQ_MAX }),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 20 }),
        (type, seq, payload, trailing) => {
          const encoded = encodeRecord({ type, seq, payload });
          const decoded = decodeRecord(Uint8Array.from([...encoded, ...trailing]));
          expect(decoded.ok).toBe(true);
          if (!decoded.ok) return;
          expect(decoded.record).toMatchObject({
            type,
            seq,
            formatVersion: 1,
            sizeBytes: encoded.length,
          });
          expect(Array.from(decoded.record.payload)).toEqual(Array.from(payload));
        },
      ),
      { seed, numRuns },
    );
  });

  it('maps every type code both ways and knows no other code', () => {
    for (const type of RECORD_TYPES) expect(recordTypeOfCode(RECORD_TYPE_CODES[type])).toBe(type);
    const known = new Set(Object.values(RECORD_TYPE_CODES));
    for (let code = 0; code < 256; code++)
      if (!known.has(code)) expect(recordTypeOfCode(code)).toBeUndefined();
  });

  it('asserts on a sequence number outside [1, 2^32 - 1]: sequences never wrap in a device lifetime', () => {
    const payload = new Uint8Array(1);
    expect(() => encodeRecord({ type: 'clock', seq: 0, payload })).toThrow(AssertionFailure);
    expect(() => encodeRecord({ type: 'clock', seq: RECORD_SEQ_MAX + 1, payload })).toThrow(
      AssertionFailure,
    );
    expect(() => encodeRecord({ type: 'clock', seq: 1.5, payload })).toThrow(AssertionFailure);
  });
});

describe('decode failures (never a throw)', () => {
  const good = () => recordFromTable({ seq: 7, payload: [1, 2, 3, 4, 5] });

  it('truncated: fewer bytes than an empty record', () => {
    for (let length = 0; length < RECORD_OVERHEAD_BYTES; length++) {
      expect(reasonOf(good().subarray(0, length))).toBe('truncated');
    }
  });

  it('blank: a never-written header of 0xFF or 0x00', () => {
    expect(reasonOf(new Uint8Array(64).fill(0xff))).toBe('blank');
    expect(reasonOf(new Uint8Array(64))).toBe('blank');
  });

  it('badMagic: either magic byte wrong', () => {
    for (const index of [0, 1]) {
      const bytes = good();
      bytes[index] = 0x00;
      expect(reasonOf(bytes)).toBe('badMagic');
    }
  });

  it('badLength: a payload length that runs past the bytes given, checked before reading them', () => {
    const bytes = good();
    expect(reasonOf(bytes.subarray(0, bytes.length - 1))).toBe('badLength');
    bytes.set(u32le(0xffff_ffff), 8);
    expect(reasonOf(bytes)).toBe('badLength');
  });

  it('badCrc: any changed payload, header or trailer byte', () => {
    const length = good().length;
    for (let index = 2; index < length; index++) {
      if (index >= 8 && index < 12) continue; // the length field is covered by badLength or badCrc below
      const bytes = good();
      bytes[index] = (bytes[index] ?? 0) ^ 0x10;
      expect(reasonOf(bytes), `byte ${index}`).toBe('badCrc');
    }
    const shorter = good();
    shorter.set(u32le(4), 8); // a length that still fits: the CRC now sits elsewhere
    expect(reasonOf(shorter)).toBe('badCrc');
  });

  it('badVersion: an intact record of a format this firmware does not read', () => {
    expect(reasonOf(recordFromTable({ version: 2, seq: 7, payload: [1] }))).toBe('badVersion');
  });

  it('badType: an intact record of a type code this firmware does not know', () => {
    expect(reasonOf(recordFromTable({ typeCode: 0x7f, seq: 7, payload: [1] }))).toBe('badType');
  });

  it('covers every declared failure reason in the tests above', () => {
    expect([...RECORD_DECODE_FAILURES].sort()).toEqual(
      ['truncated', 'blank', 'badMagic', 'badLength', 'badCrc', 'badVersion', 'badType'].sort(),
    );
  });

  it('detects every single-bit flip of any record and never throws on arbitrary bytes', ({
    task,
  }) => {
    let bitFlips = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...RECORD_TYPES),
        fc.integer({ min: 1, max: RECORD_SEQ_MAX }),
        fc.uint8Array({ maxLength: 64 }),
        (type, seq, payload) => {
          const encoded = encodeRecord({ type, seq, payload });
          for (let bit = 0; bit < encoded.length * 8; bit++) {
            const flipped = encoded.slice();
            flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
            expect(decodeRecord(flipped).ok).toBe(false);
            bitFlips += 1;
          }
        },
      ),
      { seed, numRuns: Math.ceil(numRuns / 3) },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const decoded = decodeRecord(bytes);
        if (decoded.ok) expect(decoded.record.sizeBytes).toBeLessThanOrEqual(bytes.length);
      }),
      { seed, numRuns },
    );
    recordFaults(task, { bitFlips });
  });
});

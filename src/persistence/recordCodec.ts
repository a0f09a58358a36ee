/**
 * Record codec: the byte format of every record in non-volatile memory.
 *
 * A record is a 12-byte header, the payload, and a CRC-32 trailer (all integers little-endian):
 *
 *   offset  size  field
 *   0       2     magic 0x49 0x50 ("IP")
 *   2       1     format version (RECORD_FORMAT_VERSION)
 *   3       1     record type code (recordTypes.ts)
 *   4       4     sequence number, u32, >= 1
 *   8       4     payload length in bytes, u32
 *   12      n     payload
 *   12 + n  4     CRC-32 (IEEE 802.3, as zlib computes it) of bytes [0, 12 + n)
 *
 * Rules:
 * - `decodeRecord` never throws on corrupt bytes: it returns the first reason the bytes are not a
 *   record. The CRC is checked before the version and type, so a flipped bit reads as `badCrc`
 *   and `badVersion`/`badType` mean an intact record this firmware does not understand.
 * - The CRC comes from `node:zlib` (a well-kept implementation), never a hand-written table.
 *
 * Must not know: the NVM port, the layout, or what payloads mean.
 */
import { crc32 } from 'node:zlib';
import { assert } from '../assert.js';
import { RECORD_TYPE_CODES, recordTypeOfCode, type RecordType } from './recordTypes.js';

/** "IP" in ASCII, read as a little-endian u16. */
export const RECORD_MAGIC = 0x5049;
export const RECORD_FORMAT_VERSION = 1;
export const RECORD_HEADER_BYTES = 12;
export const RECORD_CRC_BYTES = 4;
/** Bytes a record takes beyond its payload. */
export const RECORD_OVERHEAD_BYTES = RECORD_HEADER_BYTES + RECORD_CRC_BYTES;
/** Sequence numbers are u32 and start at 1 (0 is never written). */
export const RECORD_SEQ_MIN = 1;
export const RECORD_SEQ_MAX = 0xffff_ffff;

export interface RecordToEncode {
  type: RecordType;
  seq: number;
  payload: Uint8Array;
}

export interface DecodedRecord {
  type: RecordType;
  formatVersion: number;
  seq: number;
  /** A view into the decoded bytes; copy it before the bytes are reused. */
  payload: Uint8Array;
  /** Bytes the whole record takes: header, payload and CRC. */
  sizeBytes: number;
}

/** Why bytes are not a record, in the order `decodeRecord` checks. */
export const RECORD_DECODE_FAILURES = [
  'truncated', // fewer bytes than a record with an empty payload
  'blank', // the header is all 0xFF or all 0x00: never written (not corruption)
  'badMagic', // the first two bytes are not the magic
  'badLength', // the payload length runs past the bytes available
  'badCrc', // the trailer does not match: torn write or flipped bit
  'badVersion', // intact, but a format version this firmware cannot read
  'badType', // intact, but a type code this firmware does not know
] as const;
export type RecordDecodeFailure = (typeof RECORD_DECODE_FAILURES)[number];

export type RecordDecodeResult =
  | { ok: true; record: DecodedRecord }
  | { ok: false; reason: RecordDecodeFailure };

export function recordSizeBytes(payloadBytes: number): number {
  return RECORD_OVERHEAD_BYTES + payloadBytes;
}

export function encodeRecord(record: RecordToEncode): Uint8Array {
  const { seq, payload } = record;
  assert(
    Number.isSafeInteger(seq) && seq >= RECORD_SEQ_MIN && seq <= RECORD_SEQ_MAX,
    `record seq must be in [${RECORD_SEQ_MIN}, ${RECORD_SEQ_MAX}], got ${seq}`,
  );
  const bytes = new Uint8Array(recordSizeBytes(payload.length));
  const view = new DataView(bytes.buffer);
  view.setUint16(0, RECORD_MAGIC, true);
  view.setUint8(2, RECORD_FORMAT_VERSION);
  view.setUint8(3, RECORD_TYPE_CODES[record.type]);
  view.setUint32(4, seq, true);
  view.setUint32(8, payload.length, true);
  bytes.set(payload, RECORD_HEADER_BYTES);
  const crcOffset = RECORD_HEADER_BYTES + payload.length;
  view.setUint32(crcOffset, crc32(bytes.subarray(0, crcOffset)), true);
  return bytes;
}

/** Decode the record that starts at `bytes[0]`; bytes after it are ignored. */
export function decodeRecord(bytes: Uint8Array): RecordDecodeResult {
  if (bytes.length < RECORD_OVERHEAD_BYTES) return { ok: false, reason: 'truncated' };
  const header = bytes.subarray(0, RECORD_HEADER_BYTES);
  if (header.every((b) => b === 0xff) || header.every((b) => b === 0x00))
    return { ok: false, reason: 'blank' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0, true) !== RECORD_MAGIC) return { ok: false, reason: 'badMagic' };
  const payloadBytes = view.getUint32(8, true);
  if (payloadBytes > bytes.length - RECORD_OVERHEAD_BYTES)
    return { ok: false, reason: 'badLength' };
  const crcOffset = RECORD_HEADER_BYTES + payloadBytes;
  if (view.getUint32(crcOffset, true) !== crc32(bytes.subarray(0, crcOffset)))
    return { ok: false, reason: 'badCrc' };
  const formatVersion = view.getUint8(2);
  if (formatVersion !== RECORD_FORMAT_VERSION) return { ok: false, reason: 'badVersion' };
  const type = recordTypeOfCode(view.getUint8(3));
  if (type === undefined) return { ok: false, reason: 'badType' };
  return {
    ok: true,
    record: {
      type,
      formatVersion,
      seq: view.getUint32(4, true),
      payload: bytes.subarray(RECORD_HEADER_BYTES, crcOffset),
      sizeBytes: crcOffset + RECORD_CRC_BYTES,
    },
  };
}

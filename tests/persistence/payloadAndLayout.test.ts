/**
 * Payloads: JSON data round-trips exactly; anything JSON would drop or alter is refused with an
 * assertion that names the record and the member; undecodable bytes decode to undefined.
 * Layout: the regions of the default layout do not overlap, fill 64 KiB, and the size relations
 * hold; bad layouts are refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALARMS_SLOT_BYTES,
  buildLayout,
  CLOCK_SLOT_BYTES,
  decodePayload,
  DEFAULT_LAYOUT,
  encodedPayloadBytes,
  encodePayload,
  JOURNAL_ENTRY_BYTES,
  JOURNAL_ENTRY_COUNT,
  journalEntryOffset,
  journalPayloadBytesMax,
  LEDGER_SLOT_BYTES,
  NVM_LAYOUT_BYTES_DEFAULT,
  PRESCRIPTION_SLOT_BYTES,
  RECORD_OVERHEAD_BYTES,
  RESERVOIR_SLOT_BYTES,
  STATE_AREA_BYTES,
  STATE_RECORD_KINDS,
  stateSlotOffset,
  statePayloadBytesMax,
} from '../../src/persistence/index.js';
import { AssertionFailure } from '../../src/assert.js';
import { SIM_NVM_SIZE_BYTES_DEFAULT } from '../../hal/sim/simNvm.js';
import { stateValue, logValue } from './fixtures.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 300 * Number(process.env.FC_RUNS_FACTOR ?? 1));

describe('payload encoding', () => {
  it('round-trips any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        // JSON itself turns -0 into 0; compare with what JSON keeps.
        const expected: unknown = JSON.parse(JSON.stringify(value));
        expect(decodePayload(encodePayload(value, 'ledger'))).toEqual({ value: expected });
      }),
      { seed, numRuns },
    );
  });

  it.each([
    ['undefined', undefined, /the value is undefined/],
    ['NaN', { rateNlPerDay: Number.NaN }, /member "rateNlPerDay" is NaN/],
    ['Infinity', [1, Number.POSITIVE_INFINITY], /member "1" is Infinity/],
    ['a nested undefined', { a: { b: undefined } }, /member "b" is undefined/],
    ['a function', { f: () => 1 }, /member "f" is function/],
    ['a bigint', { n: 1n }, /member "n" is bigint/],
    ['a Map', { m: new Map([[1, 2]]) }, /member "m" is not a plain object/],
    ['a class instance', { u: new Uint8Array(2) }, /member "u" is not a plain object/],
  ])('refuses %s with an assertion naming the record and the member', (_name, value, message) => {
    expect(() => encodePayload(value, 'prescription')).toThrow(AssertionFailure);
    expect(() => encodePayload(value, 'prescription')).toThrow(/^prescription record: /);
    expect(() => encodePayload(value, 'prescription')).toThrow(message);
  });

  it('accepts objects without a prototype, and measures sizes in UTF-8 bytes', () => {
    const bare = Object.assign(Object.create(null) as object, { a: 1 });
    expect(decodePayload(encodePayload(bare, 'clock'))).toEqual({ value: { a: 1 } });
    expect(encodedPayloadBytes('µ')).toBe(4); // two quotes and the two UTF-8 bytes of µ
  });

  it('asserts a payload over its limit, naming the record type, the size and the limit', () => {
    expect(() => encodePayload('x'.repeat(99), 'ledger', 100)).toThrow(
      'ledger record payload is 101 bytes, over its limit of 100 bytes',
    );
    expect(encodePayload('x'.repeat(98), 'ledger', 100).length).toBe(100);
  });

  it('decodes bytes that are not UTF-8 JSON to undefined instead of throwing', () => {
    expect(decodePayload(Uint8Array.from([0x7b]))).toBeUndefined(); // "{"
    expect(decodePayload(Uint8Array.from([0xff, 0xfe]))).toBeUndefined(); // not UTF-8
    expect(decodePayload(new Uint8Array(0))).toBeUndefined();
  });
});

describe('layout', () => {
  it('the default layout fills the default 64 KiB memory: state area, then journal', () => {
    expect(DEFAULT_LAYOUT.totalBytes).toBe(NVM_LAYOUT_BYTES_DEFAULT);
    expect(NVM_LAYOUT_BYTES_DEFAULT).toBe(SIM_NVM_SIZE_BYTES_DEFAULT);
    expect(DEFAULT_LAYOUT.journal.offset).toBe(STATE_AREA_BYTES);
    expect(STATE_AREA_BYTES + JOURNAL_ENTRY_BYTES * JOURNAL_ENTRY_COUNT).toBe(64 * 1024);
  });

  it('gives every state kind two slots of its named size, with no two regions overlapping', () => {
    const sizes = {
      prescription: PRESCRIPTION_SLOT_BYTES,
      ledger: LEDGER_SLOT_BYTES,
      reservoir: RESERVOIR_SLOT_BYTES,
      alarms: ALARMS_SLOT_BYTES,
      clock: CLOCK_SLOT_BYTES,
    };
    const ranges: [number, number][] = [];
    for (const kind of STATE_RECORD_KINDS) {
      expect(DEFAULT_LAYOUT.states[kind].slotBytes).toBe(sizes[kind]);
      expect(statePayloadBytesMax(DEFAULT_LAYOUT, kind)).toBe(sizes[kind] - RECORD_OVERHEAD_BYTES);
      for (const slot of [0, 1] as const) {
        const start = stateSlotOffset(DEFAULT_LAYOUT, kind, slot);
        ranges.push([start, start + sizes[kind]]);
      }
    }
    for (let index = 0; index < JOURNAL_ENTRY_COUNT; index++) {
      const start = journalEntryOffset(DEFAULT_LAYOUT, index);
      ranges.push([start, start + JOURNAL_ENTRY_BYTES]);
    }
    ranges.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < ranges.length; i++)
      expect(ranges[i]![0]).toBeGreaterThanOrEqual(ranges[i - 1]![1]);
    expect(ranges.at(-1)![1]).toBe(DEFAULT_LAYOUT.totalBytes);
    const stateEnd = Math.max(
      ...STATE_RECORD_KINDS.map((k) => stateSlotOffset(DEFAULT_LAYOUT, k, 1) + sizes[k]),
    );
    expect(stateEnd).toBeLessThanOrEqual(STATE_AREA_BYTES);
  });

  it('fits the typical record of every kind and a log entry with room to spare', () => {
    for (const kind of STATE_RECORD_KINDS) {
      expect(encodedPayloadBytes(stateValue(kind, 1_000_000))).toBeLessThan(
        statePayloadBytesMax(DEFAULT_LAYOUT, kind) / 2,
      );
    }
    expect(encodedPayloadBytes(logValue(1_000_000))).toBeLessThan(
      journalPayloadBytesMax(DEFAULT_LAYOUT) / 2,
    );
  });

  it('refuses layouts whose slots or entries are too small, or whose state area is too small', () => {
    const slots = Object.fromEntries(STATE_RECORD_KINDS.map((k) => [k, 64])) as Record<
      (typeof STATE_RECORD_KINDS)[number],
      number
    >;
    const ok = { stateSlotBytes: slots, journalEntryBytes: 64, journalEntryCount: 4 };
    expect(buildLayout(ok).totalBytes).toBe(5 * 2 * 64 + 4 * 64);
    expect(() => buildLayout({ ...ok, stateSlotBytes: { ...slots, alarms: 20 } })).toThrow(
      /alarms slot of 20 bytes/,
    );
    expect(() => buildLayout({ ...ok, journalEntryBytes: 20 })).toThrow(
      /journal entry of 20 bytes/,
    );
    expect(() => buildLayout({ ...ok, journalEntryCount: 1 })).toThrow(/journal of 1 entries/);
    expect(() => buildLayout({ ...ok, stateAreaBytes: 100 })).toThrow(/over the state area of 100/);
    expect(() => journalEntryOffset(DEFAULT_LAYOUT, JOURNAL_ENTRY_COUNT)).toThrow(AssertionFailure);
  });
});

/**
 * NVM layout: how the non-volatile memory's bytes are divided into regions.
 *
 *   [0, STATE_AREA_BYTES)            one slot pair (A then B) per state kind, in
 *                                    STATE_RECORD_KINDS order, packed from offset 0; the rest of
 *                                    the area is spare for kinds added later
 *   [STATE_AREA_BYTES, +JOURNAL_...)  the event-log journal: a ring of fixed-size entries
 *
 * Rules:
 * - Every size is a named constant; the relations between them are asserted when a layout is
 *   built (regions do not overlap, every slot holds at least a small record, the whole layout fits
 *   the memory it is used with).
 * - A slot's size is the largest record (header + payload + CRC) it can hold.
 * - Changing the default layout moves records: a firmware that changes it must migrate, so treat
 *   these numbers as part of the on-disk format.
 *
 * Must not know: the NVM port, the record codec's internals beyond its overhead, or payloads.
 */
import { assert } from '../assert.js';
import { RECORD_OVERHEAD_BYTES } from './recordCodec.js';
import { STATE_RECORD_KINDS, type StateRecordKind } from './recordTypes.js';

/** Bytes per slot of each state kind (two slots each). Sized for the worst case named. */
export const PRESCRIPTION_SLOT_BYTES = 2048; // drug, concentration, limits, a flex schedule of steps
export const LEDGER_SLOT_BYTES = 4096; // the patient boluses and deliveries of the last 24 hours
export const RESERVOIR_SLOT_BYTES = 256; // the estimate and the last refill
export const ALARMS_SLOT_BYTES = 1024; // every latched alarm with its time
export const CLOCK_SLOT_BYTES = 256; // monotonic base and the real-time clock offset

/** The state area, including room for kinds added later. */
export const STATE_AREA_BYTES = 16 * 1024;
/** Bytes per journal entry: one event-log record per entry, so one entry's corruption is contained. */
export const JOURNAL_ENTRY_BYTES = 1024; // a programming record carries old and new flex schedules
/** Journal entries; the journal keeps the newest JOURNAL_ENTRY_COUNT - 1 records at least. */
export const JOURNAL_ENTRY_COUNT = 48;
/** The total the default layout fills: the default SimNvm capacity (hal/sim/simNvm.ts). */
export const NVM_LAYOUT_BYTES_DEFAULT =
  STATE_AREA_BYTES + JOURNAL_ENTRY_BYTES * JOURNAL_ENTRY_COUNT;

/** The smallest payload every slot and entry must hold ("{}" and a little more). */
const SLOT_PAYLOAD_BYTES_MIN = 16;
/** Fewer entries than this would leave the ring no room to keep anything while one is rewritten. */
const JOURNAL_ENTRY_COUNT_MIN = 2;

export interface SlotPairRegion {
  /** Offset of slot A; slot B follows at `offset + slotBytes`. */
  readonly offset: number;
  readonly slotBytes: number;
}

export interface JournalRegion {
  readonly offset: number;
  readonly entryBytes: number;
  readonly entryCount: number;
}

export interface NvmLayout {
  readonly states: Readonly<Record<StateRecordKind, SlotPairRegion>>;
  readonly journal: JournalRegion;
  /** Bytes from offset 0 to the end of the last region: the least NVM size this layout needs. */
  readonly totalBytes: number;
}

export interface NvmLayoutOptions {
  stateSlotBytes: Readonly<Record<StateRecordKind, number>>;
  /** Bytes reserved for the state area; the journal starts here. Default: exactly what the slots take. */
  stateAreaBytes?: number;
  journalEntryBytes: number;
  journalEntryCount: number;
}

/** Build a layout and assert its relations. Tests use small layouts to make the ring wrap often. */
export function buildLayout(options: NvmLayoutOptions): NvmLayout {
  const states = {} as Record<StateRecordKind, SlotPairRegion>;
  let offset = 0;
  for (const kind of STATE_RECORD_KINDS) {
    const slotBytes = options.stateSlotBytes[kind];
    assert(
      Number.isSafeInteger(slotBytes) &&
        slotBytes >= RECORD_OVERHEAD_BYTES + SLOT_PAYLOAD_BYTES_MIN,
      `layout: ${kind} slot of ${slotBytes} bytes is below ${RECORD_OVERHEAD_BYTES + SLOT_PAYLOAD_BYTES_MIN}`,
    );
    states[kind] = { offset, slotBytes };
    offset += 2 * slotBytes;
  }
  const stateAreaBytes = options.stateAreaBytes ?? offset;
  assert(
    stateAreaBytes >= offset,
    `layout: state slots take ${offset} bytes, over the state area of ${stateAreaBytes}`,
  );
  const { journalEntryBytes, journalEntryCount } = options;
  assert(
    Number.isSafeInteger(journalEntryBytes) &&
      journalEntryBytes >= RECORD_OVERHEAD_BYTES + SLOT_PAYLOAD_BYTES_MIN,
    `layout: journal entry of ${journalEntryBytes} bytes is below ${RECORD_OVERHEAD_BYTES + SLOT_PAYLOAD_BYTES_MIN}`,
  );
  assert(
    Number.isSafeInteger(journalEntryCount) && journalEntryCount >= JOURNAL_ENTRY_COUNT_MIN,
    `layout: journal of ${journalEntryCount} entries is below ${JOURNAL_ENTRY_COUNT_MIN}`,
  );
  const journal = {
    offset: stateAreaBytes,
    entryBytes: journalEntryBytes,
    entryCount: journalEntryCount,
  };
  return { states, journal, totalBytes: stateAreaBytes + journalEntryBytes * journalEntryCount };
}

/** The layout the firmware ships with: 16 KiB of state slots, 48 KiB of journal, 64 KiB in all. */
export const DEFAULT_LAYOUT: NvmLayout = buildLayout({
  stateSlotBytes: {
    prescription: PRESCRIPTION_SLOT_BYTES,
    ledger: LEDGER_SLOT_BYTES,
    reservoir: RESERVOIR_SLOT_BYTES,
    alarms: ALARMS_SLOT_BYTES,
    clock: CLOCK_SLOT_BYTES,
  },
  stateAreaBytes: STATE_AREA_BYTES,
  journalEntryBytes: JOURNAL_ENTRY_BYTES,
  journalEntryCount: JOURNAL_ENTRY_COUNT,
});
assert(
  DEFAULT_LAYOUT.totalBytes === NVM_LAYOUT_BYTES_DEFAULT,
  'default layout fills exactly 64 KiB',
);
assert(NVM_LAYOUT_BYTES_DEFAULT === 64 * 1024, 'default layout is 64 KiB');

/** Offset of slot `slot` (0 = A, 1 = B) of a state kind. */
export function stateSlotOffset(layout: NvmLayout, kind: StateRecordKind, slot: 0 | 1): number {
  const region = layout.states[kind];
  return region.offset + slot * region.slotBytes;
}

/** The largest payload a state kind's slot holds. */
export function statePayloadBytesMax(layout: NvmLayout, kind: StateRecordKind): number {
  return layout.states[kind].slotBytes - RECORD_OVERHEAD_BYTES;
}

/** The largest payload a journal entry holds. */
export function journalPayloadBytesMax(layout: NvmLayout): number {
  return layout.journal.entryBytes - RECORD_OVERHEAD_BYTES;
}

/** Offset of the journal entry at ring position `index` (0-based). */
export function journalEntryOffset(layout: NvmLayout, index: number): number {
  assert(
    Number.isInteger(index) && index >= 0 && index < layout.journal.entryCount,
    `journal index ${index} out of ring`,
  );
  return layout.journal.offset + index * layout.journal.entryBytes;
}

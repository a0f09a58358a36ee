/**
 * Persistence: records that survive resets, power loss mid-write and bit rot, in the NVM port.
 *
 * The controller uses `PersistentStore`; the rest is exported for tests, reports and sizing
 * checks (e.g. "the largest ledger fits its slot"). See docs/persistence.md.
 *
 * Must not know: the statechart or what any record means.
 */
export { PersistentStore, type RecoveryReport, type JournalReport } from './persistentStore.js';
export {
  STATE_RECORD_KINDS,
  RECORD_TYPE_CODES,
  isStateRecordKind,
  recordTypeOfCode,
  type StateRecordKind,
  type RecordType,
} from './recordTypes.js';
export type {
  StateReadout,
  StateStatus,
  StateCopy,
  SlotCondition,
  StoredRecordFailure,
} from './statePair.js';
export type { JournalEntry } from './journal.js';
export {
  DEFAULT_LAYOUT,
  buildLayout,
  stateSlotOffset,
  statePayloadBytesMax,
  journalEntryOffset,
  journalPayloadBytesMax,
  PRESCRIPTION_SLOT_BYTES,
  LEDGER_SLOT_BYTES,
  RESERVOIR_SLOT_BYTES,
  ALARMS_SLOT_BYTES,
  CLOCK_SLOT_BYTES,
  STATE_AREA_BYTES,
  JOURNAL_ENTRY_BYTES,
  JOURNAL_ENTRY_COUNT,
  NVM_LAYOUT_BYTES_DEFAULT,
  type NvmLayout,
  type NvmLayoutOptions,
  type SlotPairRegion,
  type JournalRegion,
} from './layout.js';
export {
  encodeRecord,
  decodeRecord,
  recordSizeBytes,
  RECORD_MAGIC,
  RECORD_FORMAT_VERSION,
  RECORD_HEADER_BYTES,
  RECORD_CRC_BYTES,
  RECORD_OVERHEAD_BYTES,
  RECORD_SEQ_MIN,
  RECORD_SEQ_MAX,
  RECORD_DECODE_FAILURES,
  type RecordDecodeFailure,
  type RecordDecodeResult,
  type DecodedRecord,
  type RecordToEncode,
} from './recordCodec.js';
export { encodePayload, encodedPayloadBytes, decodePayload } from './payload.js';

/**
 * The kinds of record kept in non-volatile memory, and the one-byte code each carries on disk.
 *
 * Rules:
 * - State records are rewritten whole (double-buffered); the event log is appended (journal).
 * - A code, once shipped, never changes meaning: records written by one firmware are read by the
 *   next. Add a kind by appending it to `STATE_RECORD_KINDS` and giving it a new code and a slot
 *   size in layout.ts; the compiler then points at every table that needs a row.
 *
 * Must not know: byte layouts, the NVM port, or what the controller stores in each kind.
 */

/** State rewritten whole on each change; the previous copy stays readable until the new one lands. */
export const STATE_RECORD_KINDS = [
  'prescription',
  'ledger',
  'reservoir',
  'alarms',
  'clock',
] as const;
export type StateRecordKind = (typeof STATE_RECORD_KINDS)[number];

/** Every record type on disk: the state kinds plus the event-log entry. */
export type RecordType = StateRecordKind | 'logEntry';

/** On-disk type codes. State kinds count up from 1; the journal uses its own range. */
export const RECORD_TYPE_CODES: Readonly<Record<RecordType, number>> = {
  prescription: 0x01,
  ledger: 0x02,
  reservoir: 0x03,
  alarms: 0x04,
  clock: 0x05,
  logEntry: 0x40,
};

const RECORD_TYPES_BY_CODE: ReadonlyMap<number, RecordType> = new Map(
  (Object.entries(RECORD_TYPE_CODES) as [RecordType, number][]).map(([type, code]) => [code, type]),
);

/** The record type a code stands for, or undefined for a code no firmware has written. */
export function recordTypeOfCode(code: number): RecordType | undefined {
  return RECORD_TYPES_BY_CODE.get(code);
}

export function isStateRecordKind(value: unknown): value is StateRecordKind {
  return (STATE_RECORD_KINDS as readonly unknown[]).includes(value);
}

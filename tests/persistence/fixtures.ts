/**
 * Shared fixtures for the persistence tests: a small layout that makes the journal wrap within a
 * few appends, and plausible values for every record type (shaped like what the controller will
 * store, sized like its typical records).
 */
import {
  buildLayout,
  STATE_RECORD_KINDS,
  type NvmLayout,
  type StateRecordKind,
} from '../../src/persistence/index.js';

/** 160-byte slots and an 8-entry ring of 112-byte entries: every record small, the ring wraps fast. */
export const SMALL_LAYOUT: NvmLayout = buildLayout({
  stateSlotBytes: Object.fromEntries(STATE_RECORD_KINDS.map((k) => [k, 160])) as Record<
    StateRecordKind,
    number
  >,
  journalEntryBytes: 112,
  journalEntryCount: 8,
});

/** A value of `kind`, distinct for each `n`, of about the size the controller's records will have. */
export function stateValue(kind: StateRecordKind, n: number): unknown {
  switch (kind) {
    case 'prescription':
      return {
        n,
        drug: 'morphine',
        concentrationUgPerMl: 25_000,
        basalNlPerDay: 400_000 + n,
        bolusNl: 20_000,
        lockoutMs: 3_600_000,
        bolusesPer24hMax: 4,
        flex: [
          { startMs: 0, rateNlPerDay: 400_000 },
          { startMs: 28_800_000, rateNlPerDay: 600_000 },
        ],
      };
    case 'ledger':
      return { n, boluses: [{ atMs: 1_000 * n, volumeNl: 20_000 }], deliveredNl24h: 123_456 + n };
    case 'reservoir':
      return { n, estimateNl: 20_000_000 - n, refilledAtMs: 0 };
    case 'alarms':
      return { n, latched: [{ code: 'lowReservoir', sinceMs: 5_000 * n }] };
    case 'clock':
      return { n, monotonicBaseMs: 86_400_000 * n, rtcOffsetMs: -3_600_000 };
  }
}

/** An event-log entry, distinct for each `n`. */
export function logValue(n: number): unknown {
  return { n, atMs: 60_000 * n, event: 'bolusDelivered', volumeNl: 20_000 };
}

/**
 * PersistentStore: the controller's one door to non-volatile memory.
 *
 * The controller hands plain JSON data in and gets plain data back:
 * - `saveState(kind, value)` rewrites one state record (prescription, ledger, reservoir, alarms,
 *   clock) double-buffered; `loadState(kind)` returns the newest intact copy.
 * - `appendLog(entry)` appends one event-log record to the journal; `readLog()` returns the
 *   retained records, oldest first.
 * - `recover()` is what a restart calls first: it reads every region and reports, per state kind,
 *   whether a copy survived (and whether anything was corrupt), and what the journal holds.
 *
 * Rules:
 * - Commit rule: a record is committed when the call that writes it returns. Nothing committed
 *   is lost by a reset or a cut write; the one write in flight may be lost (or may have landed).
 * - The port's `HalError` (writeFailed, readFailed) propagates unchanged; the controller maps it
 *   to the memory alarm. After a throw the store stays consistent and every later call works.
 * - A value that is not JSON data or does not fit its slot is the caller's bug: an assertion
 *   names the record type, the size and the limit, and nothing is written.
 * - Loaded values are `unknown`: the caller validates their shape (e.g. with zod) and treats a
 *   mismatch like a corrupt record.
 * - The store holds no copy of any record, so a new store over the same memory (a restart) sees
 *   exactly what the old one left. It remembers only where its own last returned write of each
 *   state kind went, so a save does not read both slots first; a write that threw forgets it.
 *
 * Must not know: the statechart, alarms, units, or what any record means.
 */
import type { NvmPort } from '../../hal/nvm.js';
import { assert } from '../assert.js';
import { Journal, type JournalEntry } from './journal.js';
import { DEFAULT_LAYOUT, type NvmLayout } from './layout.js';
import { isStateRecordKind, STATE_RECORD_KINDS, type StateRecordKind } from './recordTypes.js';
import { readStatePair, writeStatePair, type NewestSlot, type StateReadout } from './statePair.js';

export interface JournalReport {
  /** Intact records retained. */
  entryCount: number;
  /** Oldest and newest retained sequence numbers; both 0 when the journal is empty. */
  firstSeq: number;
  lastSeq: number;
  /** Records the ring must still hold but that are corrupt (lost to bit rot). */
  missingSeqs: number[];
  /** Corrupt entries, the torn tail included. */
  corruptEntryCount: number;
  /** The last append was cut by a reset (or the newest record rotted). */
  tornTail: boolean;
  /** Records the journal keeps at least (older ones are overwritten). */
  retainedEntriesMin: number;
}

export interface RecoveryReport {
  states: Readonly<Record<StateRecordKind, StateReadout>>;
  journal: JournalReport;
  /** True when no state is degraded or corrupt and the journal has no corrupt entry. */
  clean: boolean;
}

export class PersistentStore {
  private readonly journal: Journal;
  /** Where this store's last returned write of each kind went (absent: read the slots). */
  private readonly newest = new Map<StateRecordKind, NewestSlot>();

  constructor(
    private readonly nvm: NvmPort,
    readonly layout: NvmLayout = DEFAULT_LAYOUT,
  ) {
    assert(
      layout.totalBytes <= nvm.sizeBytes,
      `persistence layout needs ${layout.totalBytes} bytes, the memory has ${nvm.sizeBytes}`,
    );
    this.journal = new Journal(nvm, layout);
  }

  /** Write `value` as the newest copy of `kind`; returns its sequence number. */
  saveState(kind: StateRecordKind, value: unknown): number {
    assert(isStateRecordKind(kind), `unknown state record kind ${JSON.stringify(kind)}`);
    const known = this.newest.get(kind);
    this.newest.delete(kind); // until the write returns: a write that throws may have landed
    const written = writeStatePair(this.nvm, this.layout, kind, value, known);
    this.newest.set(kind, written);
    return written.seq;
  }

  /** The newest intact copy of `kind`, or undefined when none survives (see `inspectState`). */
  loadState(kind: StateRecordKind): { value: unknown; seq: number } | undefined {
    const { current } = this.inspectState(kind);
    return current === undefined ? undefined : { value: current.value, seq: current.seq };
  }

  /** Both slots of `kind`: which copy is current and whether anything is missing or corrupt. */
  inspectState(kind: StateRecordKind): StateReadout {
    assert(isStateRecordKind(kind), `unknown state record kind ${JSON.stringify(kind)}`);
    return readStatePair(this.nvm, this.layout, kind);
  }

  /** Append `entry` to the event log; returns its sequence number. */
  appendLog(entry: unknown): number {
    return this.journal.append(entry);
  }

  /** The retained event-log entries, oldest first. */
  readLog(): unknown[] {
    return this.journal.scan().entries.map((e) => e.value);
  }

  /** The retained event-log entries with their sequence numbers, oldest first. */
  readLogEntries(): JournalEntry[] {
    return this.journal.scan().entries;
  }

  /** Read every region after a restart; the controller decides what each finding means. */
  recover(): RecoveryReport {
    const states = {} as Record<StateRecordKind, StateReadout>;
    for (const kind of STATE_RECORD_KINDS)
      states[kind] = readStatePair(this.nvm, this.layout, kind);
    const scan = this.journal.scan();
    const journal: JournalReport = {
      entryCount: scan.entries.length,
      firstSeq: scan.entries[0]?.seq ?? 0,
      lastSeq: scan.lastSeq,
      missingSeqs: scan.missingSeqs,
      corruptEntryCount: scan.corruptEntryCount,
      tornTail: scan.tornTail,
      retainedEntriesMin: scan.entryCount - 1,
    };
    const statesClean = STATE_RECORD_KINDS.every(
      (k) => states[k].status === 'intact' || states[k].status === 'missing',
    );
    return { states, journal, clean: statesClean && scan.corruptEntryCount === 0 };
  }
}

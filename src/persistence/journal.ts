/**
 * The event-log journal: an append-only ring of fixed-size entries.
 *
 * Rules:
 * - Each entry holds at most one record. The record with sequence number `seq` always lives in
 *   entry `seq mod entryCount`, so position and order follow from the sequence number alone: no
 *   head pointer is stored (it would be one more thing a cut write could tear), and one corrupt
 *   entry hides nothing but itself.
 * - Append: write the record with seq = newest + 1 into its entry, in one `write()`. That entry
 *   holds the oldest record (once the ring has wrapped), which this append evicts; no other entry
 *   is touched, so a cut append never damages any other record. The ring therefore always keeps
 *   at least the newest `entryCount - 1` records.
 * - A record is committed when `write()` returns. After a throw the newest sequence number stays
 *   where it was, so the next append rewrites the same entry with the same seq.
 * - Recovery (`scan`): decode every entry, keep intact log records that sit in their own entry,
 *   take the highest seq as the newest and return the records of the last lap in seq order. A
 *   corrupt entry where the next append will go is a torn tail (an append cut by a reset); a
 *   sequence number missing inside the retained range is a record lost to corruption.
 * - One writer: a single `Journal` appends to a given memory at a time.
 *
 * Must not know: what log entries mean.
 */
import type { NvmPort } from '../../hal/nvm.js';
import { assert } from '../assert.js';
import { journalEntryOffset, journalPayloadBytesMax, type NvmLayout } from './layout.js';
import { decodePayload, encodePayload } from './payload.js';
import { decodeRecord, encodeRecord } from './recordCodec.js';
import type { StoredRecordFailure } from './statePair.js';

export interface JournalEntry {
  seq: number;
  value: unknown;
}

export interface JournalScan {
  /** Intact records of the last lap, oldest first. */
  entries: JournalEntry[];
  /** Sequence number of the newest intact record; 0 when the journal is empty. */
  lastSeq: number;
  /** Sequence numbers the ring must still hold (the newest entryCount - 1) but that are not intact. */
  missingSeqs: number[];
  /** Entries that are neither blank nor an intact record of the last lap (the torn tail included). */
  corruptEntryCount: number;
  /** Reasons of the corrupt entries, by ring position. */
  corruptEntries: { index: number; reason: StoredRecordFailure }[];
  /** The entry the next append goes to is corrupt: an append was cut (or the newest record rotted). */
  tornTail: boolean;
  /** Records the ring holds at most. */
  entryCount: number;
}

type EntryRead =
  | { kind: 'blank' }
  | { kind: 'corrupt'; reason: StoredRecordFailure }
  | { kind: 'record'; entry: JournalEntry };

export class Journal {
  /** Newest sequence number on the memory, as far as this instance knows; undefined until scanned. */
  private lastSeq: number | undefined;

  constructor(
    private readonly nvm: NvmPort,
    private readonly layout: NvmLayout,
  ) {}

  /** Read the whole ring and return what it holds. Also sets where the next append goes. */
  scan(): JournalScan {
    const { entryCount } = this.layout.journal;
    const reads = Array.from({ length: entryCount }, (_, index) => this.readEntry(index));
    let lastSeq = 0;
    for (const read of reads)
      if (read.kind === 'record') lastSeq = Math.max(lastSeq, read.entry.seq);
    const entries: JournalEntry[] = [];
    const corruptEntries: { index: number; reason: StoredRecordFailure }[] = [];
    reads.forEach((read, index) => {
      if (read.kind === 'corrupt') corruptEntries.push({ index, reason: read.reason });
      // A record from before the last lap cannot be left by our appends; count it as corrupt.
      else if (read.kind === 'record' && read.entry.seq <= lastSeq - entryCount)
        corruptEntries.push({ index, reason: 'misplaced' });
      else if (read.kind === 'record') entries.push(read.entry);
    });
    entries.sort((x, y) => x.seq - y.seq);
    const present = new Set(entries.map((e) => e.seq));
    const missingSeqs: number[] = [];
    for (let seq = Math.max(1, lastSeq - entryCount + 2); seq <= lastSeq; seq++) {
      if (!present.has(seq)) missingSeqs.push(seq);
    }
    const tailIndex = (lastSeq + 1) % entryCount;
    const tornTail = corruptEntries.some((c) => c.index === tailIndex);
    this.lastSeq = lastSeq;
    return {
      entries,
      lastSeq,
      missingSeqs,
      corruptEntryCount: corruptEntries.length,
      corruptEntries,
      tornTail,
      entryCount,
    };
  }

  /**
   * Append `value` as the newest record; returns its sequence number. Asserts the value is JSON
   * data that fits an entry before touching the memory. Propagates the port's `HalError`.
   */
  append(value: unknown): number {
    const payload = encodePayload(value, 'logEntry', journalPayloadBytesMax(this.layout));
    const lastSeq = this.lastSeq ?? this.scan().lastSeq;
    const seq = lastSeq + 1;
    const bytes = encodeRecord({ type: 'logEntry', seq, payload });
    assert(
      bytes.length <= this.layout.journal.entryBytes,
      `logEntry record of ${bytes.length} bytes overruns its entry`,
    );
    this.nvm.write(journalEntryOffset(this.layout, seq % this.layout.journal.entryCount), bytes);
    this.lastSeq = seq;
    return seq;
  }

  private readEntry(index: number): EntryRead {
    const { entryBytes, entryCount } = this.layout.journal;
    const decoded = decodeRecord(this.nvm.read(journalEntryOffset(this.layout, index), entryBytes));
    if (!decoded.ok)
      return decoded.reason === 'blank'
        ? { kind: 'blank' }
        : { kind: 'corrupt', reason: decoded.reason };
    const { record } = decoded;
    if (record.type !== 'logEntry') return { kind: 'corrupt', reason: 'wrongType' };
    if (record.seq % entryCount !== index) return { kind: 'corrupt', reason: 'misplaced' };
    const payload = decodePayload(record.payload);
    if (payload === undefined) return { kind: 'corrupt', reason: 'badPayload' };
    return { kind: 'record', entry: { seq: record.seq, value: payload.value } };
  }
}

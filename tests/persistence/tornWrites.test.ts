/**
 * Every record type torn at every byte offset.
 *
 * Method: for each state kind, and for the journal append, build a memory holding earlier
 * records, arm SimNvm to cut the next write after k bytes, for every k from 0 (nothing lands) to
 * the record's full length (everything lands, the write still throws), and check:
 * - the write throws `HalError('writeFailed')`;
 * - the previous good copy (k < length) or the new one (k = length) is read back, from the same
 *   store and from a new store over the same memory (a restart); other kinds are untouched;
 * - for the journal, every earlier record is still there (an append into a full ring may evict
 *   the oldest, which it would have evicted anyway), in order, with no record reported lost;
 * - the store keeps working: the next writes commit and are read back, before and after restart.
 * The target slot is exercised blank, holding the older copy in slot A, and in slot B.
 */
import { describe, expect, it } from 'vitest';
import { SimNvm } from '../../hal/sim/simNvm.js';
import { HalError } from '../../hal/halError.js';
import {
  encodePayload,
  encodeRecord,
  journalEntryOffset,
  PersistentStore,
  STATE_RECORD_KINDS,
  stateSlotOffset,
} from '../../src/persistence/index.js';
import { logValue, SMALL_LAYOUT, stateValue } from './fixtures.js';
import { recordFaults } from './faultTally.js';

/**
 * Whether the whole record is in memory at `offset`. A cut write can still leave a whole record
 * when the bytes it did not reach already held the right values (a CRC byte of 0xFF over a blank
 * slot, say); that record is then, correctly, the newest copy.
 */
function holdsWhole(nvm: SimNvm, offset: number, record: Uint8Array): boolean {
  return nvm
    .snapshot()
    .subarray(offset, offset + record.length)
    .every((b, i) => b === record[i]);
}

function expectWriteFailed(action: () => unknown): void {
  let thrown: unknown;
  try {
    action();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(HalError);
  expect((thrown as HalError).kind).toBe('writeFailed');
}

describe('a state write cut at any byte leaves the previous good copy readable', () => {
  // 1 earlier save: the cut write targets blank slot B; 2: slot A holding the older copy; 3: slot B.
  const cases = STATE_RECORD_KINDS.flatMap((kind) =>
    [1, 2, 3].map((earlierSaves) => ({ kind, earlierSaves })),
  );

  it.for(cases)(
    '$kind, after $earlierSaves earlier save(s)',
    ({ kind, earlierSaves }, { task }) => {
      const others = STATE_RECORD_KINDS.filter((k) => k !== kind);
      const cutValue = stateValue(kind, 100);
      // The record the cut write carries, and where it goes: the slot not holding the newest copy.
      const cutRecord = encodeRecord({
        type: kind,
        seq: earlierSaves + 1,
        payload: encodePayload(cutValue, kind),
      });
      const recordBytes = cutRecord.length;
      let tornWrites = 0;
      let wholeByCoincidence = 0;
      let restarts = 0;
      for (let landed = 0; landed <= recordBytes; landed++) {
        const nvm = new SimNvm();
        const store = new PersistentStore(nvm);
        for (const other of others) store.saveState(other, stateValue(other, 1));
        for (let n = 1; n <= earlierSaves; n++) store.saveState(kind, stateValue(kind, n));

        const bytesBefore = nvm.counters.bytesWritten;
        nvm.tearNextWriteAt(landed);
        expectWriteFailed(() => store.saveState(kind, cutValue));
        expect(nvm.counters.bytesWritten - bytesBefore).toBe(landed);

        const whole = holdsWhole(
          nvm,
          stateSlotOffset(store.layout, kind, earlierSaves % 2 === 1 ? 1 : 0),
          cutRecord,
        );
        expect(whole || landed < recordBytes).toBe(true);
        if (whole && landed < recordBytes) wholeByCoincidence += 1;
        const expected = whole
          ? { value: cutValue, seq: earlierSaves + 1 }
          : { value: stateValue(kind, earlierSaves), seq: earlierSaves };
        const restarted = new PersistentStore(nvm);
        for (const reader of [store, restarted]) {
          expect(reader.loadState(kind), `landed ${landed}`).toEqual(expected);
          expect(['intact', 'degraded']).toContain(reader.inspectState(kind).status);
          for (const other of others)
            expect(reader.loadState(other)).toEqual({ value: stateValue(other, 1), seq: 1 });
        }

        // The store keeps working, in the old instance and after the restart.
        store.saveState(kind, stateValue(kind, 200));
        expect(restarted.loadState(kind)).toEqual({
          value: stateValue(kind, 200),
          seq: expected.seq + 1,
        });
        restarted.saveState(kind, stateValue(kind, 201));
        expect(new PersistentStore(nvm).loadState(kind)).toEqual({
          value: stateValue(kind, 201),
          seq: expected.seq + 2,
        });
        expect(restarted.inspectState(kind).status).toBe('intact');
        tornWrites += nvm.counters.tornWrites;
        restarts += 2;
      }
      expect(tornWrites).toBe(recordBytes + 1);
      // At most the last CRC bytes can coincide; anything more would mean the wrong slot was written.
      expect(wholeByCoincidence).toBeLessThanOrEqual(4);
      recordFaults(task, { tornWrites, restarts });
    },
  );
});

describe('a journal append cut at any byte never damages earlier records', () => {
  const entryCount = SMALL_LAYOUT.journal.entryCount;
  /** Values of a run of appends, as the journal must hold them: the newest `entryCount` at most. */
  const lastLap = (values: unknown[]) => values.slice(Math.max(0, values.length - entryCount));

  // Empty ring; part full; the cut append fills the last blank entry; it evicts the oldest; wrapped.
  it.for([0, 3, entryCount - 1, entryCount, 2 * entryCount + 5])(
    'after %i earlier appends',
    (earlierAppends, { task }) => {
      const earlier = Array.from({ length: earlierAppends }, (_, i) => logValue(i + 1));
      const cutValue = logValue(1000);
      const cutSeq = earlierAppends + 1;
      const cutRecord = encodeRecord({
        type: 'logEntry',
        seq: cutSeq,
        payload: encodePayload(cutValue, 'logEntry'),
      });
      const recordBytes = cutRecord.length;
      const ringWasFull = earlierAppends >= entryCount;
      let tornWrites = 0;
      let restarts = 0;
      for (let landed = 0; landed <= recordBytes; landed++) {
        const nvm = new SimNvm({ sizeBytes: SMALL_LAYOUT.totalBytes });
        const store = new PersistentStore(nvm, SMALL_LAYOUT);
        store.saveState('ledger', { n: 1 });
        for (const value of earlier) store.appendLog(value);

        nvm.tearNextWriteAt(landed);
        expectWriteFailed(() => store.appendLog(cutValue));

        const whole = holdsWhole(
          nvm,
          journalEntryOffset(SMALL_LAYOUT, cutSeq % entryCount),
          cutRecord,
        );
        expect(whole || landed < recordBytes).toBe(true);
        const before = lastLap(earlier);
        const afterCut = whole ? lastLap([...earlier, cutValue]) : undefined;
        // What a reset now would recover, read by a second instance so the writer's view is untouched.
        const atReset = new PersistentStore(nvm, SMALL_LAYOUT);
        const log = atReset.readLog();
        if (afterCut !== undefined) expect(log).toEqual(afterCut);
        // Every earlier record survives; only the oldest of a full ring may go (its entry was the target).
        else if (ringWasFull && log.length < before.length) expect(log).toEqual(before.slice(1));
        else expect(log).toEqual(before);
        const { journal } = atReset.recover();
        expect(journal.missingSeqs).toEqual([]);
        expect(journal.tornTail).toBe(
          !whole && (ringWasFull ? log.length < before.length : landed > 0),
        );
        expect(atReset.loadState('ledger')).toEqual({ value: { n: 1 }, seq: 1 });

        // The writer carries on without re-reading: its next append reuses the cut one's sequence
        // number and entry, replacing it even if it landed whole (it was never committed).
        const committed = earlier;
        store.appendLog(logValue(2000));
        const restarted = new PersistentStore(nvm, SMALL_LAYOUT);
        expect(restarted.readLog()).toEqual(lastLap([...committed, logValue(2000)]));
        expect(restarted.recover().journal).toMatchObject({ missingSeqs: [], tornTail: false });
        // And a restarted writer carries on too.
        restarted.appendLog(logValue(2001));
        expect(new PersistentStore(nvm, SMALL_LAYOUT).readLog()).toEqual(
          lastLap([...committed, logValue(2000), logValue(2001)]),
        );
        tornWrites += nvm.counters.tornWrites;
        restarts += 3; // atReset, restarted, and the last reader
      }
      expect(tornWrites).toBe(recordBytes + 1);
      recordFaults(task, { tornWrites, restarts });
    },
  );
});

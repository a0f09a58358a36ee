/**
 * PersistentStore basics: values saved are loaded (also by a new store over the same memory),
 * copies alternate between slots with increasing sequence numbers, the journal keeps order across
 * wraps, port errors propagate and leave the store usable, caller bugs are assertions that change
 * nothing, and intact records in the wrong place are reported as corrupt, not used.
 */
import { describe, expect, it } from 'vitest';
import { SimNvm } from '../../hal/sim/simNvm.js';
import { HalError } from '../../hal/halError.js';
import { AssertionFailure } from '../../src/assert.js';
import {
  encodeRecord,
  journalEntryOffset,
  PersistentStore,
  STATE_RECORD_KINDS,
  stateSlotOffset,
  statePayloadBytesMax,
  type StateRecordKind,
} from '../../src/persistence/index.js';
import { logValue, SMALL_LAYOUT, stateValue } from './fixtures.js';
import { recordFaults } from './faultTally.js';

function kindOfThrow(action: () => unknown): string {
  try {
    action();
  } catch (e) {
    if (e instanceof HalError) return `HalError:${e.kind}`;
    if (e instanceof AssertionFailure) return 'AssertionFailure';
    throw e;
  }
  return 'none';
}

describe('state records', () => {
  it('start missing, then load the last value saved, from this store and after a restart', ({
    task,
  }) => {
    const nvm = new SimNvm();
    const store = new PersistentStore(nvm);
    const report = store.recover();
    for (const kind of STATE_RECORD_KINDS) {
      expect(store.loadState(kind)).toBeUndefined();
      expect(report.states[kind].status).toBe('missing');
    }
    expect(report.clean).toBe(true);
    for (const kind of STATE_RECORD_KINDS) {
      for (let n = 1; n <= 3; n++) expect(store.saveState(kind, stateValue(kind, n))).toBe(n);
    }
    const restarted = new PersistentStore(nvm);
    for (const kind of STATE_RECORD_KINDS) {
      expect(restarted.loadState(kind)).toEqual({ value: stateValue(kind, 3), seq: 3 });
      expect(restarted.recover().states[kind].status).toBe('intact');
    }
    recordFaults(task, { restarts: 1 });
  });

  it('alternates slots A and B, keeping the previous copy in the other slot', () => {
    const store = new PersistentStore(new SimNvm());
    for (let n = 1; n <= 4; n++) {
      store.saveState('ledger', stateValue('ledger', n));
      const readout = store.inspectState('ledger');
      expect(readout.current).toEqual({
        value: stateValue('ledger', n),
        seq: n,
        slot: (n - 1) % 2,
      });
      const previous = readout.slots[n % 2];
      expect(previous).toEqual(
        n === 1 ? { condition: 'blank' } : { condition: 'valid', seq: n - 1 },
      );
    }
  });

  it('keeps kinds apart: saving one never changes another', () => {
    const store = new PersistentStore(new SimNvm());
    store.saveState('prescription', stateValue('prescription', 1));
    store.saveState('reservoir', stateValue('reservoir', 1));
    store.saveState('prescription', stateValue('prescription', 2));
    expect(store.loadState('reservoir')).toEqual({ value: stateValue('reservoir', 1), seq: 1 });
    expect(store.loadState('alarms')).toBeUndefined();
  });

  it('asserts a record over its slot, naming it, and writes nothing', () => {
    const nvm = new SimNvm();
    const store = new PersistentStore(nvm);
    store.saveState('clock', stateValue('clock', 1));
    const writes = nvm.counters.writes;
    const limit = statePayloadBytesMax(store.layout, 'clock');
    const tooLong = 'x'.repeat(limit - 1); // with its two quotes, one byte over
    expect(() => store.saveState('clock', tooLong)).toThrow(
      `clock record payload is ${limit + 1} bytes, over its limit of ${limit} bytes`,
    );
    expect(nvm.counters.writes).toBe(writes);
    expect(store.loadState('clock')).toEqual({ value: stateValue('clock', 1), seq: 1 });
    expect(() => store.saveState('bogus' as StateRecordKind, {})).toThrow(
      /unknown state record kind "bogus"/,
    );
  });

  it('asserts a layout larger than the memory', () => {
    expect(() => new PersistentStore(new SimNvm({ sizeBytes: 1024 }))).toThrow(
      /needs 65536 bytes, the memory has 1024/,
    );
  });

  it('propagates writeFailed and readFailed, and works normally on the next call', ({ task }) => {
    const nvm = new SimNvm();
    const store = new PersistentStore(nvm);
    store.saveState('alarms', stateValue('alarms', 1));
    nvm.tearNextWriteAt(3);
    expect(kindOfThrow(() => store.saveState('alarms', stateValue('alarms', 2)))).toBe(
      'HalError:writeFailed',
    );
    nvm.failNextRead();
    expect(kindOfThrow(() => store.loadState('alarms'))).toBe('HalError:readFailed');
    nvm.failNextRead();
    expect(kindOfThrow(() => store.saveState('alarms', stateValue('alarms', 3)))).toBe(
      'HalError:readFailed',
    );
    nvm.failNextRead();
    expect(kindOfThrow(() => store.recover())).toBe('HalError:readFailed');
    expect(store.loadState('alarms')).toEqual({ value: stateValue('alarms', 1), seq: 1 });
    expect(store.saveState('alarms', stateValue('alarms', 4))).toBe(2);
    expect(store.loadState('alarms')).toEqual({ value: stateValue('alarms', 4), seq: 2 });
    recordFaults(task, { tornWrites: nvm.counters.tornWrites });
  });

  it('a save after its own returned save reads one slot, not both; after a throw it reads both', () => {
    const nvm = new SimNvm();
    const store = new PersistentStore(nvm);
    const readsOf = (save: () => unknown) => {
      const before = nvm.counters.reads;
      save();
      return nvm.counters.reads - before;
    };
    // A new store knows nothing: its first save reads both slots.
    expect(readsOf(() => store.saveState('ledger', stateValue('ledger', 1)))).toBe(2);
    // Then it knows where that copy went: one read, to check it is still intact.
    expect(readsOf(() => store.saveState('ledger', stateValue('ledger', 2)))).toBe(1);
    expect(readsOf(() => store.saveState('ledger', stateValue('ledger', 3)))).toBe(1);
    expect(store.loadState('ledger')).toEqual({ value: stateValue('ledger', 3), seq: 3 });
    // A write that threw may have landed or not: the next save reads both slots again.
    nvm.tearNextWriteAt(3);
    expect(kindOfThrow(() => store.saveState('ledger', stateValue('ledger', 4)))).toBe(
      'HalError:writeFailed',
    );
    expect(readsOf(() => store.saveState('ledger', stateValue('ledger', 5)))).toBe(2);
    expect(store.loadState('ledger')).toEqual({ value: stateValue('ledger', 5), seq: 4 });
  });

  it('reports an intact record of another type, or an intact record with a non-JSON payload, as corrupt', () => {
    const nvm = new SimNvm();
    const store = new PersistentStore(nvm);
    store.saveState('reservoir', stateValue('reservoir', 1));
    nvm.write(
      stateSlotOffset(store.layout, 'reservoir', 1),
      encodeRecord({ type: 'clock', seq: 9, payload: Uint8Array.from([0x7b, 0x7d]) }),
    );
    expect(store.inspectState('reservoir')).toMatchObject({
      status: 'degraded',
      current: { seq: 1 },
      slots: [
        { condition: 'valid', seq: 1 },
        { condition: 'corrupt', reason: 'wrongType' },
      ],
    });
    nvm.write(
      stateSlotOffset(store.layout, 'reservoir', 0),
      encodeRecord({ type: 'reservoir', seq: 10, payload: Uint8Array.from([0x7b]) }),
    );
    const readout = store.inspectState('reservoir');
    expect(readout).toMatchObject({ status: 'corrupt', current: undefined });
    expect(readout.slots[0]).toEqual({ condition: 'corrupt', reason: 'badPayload' });
    expect(store.loadState('reservoir')).toBeUndefined();
    expect(store.recover().clean).toBe(false);
  });
});

describe('event-log journal', () => {
  it('returns entries in append order, and keeps the newest entryCount - 1 at least across wraps', ({
    task,
  }) => {
    const nvm = new SimNvm({ sizeBytes: SMALL_LAYOUT.totalBytes });
    let store = new PersistentStore(nvm, SMALL_LAYOUT);
    const capacity = SMALL_LAYOUT.journal.entryCount;
    let restarts = 0;
    for (let n = 1; n <= 5 * capacity + 3; n++) {
      expect(store.appendLog(logValue(n))).toBe(n);
      const expected = Array.from({ length: Math.min(n, capacity) }, (_, i) =>
        logValue(n - Math.min(n, capacity) + 1 + i),
      );
      expect(store.readLog()).toEqual(expected);
      if (n % 3 === 0) {
        store = new PersistentStore(nvm, SMALL_LAYOUT);
        restarts += 1;
        expect(store.readLog()).toEqual(expected);
      }
      const { journal } = store.recover();
      expect(journal).toMatchObject({
        lastSeq: n,
        firstSeq: n - expected.length + 1,
        entryCount: expected.length,
        missingSeqs: [],
        corruptEntryCount: 0,
        tornTail: false,
      });
      expect(journal.retainedEntriesMin).toBe(capacity - 1);
    }
    expect(store.readLogEntries().map((e) => e.seq)).toEqual(
      Array.from({ length: capacity }, (_, i) => 5 * capacity + 3 - capacity + 1 + i),
    );
    recordFaults(task, { restarts });
  });

  it('continues the sequence after a restart instead of starting over', () => {
    const nvm = new SimNvm({ sizeBytes: SMALL_LAYOUT.totalBytes });
    new PersistentStore(nvm, SMALL_LAYOUT).appendLog(logValue(1));
    const restarted = new PersistentStore(nvm, SMALL_LAYOUT);
    expect(restarted.appendLog(logValue(2))).toBe(2);
    expect(restarted.readLog()).toEqual([logValue(1), logValue(2)]);
  });

  it("an append that landed whole but threw is kept by a reset, and replaced by the same writer's next append", ({
    task,
  }) => {
    const setUp = () => {
      const nvm = new SimNvm({ sizeBytes: SMALL_LAYOUT.totalBytes });
      const writer = new PersistentStore(nvm, SMALL_LAYOUT);
      writer.appendLog(logValue(1));
      nvm.tearNextWriteAt(10_000); // every byte lands, the write still throws
      expect(kindOfThrow(() => writer.appendLog(logValue(2)))).toBe('HalError:writeFailed');
      return { nvm, writer };
    };
    const kept = setUp();
    const restarted = new PersistentStore(kept.nvm, SMALL_LAYOUT);
    expect(restarted.appendLog(logValue(3))).toBe(3);
    expect(restarted.readLog()).toEqual([1, 2, 3].map(logValue));
    const replaced = setUp();
    expect(replaced.writer.appendLog(logValue(3))).toBe(2);
    expect(new PersistentStore(replaced.nvm, SMALL_LAYOUT).readLog()).toEqual([1, 3].map(logValue));
    recordFaults(task, { tornWrites: 2, restarts: 1 });
  });

  it('asserts an entry over its limit and writes nothing', () => {
    const nvm = new SimNvm({ sizeBytes: SMALL_LAYOUT.totalBytes });
    const store = new PersistentStore(nvm, SMALL_LAYOUT);
    expect(() => store.appendLog({ text: 'x'.repeat(200) })).toThrow(
      /^logEntry record payload is \d+ bytes, over its limit of 96 bytes$/,
    );
    expect(nvm.counters.writes).toBe(0);
  });

  it('reports an intact record of another type, or with a non-JSON payload, in a journal entry as corrupt', () => {
    const nvm = new SimNvm({ sizeBytes: SMALL_LAYOUT.totalBytes });
    const store = new PersistentStore(nvm, SMALL_LAYOUT);
    for (let n = 1; n <= 3; n++) store.appendLog(logValue(n));
    nvm.write(
      journalEntryOffset(SMALL_LAYOUT, 2),
      encodeRecord({ type: 'ledger', seq: 2, payload: Uint8Array.from([0x31]) }),
    );
    nvm.write(
      journalEntryOffset(SMALL_LAYOUT, 3),
      encodeRecord({ type: 'logEntry', seq: 3, payload: Uint8Array.from([0x7b]) }),
    );
    expect(store.readLog()).toEqual([logValue(1)]);
    // Seq 1 is now the newest intact record, so seq 2's entry (where the next append goes) reads
    // as a torn tail; nothing inside the retained range is missing.
    expect(store.recover().journal).toMatchObject({
      lastSeq: 1,
      corruptEntryCount: 2,
      tornTail: true,
      missingSeqs: [],
    });
    store.appendLog(logValue(4));
    expect(store.recover().journal).toMatchObject({
      lastSeq: 2,
      corruptEntryCount: 1,
      tornTail: true,
    });
  });

  it('reports an intact record from before the last lap as misplaced, and does not return it', () => {
    const nvm = new SimNvm({ sizeBytes: SMALL_LAYOUT.totalBytes });
    const store = new PersistentStore(nvm, SMALL_LAYOUT);
    const { entryCount } = SMALL_LAYOUT.journal;
    for (let n = 1; n <= 2 * entryCount + 4; n++) store.appendLog(logValue(n));
    // Seq 3 sits in its own entry (3 mod 8) but two laps late: only bytes from elsewhere could put it there.
    nvm.write(
      journalEntryOffset(SMALL_LAYOUT, 3),
      encodeRecord({ type: 'logEntry', seq: 3, payload: Uint8Array.from([0x33]) }),
    );
    const retained = Array.from(
      { length: entryCount },
      (_, i) => 2 * entryCount + 4 - entryCount + 1 + i,
    );
    expect(store.readLogEntries().map((e) => e.seq)).toEqual(
      retained.filter((seq) => seq % entryCount !== 3),
    );
    expect(store.recover().journal).toMatchObject({
      lastSeq: 2 * entryCount + 4,
      corruptEntryCount: 1,
      missingSeqs: [2 * entryCount + 3],
    });
  });

  it('ignores an intact log record that sits in the wrong entry, reporting it as misplaced', () => {
    const nvm = new SimNvm({ sizeBytes: SMALL_LAYOUT.totalBytes });
    const store = new PersistentStore(nvm, SMALL_LAYOUT);
    store.appendLog(logValue(1));
    nvm.write(
      journalEntryOffset(SMALL_LAYOUT, 5),
      encodeRecord({ type: 'logEntry', seq: 4, payload: Uint8Array.from([0x31]) }),
    );
    expect(store.readLog()).toEqual([logValue(1)]);
    expect(store.recover().journal).toMatchObject({
      lastSeq: 1,
      corruptEntryCount: 1,
      missingSeqs: [],
      tornTail: false,
    });
  });
});

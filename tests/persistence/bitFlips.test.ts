/**
 * Bit rot: a flipped bit anywhere in a record is caught by its CRC and never read as data.
 *
 * Method: flip every bit of the newest copy of each state kind in turn (restoring it after each)
 * and check the store falls back to the older copy and says so; flip bits in both copies and
 * check the kind reads as corrupt, not as garbage and not as missing; flip every bit of a journal
 * record in the middle of the log and check only that record is lost and reported.
 */
import { describe, expect, it } from 'vitest';
import { SimNvm } from '../../hal/sim/simNvm.js';
import {
  encodedPayloadBytes,
  journalEntryOffset,
  PersistentStore,
  recordSizeBytes,
  STATE_RECORD_KINDS,
  stateSlotOffset,
} from '../../src/persistence/index.js';
import { logValue, SMALL_LAYOUT, stateValue } from './fixtures.js';
import { recordFaults } from './faultTally.js';

describe('state records under bit flips', () => {
  it.for(STATE_RECORD_KINDS)(
    '%s: any flipped bit in the newest copy falls back to the older one',
    (kind, { task }) => {
      const nvm = new SimNvm();
      const store = new PersistentStore(nvm);
      store.saveState(kind, stateValue(kind, 1)); // slot A, seq 1
      store.saveState(kind, stateValue(kind, 2)); // slot B, seq 2
      const newest = stateSlotOffset(store.layout, kind, 1);
      const recordBytes = recordSizeBytes(encodedPayloadBytes(stateValue(kind, 2)));
      for (let bit = 0; bit < recordBytes * 8; bit++) {
        nvm.flipBit(newest + (bit >> 3), bit & 7);
        const readout = store.inspectState(kind);
        expect(readout.current, `bit ${bit}`).toEqual({
          value: stateValue(kind, 1),
          seq: 1,
          slot: 0,
        });
        expect(readout.status).toBe('degraded');
        expect(readout.slots[1].condition).toBe('corrupt');
        nvm.flipBit(newest + (bit >> 3), bit & 7);
      }
      // Bits past the end of the record, in the unused rest of the slot, change nothing.
      nvm.flipBit(newest + recordBytes, 0);
      expect(store.inspectState(kind)).toMatchObject({ status: 'intact', current: { seq: 2 } });
      recordFaults(task, { bitFlips: nvm.counters.bitFlips });
    },
  );

  it.for(STATE_RECORD_KINDS)(
    '%s: a flipped bit in the older copy leaves the newest in use',
    (kind) => {
      const nvm = new SimNvm();
      const store = new PersistentStore(nvm);
      store.saveState(kind, stateValue(kind, 1));
      store.saveState(kind, stateValue(kind, 2));
      nvm.flipBit(stateSlotOffset(store.layout, kind, 0) + 20, 3);
      expect(store.inspectState(kind)).toMatchObject({
        status: 'degraded',
        current: { value: stateValue(kind, 2), seq: 2 },
      });
    },
  );

  it.for(STATE_RECORD_KINDS)(
    '%s: both copies corrupt reads as corrupt, never as a value; the next save heals it',
    (kind, { task }) => {
      const nvm = new SimNvm();
      const store = new PersistentStore(nvm);
      store.saveState(kind, stateValue(kind, 1));
      store.saveState(kind, stateValue(kind, 2));
      nvm.flipBit(stateSlotOffset(store.layout, kind, 0) + 13, 0);
      nvm.flipBit(stateSlotOffset(store.layout, kind, 1) + 5, 7);
      const restarted = new PersistentStore(nvm);
      expect(restarted.loadState(kind)).toBeUndefined();
      const report = restarted.recover();
      expect(report.states[kind]).toMatchObject({ status: 'corrupt', current: undefined });
      expect(report.clean).toBe(false);
      for (const other of STATE_RECORD_KINDS)
        if (other !== kind) expect(report.states[other].status).toBe('missing');
      restarted.saveState(kind, stateValue(kind, 3));
      expect(restarted.inspectState(kind)).toMatchObject({
        status: 'degraded',
        current: { value: stateValue(kind, 3) },
      });
      restarted.saveState(kind, stateValue(kind, 4));
      expect(restarted.inspectState(kind)).toMatchObject({
        status: 'intact',
        current: { value: stateValue(kind, 4) },
      });
      recordFaults(task, { bitFlips: 2, restarts: 1 });
    },
  );

  it('after falling back, the next save goes over the corrupt copy and carries on the sequence', () => {
    const nvm = new SimNvm();
    const store = new PersistentStore(nvm);
    store.saveState('prescription', stateValue('prescription', 1));
    store.saveState('prescription', stateValue('prescription', 2));
    nvm.flipBit(stateSlotOffset(store.layout, 'prescription', 1) + 40, 1);
    expect(store.saveState('prescription', stateValue('prescription', 3))).toBe(2);
    expect(store.inspectState('prescription')).toMatchObject({
      status: 'intact',
      current: { value: stateValue('prescription', 3), seq: 2, slot: 1 },
    });
  });
});

describe('journal records under bit flips', () => {
  it('any flipped bit in a middle record loses that record only, and reports it as missing', ({
    task,
  }) => {
    const nvm = new SimNvm({ sizeBytes: SMALL_LAYOUT.totalBytes });
    const store = new PersistentStore(nvm, SMALL_LAYOUT);
    const { entryCount } = SMALL_LAYOUT.journal;
    const appended = Array.from({ length: entryCount + 3 }, (_, i) => logValue(i + 1));
    for (const value of appended) store.appendLog(value);
    const retained = appended.slice(-entryCount);
    const victimSeq = appended.length - 3;
    const victim = journalEntryOffset(SMALL_LAYOUT, victimSeq % entryCount);
    const recordBytes = recordSizeBytes(encodedPayloadBytes(logValue(victimSeq)));
    for (let bit = 0; bit < recordBytes * 8; bit++) {
      nvm.flipBit(victim + (bit >> 3), bit & 7);
      expect(store.readLog(), `bit ${bit}`).toEqual(
        retained.filter((v) => v !== appended[victimSeq - 1]),
      );
      expect(store.recover().journal).toMatchObject({
        missingSeqs: [victimSeq],
        corruptEntryCount: 1,
        tornTail: false,
        lastSeq: appended.length,
      });
      nvm.flipBit(victim + (bit >> 3), bit & 7);
    }
    expect(store.readLog()).toEqual(retained);
    recordFaults(task, { bitFlips: nvm.counters.bitFlips });
  });

  it('a rotted newest record reads as a torn tail, and the next append takes its place', () => {
    const nvm = new SimNvm({ sizeBytes: SMALL_LAYOUT.totalBytes });
    const store = new PersistentStore(nvm, SMALL_LAYOUT);
    for (let n = 1; n <= 5; n++) store.appendLog(logValue(n));
    nvm.flipBit(journalEntryOffset(SMALL_LAYOUT, 5) + 30, 2);
    const restarted = new PersistentStore(nvm, SMALL_LAYOUT);
    expect(restarted.recover().journal).toMatchObject({
      lastSeq: 4,
      tornTail: true,
      missingSeqs: [],
    });
    expect(restarted.appendLog(logValue(6))).toBe(5);
    expect(restarted.readLog()).toEqual([1, 2, 3, 4, 6].map(logValue));
  });
});

/** The event-log ring (src/eventLog.ts): bounded, ordered, restorable. */
import { describe, expect, it } from 'vitest';
import { EventLog } from '../../src/eventLog.js';

describe('EventLog', () => {
  it('keeps the newest records in sequence order once it wraps', () => {
    const log = new EventLog(3);
    for (let i = 0; i < 5; i++) log.append({ type: 'stopped' }, i * 10, 1000 + i);
    expect(log.size).toBe(3);
    expect(log.appended).toBe(5);
    expect(log.records().map((r) => [r.seq, r.atMs])).toEqual([
      [2, 20],
      [3, 30],
      [4, 40],
    ]);
  });

  it('restores recovered records and continues their numbering', () => {
    const log = new EventLog(4);
    log.restore([
      { type: 'resumed', seq: 7, atMs: 1, rtcMs: 2 },
      { type: 'stopped', seq: 8, atMs: 3, rtcMs: 4 },
    ]);
    expect(log.append({ type: 'resumed' }, 5, 6).seq).toBe(9);
    expect(log.records().map((r) => r.seq)).toEqual([7, 8, 9]);
  });
});

/**
 * The rig's memory of accepted batches (src/protocol/batchMemory.ts).
 *
 * Goal: a batch id the rig has seen is recognised (running or ended, with its report) so a
 * repeated DELIVER_STROKES is never executed twice; the memory stays bounded and forgets the
 * oldest first; recording a batch twice is a bug. Method: examples, and a rig application over
 * the link pair that resends a batch in a new session.
 */
import { describe, expect, it } from 'vitest';
import { AssertionFailure } from '../../src/assert.js';
import {
  BatchMemory,
  batchIdsRememberedMin,
  linkLostMs,
  type BatchReportMessage,
  type DeliverStrokesMessage,
} from '../../src/protocol/index.js';
import { LinkPair, cleanWire } from './linkPair.js';

const report = (batchId: number, strokesDone = 3): BatchReportMessage => ({
  type: 'batchReport',
  batchId,
  strokesDone,
  reason: 'completed',
  rigTimeMs: 0,
});

describe('BatchMemory', () => {
  it('knows a batch as running, then as ended with its report', () => {
    const memory = new BatchMemory();
    expect(memory.outcomeOf(1)).toEqual({ state: 'unknown' });
    memory.started(1);
    expect(memory.outcomeOf(1)).toEqual({ state: 'running' });
    memory.ended(report(1));
    expect(memory.outcomeOf(1)).toEqual({ state: 'ended', report: report(1) });
  });

  it('remembers a rejected batch that never started', () => {
    const memory = new BatchMemory();
    const rejected: BatchReportMessage = {
      type: 'batchReport',
      batchId: 9,
      strokesDone: 0,
      reason: 'rejected',
      rigTimeMs: 0,
    };
    memory.ended(rejected);
    expect(memory.outcomeOf(9)).toEqual({ state: 'ended', report: rejected });
  });

  it('forgets the oldest id first and never holds more than its capacity', () => {
    const memory = new BatchMemory();
    for (let id = 1; id <= batchIdsRememberedMin + 3; id++) memory.started(id);
    expect(memory.size).toBe(batchIdsRememberedMin);
    expect(memory.outcomeOf(3)).toEqual({ state: 'unknown' });
    expect(memory.outcomeOf(4)).toEqual({ state: 'running' });
  });

  it('a batch started or ended twice is a bug of the rig, and a capacity below the minimum too', () => {
    const memory = new BatchMemory();
    memory.started(1);
    expect(() => memory.started(1)).toThrow(AssertionFailure);
    memory.ended(report(1));
    expect(() => memory.ended(report(1))).toThrow(/batch 1 ended twice/);
    expect(() => new BatchMemory(batchIdsRememberedMin - 1)).toThrow(AssertionFailure);
  });

  it('a batch the host sends again in a new session is answered with its report, not executed again', () => {
    const pair = new LinkPair();
    const memory = new BatchMemory();
    const executed: number[] = [];
    pair.onRigEvent = (event) => {
      if (event.type !== 'message' || event.message.type !== 'deliverStrokes') return;
      const { batchId } = event.message;
      const known = memory.outcomeOf(batchId);
      if (known.state === 'ended') pair.rig.send(known.report, pair.nowMs);
      if (known.state !== 'unknown') return;
      memory.started(batchId);
      executed.push(batchId);
      memory.ended(report(batchId));
      pair.rig.send(report(batchId), pair.nowMs);
    };
    const batch: DeliverStrokesMessage = {
      type: 'deliverStrokes',
      batchId: 17,
      count: 3,
      leadMs: 0,
      intervalMs: 1,
    };
    pair.runUntil(50);
    pair.host.send(batch, pair.nowMs);
    pair.runUntil(100);
    const firstSessionId = pair.host.currentSessionId;
    // The wire goes dead long enough to end the session, then heals; the host sends the batch again.
    pair.setFaults({ ...cleanWire, connected: false });
    pair.runUntil(100 + linkLostMs + 100);
    pair.setFaults(cleanWire);
    pair.runUntil(pair.nowMs + 1_000);
    expect(pair.host.currentSessionId).not.toBe(firstSessionId);
    pair.host.send(batch, pair.nowMs);
    pair.runUntil(pair.nowMs + 100);
    expect(executed).toEqual([17]);
    const reports = pair.hostEvents.flatMap((e) => (e.type === 'message' ? [e.message] : []));
    expect(reports).toEqual([report(17), report(17)]);
  });
});

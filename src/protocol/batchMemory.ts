/**
 * The rig's memory of the batches it accepted: what makes DELIVER_STROKES idempotent across
 * sessions (docs/protocol.md §6.6).
 *
 * Within a session, the link already delivers a retransmitted DELIVER_STROKES once. This memory
 * covers what the link cannot see: a host that sends the same batch again in a new session
 * because the old session ended before its ACK arrived. A batch id the rig remembers is never
 * executed again; if that batch has ended, its report is sent again instead.
 *
 * Rules: bounded (the oldest id is forgotten first, never fewer than batchIdsRememberedMin kept);
 * a rejected batch is remembered as well, so a repeated command gets the same answer.
 *
 * This module knows nothing of serial ports, timers, the HAL or the link.
 */
import { assert } from '../assert.js';
import { batchIdsRememberedMin } from './constants.js';
import type { BatchReportMessage } from './messages.js';

/** What the rig knows of a batch id. */
export type BatchOutcome =
  | { state: 'unknown' }
  | { state: 'running' }
  | { state: 'ended'; report: BatchReportMessage };

export class BatchMemory {
  /** Insertion order is age: the first key is the oldest. */
  private readonly outcomes = new Map<number, BatchOutcome>();

  constructor(readonly capacity: number = batchIdsRememberedMin) {
    assert(
      Number.isInteger(capacity) && capacity >= batchIdsRememberedMin,
      `BatchMemory capacity is ${capacity}, must be at least ${batchIdsRememberedMin}`,
    );
  }

  outcomeOf(batchId: number): BatchOutcome {
    return this.outcomes.get(batchId) ?? { state: 'unknown' };
  }

  /** The rig starts executing `batchId`. Asserts it was not known: the caller checks first. */
  started(batchId: number): void {
    assert(!this.outcomes.has(batchId), `batch ${batchId} started twice`);
    this.remember(batchId, { state: 'running' });
  }

  /** The batch ended (or was rejected without starting); keep its report for repeats. */
  ended(report: BatchReportMessage): void {
    const known = this.outcomes.get(report.batchId);
    assert(known === undefined || known.state === 'running', `batch ${report.batchId} ended twice`);
    if (known === undefined) this.remember(report.batchId, { state: 'ended', report });
    else this.outcomes.set(report.batchId, { state: 'ended', report });
  }

  get size(): number {
    return this.outcomes.size;
  }

  private remember(batchId: number, outcome: BatchOutcome): void {
    this.outcomes.set(batchId, outcome);
    if (this.outcomes.size > this.capacity) {
      const oldest = this.outcomes.keys().next().value;
      assert(oldest !== undefined, 'an over-full memory without an oldest entry');
      this.outcomes.delete(oldest);
    }
  }
}

/**
 * Motor port: whole strokes of the pump mechanism, commanded in batches.
 *
 * A stroke moves one fixed volume (the pump model's stroke volume) from the reservoir into the
 * catheter. The controller commands a batch: `count` strokes, the first `leadMs` after the command
 * and the rest every `intervalMs`. Batching is what lets a tickless controller sleep for hours
 * while the motor keeps the basal rate.
 *
 * For controller authors:
 * - At most one batch runs at a time. `deliver()` while a batch runs throws `HalError('busy')`.
 * - `stop()` cancels the strokes not yet started; a stroke in progress completes. It is a no-op
 *   when no batch runs.
 * - Every batch ends with exactly one `hal.motor.batchEnded` event (completed, stopped, stalled
 *   or linkLost) carrying the number of strokes that were mechanically completed. That number,
 *   and nothing else, is what left the reservoir.
 * - A stroke scheduled at the same moment as a stop is done; the report says so.
 *
 * For driver authors:
 * - Report only strokes that completed. A repeated command with the same `batchId` (a retransmit)
 *   must not start a second batch.
 * - Never call the listener from inside `deliver()` or `stop()`: queue it.
 */
export interface StrokeBatch {
  /** Unique per controller run; retransmits reuse it. */
  batchId: number;
  /** Strokes to deliver, at least 1. */
  count: number;
  /** Delay from the command to the first stroke. */
  leadMs: number;
  /** Delay between consecutive strokes, at least 1 ms. */
  intervalMs: number;
}

export type BatchEndReason = 'completed' | 'stopped' | 'stalled' | 'linkLost';

export type MotorEvent = {
  type: 'hal.motor.batchEnded';
  batchId: number;
  strokesDone: number;
  reason: BatchEndReason;
};

export interface MotorPort {
  deliver(batch: StrokeBatch): void;
  stop(): void;
  listen(listener: (event: MotorEvent) => void): void;
}

/**
 * The world's reading of the motor port's timing (hal/motor.ts): a batch commanded at `startMs`
 * makes its first stroke `leadMs` later and the rest every `intervalMs`.
 *
 * The simulated motor, the rig emulator, the QA kit and the simulator's truth (what left the pump,
 * the drug at the catheter tip) count strokes with these functions and never with the firmware's
 * planner arithmetic (`strokesBy`, `strokeTimeMs` in src/dosing/delivery.ts), so a slip in the
 * firmware's stroke arithmetic shows as a difference against the world instead of being shared by
 * it (issue 11; tests/layers/imports.test.ts keeps the two apart).
 */

/** A batch as the motor was commanded it, and when. */
export interface CommandedBatch {
  readonly startMs: number;
  readonly leadMs: number;
  readonly intervalMs: number;
}

/** When stroke `j` (1 = the first) of a batch leaves the pump. */
export function strokeLeavesAtMs(batch: CommandedBatch, j: number): number {
  const firstMs = batch.startMs + batch.leadMs;
  return firstMs + (j - 1) * batch.intervalMs;
}

/**
 * How many of a batch's first `strokes` strokes have left by `t` (a stroke at `t` has). Counted
 * from the first stroke in whole intervals: none before it, then one per interval begun.
 */
export function strokesLeftBy(batch: CommandedBatch, strokes: number, t: number): number {
  const sinceFirstMs = t - (batch.startMs + batch.leadMs);
  if (sinceFirstMs < 0 || strokes <= 0) return 0;
  const intervalsBegun = Math.floor(sinceFirstMs / batch.intervalMs);
  return intervalsBegun + 1 >= strokes ? strokes : intervalsBegun + 1;
}

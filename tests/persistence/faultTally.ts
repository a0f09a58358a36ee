/**
 * Fault tally: how many torn writes, restarts and bit flips a persistence test exercised.
 *
 * Tests print nothing; each records its counts in the vitest task's `meta`, which the JSON
 * reporter carries, so a report can say "N torn writes exercised" (see docs/persistence.md for
 * the command that sums them).
 */
import type { TaskMeta } from 'vitest';

export interface PersistenceFaults {
  /** Writes cut by the simulated memory (chosen or random tears), as counted by SimNvm. */
  tornWrites: number;
  /** New PersistentStore instances built over memory an earlier one used (simulated resets). */
  restarts: number;
  /** Bits inverted in the simulated memory. */
  bitFlips: number;
}

declare module 'vitest' {
  interface TaskMeta {
    persistenceFaults?: PersistenceFaults;
  }
}

/** Add `faults` to the counts already recorded on the task. */
export function recordFaults(task: { meta: TaskMeta }, faults: Partial<PersistenceFaults>): void {
  const sum = task.meta.persistenceFaults ?? { tornWrites: 0, restarts: 0, bitFlips: 0 };
  task.meta.persistenceFaults = {
    tornWrites: sum.tornWrites + (faults.tornWrites ?? 0),
    restarts: sum.restarts + (faults.restarts ?? 0),
    bitFlips: sum.bitFlips + (faults.bitFlips ?? 0),
  };
}

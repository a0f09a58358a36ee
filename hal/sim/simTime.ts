/**
 * What the simulated drivers need of the harness, as contracts of their own, so that hal/ imports
 * nothing from sim/: virtual time (now, and a callback at a time) and a seeded random stream.
 * sim/virtualClock.ts and sim/prng.ts provide them.
 */

/** Virtual time: the drivers read it and schedule their own completions on it. */
export interface SimScheduler {
  nowMs(): number;
  schedule(atMs: number, run: () => void): { cancel(): void };
}

/** A seeded random stream (the harness forks one per driver, so runs replay from their seed). */
export interface SimRandom {
  /** Uniform in [0, 1). */
  float(): number;
  normal(mean: number, sd: number): number;
}

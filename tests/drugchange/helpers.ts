/**
 * Helpers of the drug-change tests: a simulation driven step by step, so the truth (the drug path,
 * the true reservoir) can be read at chosen moments. The expected numbers live in the tests,
 * computed by hand there; nothing here computes an expectation.
 */
import { Simulation } from '../../sim/runner.js';
import type { Scenario } from '../../sim/scenario.js';

/** A whole run, as `itpump run` does it. */
export function runWhole(s: Scenario): Simulation {
  const sim = new Simulation(s, s.seed);
  sim.run();
  return sim;
}

/** A simulation set up and scheduled as `itpump run` does, not yet run (drive it with `runTo`). */
export function startRun(s: Scenario): Simulation {
  const sim = new Simulation(s, s.seed);
  sim.setUp();
  for (const e of s.timeline)
    if (e.at <= s.duration) sim.clock.schedule(e.at, () => sim.guarded(() => sim.apply(e)));
  sim.scheduleDemand();
  return sim;
}

/**
 * Runs to `atMs` and moves the strokes the running batch has done so far (the motor reports a
 * batch only when it ends), so the truth is exact at that moment.
 */
export function runTo(sim: Simulation, atMs: number): Simulation {
  sim.clock.runUntil(atMs);
  sim.motor.flush();
  return sim;
}

/** Per drug pg that left the catheter tip so far. */
export function tipPg(sim: Simulation, drug: string): number {
  return sim.drugPath?.tipPg.get(drug) ?? 0;
}

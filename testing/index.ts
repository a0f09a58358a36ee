/**
 * itpump/testing: the QA kit. Arbitraries for the pump's inputs, a harness that runs the real
 * controller on simulated drivers in virtual time, a small reference model, the invariants of
 * docs/requirements.md as named checks, model-based commands, and statechart coverage.
 * docs/testing.md shows how to write a new property with it in a few lines.
 */
export * from './arbitraries.js';
export * from './harness.js';
export * from './model.js';
export * from './invariants.js';
export * from './commands.js';
export * from './run.js';
export * from './dailyCap.js';

/**
 * The vitest configuration Stryker runs (stryker.config.mjs): the QA suite (model-based, property
 * and statechart-coverage tests, the findings' regression tests in FOUND-BUGS.test.ts included)
 * and the unit, scenario, fault and drug-change tests of the mutated code, at a lower run count so
 * each mutant costs seconds. The CLI, rig, report and fleet tests are left out: they spawn
 * processes or ptys and would cost a minute a mutant. FC_NUM_RUNS overrides it as
 * everywhere else.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      // The QA suite.
      'tests/model/**/*.test.ts',
      'tests/properties/**/*.test.ts',
      'tests/coverage/**/*.test.ts',
      // The unit, scenario, fault and drug-change tests of the same code (a few seconds in all).
      'tests/unit/**/*.test.ts',
      'tests/dosing/**/*.test.ts',
      'tests/scenario/**/*.test.ts',
      'tests/faults/**/*.test.ts',
      'tests/drugchange/**/*.test.ts',
      // What a restart restores: the record codec, the slots and the journal.
      'tests/persistence/**/*.test.ts',
    ],
    testTimeout: 120_000,
    env: { FC_NUM_RUNS: process.env.FC_NUM_RUNS ?? '10' },
  },
});

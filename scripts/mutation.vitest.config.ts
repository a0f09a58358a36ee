/**
 * The vitest configuration Stryker runs (stryker.config.mjs): the QA suite only (model-based,
 * property and statechart-coverage tests, the findings' regression tests in FOUND-BUGS.test.ts
 * included), at a lower run count so each mutant costs seconds. FC_NUM_RUNS overrides it as
 * everywhere else.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/model/**/*.test.ts', 'tests/properties/**/*.test.ts', 'tests/coverage/**/*.test.ts'],
    testTimeout: 120_000,
    env: { FC_NUM_RUNS: process.env.FC_NUM_RUNS ?? '10' },
  },
});

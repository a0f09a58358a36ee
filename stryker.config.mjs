/**
 * Mutation testing of the dose, limit, lockout and alarm code against the QA suite
 * (`npm run mutation`, docs/testing.md "Mutation testing"). Stryker copies the project to
 * .stryker-tmp/, mutates the files below one change at a time, and runs the tests that cover
 * each mutant (coverage per test) with vitest (scripts/mutation.vitest.config.ts). No network.
 * Reports: reports/mutation/mutation.html and .json (git-ignored).
 */
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner', '@stryker-mutator/typescript-checker'],
  vitest: { configFile: 'scripts/mutation.vitest.config.ts', related: false },
  // The dose (rates, delivery), limit (limits, the clinician bolus's checks), lockout and alarm
  // (decide, alarms) code. The rest of commands.ts (programming, refill and bridge workflow, clock)
  // is left out: a full run with it takes over two hours on two cores.
  mutate: [
    'src/dosing/rates.ts',
    'src/dosing/limits.ts',
    'src/dosing/delivery.ts',
    'src/pump/decide.ts',
    'src/alarms.ts',
    'src/pump/commands.ts:411-427',
  ],
  // Every mutator runs, string literals included. The TypeScript checker compiles each mutant first:
  // a literal that is a type (a delivery mode, a deny reason, an alarm code, a log record's type)
  // mutated to "" does not compile, so it is counted as a compile error, not as a mutant the tests
  // must kill. What remains of the string mutants is text: refusal and assertion messages.
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  // A rerun re-tests only the mutants whose code or covering tests changed.
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 30_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  ignorePatterns: ['out', 'reports', 'bench/results*', 'deploy'],
  thresholds: { high: 95, low: 90, break: 90 },
};

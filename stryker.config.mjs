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
  // All the code that decides a dose or a refusal: rates, delivery and the stroke planner, the
  // drug-library limits and the forward daily cap, the bridge, the decisions and commands
  // (programming, refill, clinician and priming boluses, the clock), the deadlines, the alarms,
  // and what a restart restores (src/pump/persist.ts and the record codec).
  mutate: [
    'src/dosing/rates.ts',
    'src/dosing/limits.ts',
    'src/dosing/delivery.ts',
    'src/dosing/dailyCap.ts',
    'src/dosing/bridge.ts',
    'src/pump/decide.ts',
    'src/pump/commands.ts',
    'src/pump/deadlines.ts',
    'src/pump/persist.ts',
    'src/alarms.ts',
    'src/persistence/*.ts',
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

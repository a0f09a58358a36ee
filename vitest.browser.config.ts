import { defineConfig } from 'vitest/config';

// `npm run test:browser`: the pages as headless Chromium shows them (needs /usr/bin/chromium,
// or CHROMIUM=<path>); kept apart from `npm test`, which must pass on a machine without it.
export default defineConfig({
  test: {
    include: ['tests/browser/**/*.browser.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});

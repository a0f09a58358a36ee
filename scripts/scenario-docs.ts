/**
 * Writes the reference part of docs/scenarios.md from the scenario schema (sim/scenarioDocs.ts),
 * keeping the hand-written walk-through above the marker line.
 *
 * `npm run docs:scenarios` rewrites the file; `npm run docs:scenarios -- --check` only compares and
 * exits 1 when the committed file is stale (the check tests/scenario/scenarioDocs.test.ts makes).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { scenarioDocCommand, scenarioDocMarkdown, scenarioDocPath } from '../sim/scenarioDocs.js';

const target = fileURLToPath(new URL(`../${scenarioDocPath}`, import.meta.url));
let committed = '';
try {
  committed = readFileSync(target, 'utf8');
} catch {
  // no file yet: the reference alone
}
const text = scenarioDocMarkdown(committed);

if (process.argv.includes('--check')) {
  if (committed !== text) {
    process.stderr.write(
      `${scenarioDocPath} is stale: run \`${scenarioDocCommand}\` and commit it\n`,
    );
    process.exitCode = 1;
  } else process.stdout.write(`${scenarioDocPath} is up to date\n`);
} else if (committed === text) {
  process.stdout.write(`${scenarioDocPath} is up to date\n`);
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${scenarioDocPath}\n`);
}

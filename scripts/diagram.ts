/**
 * Writes docs/statechart.md, the Mermaid diagram of the pump statechart, from src/machine.ts.
 *
 * `npm run diagram` rewrites the file; `npm run diagram -- --check` only compares and exits 1 when
 * the committed file is stale (the same check tests/unit/diagram.test.ts makes). The generator
 * itself lives in sim/diagram.ts so the test can run it in memory.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { diagramCommand, statechartDocPath, statechartMarkdown } from '../sim/diagram.js';

const target = fileURLToPath(new URL(`../${statechartDocPath}`, import.meta.url));
const text = statechartMarkdown();

function committed(): string | undefined {
  try {
    return readFileSync(target, 'utf8');
  } catch {
    return undefined;
  }
}

if (process.argv.includes('--check')) {
  if (committed() !== text) {
    process.stderr.write(
      `${statechartDocPath} is stale: run \`${diagramCommand}\` and commit it\n`,
    );
    process.exitCode = 1;
  } else process.stdout.write(`${statechartDocPath} is up to date\n`);
} else if (committed() === text) {
  process.stdout.write(`${statechartDocPath} is up to date\n`);
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${statechartDocPath}\n`);
}

#!/usr/bin/env node
// The `itpump` command: the compiled CLI, in this process (no tsx, no child process).
// A clone builds dist/ at `npm install` (the `prepare` script); `npm run build` rebuilds it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/sim/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write(
    `itpump is not built: ${fileURLToPath(cli)} is missing; run \`npm run build\` in ${fileURLToPath(new URL('..', import.meta.url))}\n`,
  );
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));

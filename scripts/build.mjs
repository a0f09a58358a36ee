#!/usr/bin/env node
// `npm run build` (and `prepare`, so a clone's `npm install` builds): the TypeScript of src/, hal/,
// sim/ and testing/ compiled to dist/ with declarations, plus the files the compiled CLI reads
// beside its modules (the bundled scenarios). Plain node: it runs before anything is built.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const built = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
if (built.status !== 0) {
  process.stderr.write('itpump build: tsc failed (see above); dist/ is incomplete\n');
  process.exit(built.status ?? 1);
}
// sim/live/page: the live page's HTML, CSS and script, which the server inlines at each load.
for (const assets of ['sim/scenarios', 'sim/fleet/scenarios', 'sim/live/page'])
  cpSync(join(root, assets), join(dist, assets), { recursive: true });

/**
 * Regenerates the report screenshots in docs/img/ (docs/reports.md shows them): `npm run
 * screenshots`. It writes the reports as a user would (`itpump run --report` of the default
 * scenario and of a drug change, `itpump fleet` of 200 patients), then photographs the top of each
 * page with headless Chromium (`CHROMIUM`, else /usr/bin/chromium; `.ci/run` installs Debian's)
 * at 1400 px wide. Chromium's own `--screenshot` is used: playwright's screenshot timed out on
 * this machine's Chromium. Outputs go to out/screenshots/ (git-ignored); only the PNGs are kept.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = join(root, 'out', 'screenshots');
const images = join(root, 'docs', 'img');
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';

function run(command: string, args: readonly string[]): void {
  const r = spawnSync(command, args, { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`${command} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}\n`);
    process.exit(1);
  }
}

const itpump = (args: readonly string[]) =>
  run(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'sim', 'cli.ts'), ...args]);

if (!existsSync(chromium)) {
  process.stderr.write(`no Chromium at ${chromium}: install Debian's chromium or set CHROMIUM\n`);
  process.exit(2);
}
rmSync(work, { recursive: true, force: true });
mkdirSync(images, { recursive: true });
itpump(['run', 'sim/scenarios/default.yaml', '--report', '--out', join(work, 'run')]);
itpump([
  'run',
  'sim/scenarios/examples/drug-change-no-bridge.yaml',
  '--report',
  '--out',
  join(work, 'drug-change'),
]);
itpump([
  'fleet',
  'sim/scenarios/default.yaml',
  '--patients',
  '200',
  '--workers',
  '2',
  '--out',
  join(work, 'fleet'),
]);
const shots: [string, string, number][] = [
  ['run', 'run-report.png', 2400],
  ['drug-change', 'drug-change-report.png', 4000],
  ['fleet', 'fleet-report.png', 2400],
];
for (const [dir, png, heightPx] of shots) {
  run(chromium, [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--hide-scrollbars',
    `--window-size=1400,${heightPx}`,
    `--screenshot=${join(images, png)}`,
    pathToFileURL(join(work, dir, 'report.html')).href,
  ]);
  process.stdout.write(`wrote docs/img/${png}\n`);
}

/**
 * The package as a user gets it: `npm pack` (which builds dist/ through `prepare`), the tarball
 * installed into an empty folder, both entry points imported with plain node, the examples of
 * docs/library.md run there, and `npx itpump --version` and a short `npx itpump run`. Nothing
 * here uses tsx or the sources.
 *
 * The install resolves the dependencies from npm's cache first (`--prefer-offline`): the clone's
 * own `npm install` filled it, so this needs the registry only if the cache was cleared.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let work = '';
let app = '';
let packed: { filename: string; files: { path: string }[] };

function node(args: string[], cwd = app) {
  return spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
}

/** The ```js blocks of docs/library.md, each with the ```text block that shows its output. */
function libraryExamples(): { code: string; output: string }[] {
  const doc = readFileSync(join(root, 'docs/library.md'), 'utf8');
  const found: { code: string; output: string }[] = [];
  const re = /```js\n([\s\S]*?)```\s*```text\n([\s\S]*?)```/g;
  for (let m = re.exec(doc); m; m = re.exec(doc)) found.push({ code: m[1]!, output: m[2]! });
  return found;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'itpump-pack-'));
  const json = execFileSync(npm, ['pack', '--json', '--pack-destination', work], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  packed = (JSON.parse(json) as (typeof packed)[])[0]!;
  app = join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }),
  );
  execFileSync(
    npm,
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      join(work, packed.filename),
    ],
    { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships the compiled code, its declarations and the docs, and no tests, bench or sources', () => {
    const paths = packed.files.map((f) => f.path);
    for (const f of [
      'bin/itpump.js',
      'dist/sim/cli.js',
      'dist/sim/index.js',
      'dist/sim/index.d.ts',
      'dist/testing/index.js',
      'dist/testing/index.d.ts',
      'dist/sim/scenarios/default.yaml',
      'dist/sim/live/page/index.html',
      'dist/sim/live/page/live.js',
      'dist/sim/live/page/live.css',
      'docs/library.md',
      'README.md',
    ])
      expect(paths, f).toContain(f);
    for (const prefix of ['tests/', 'bench/', 'scripts/', 'src/', 'sim/', 'testing/', '.ci/'])
      expect(
        paths.filter((p) => p.startsWith(prefix)),
        prefix,
      ).toEqual([]);
    expect(paths.filter((p) => p.endsWith('.test.js'))).toEqual([]);
  });

  it('both entry points import with plain node', () => {
    const r = node([
      '--input-type=module',
      '-e',
      `const lib = await import('itpump');
       const kit = await import('itpump/testing');
       console.log(JSON.stringify({
         lib: ['Controller', 'runScenario', 'loadScenario', 'SimMotor', 'SimNvm', 'SimClock'].map((k) => typeof lib[k]),
         kit: ['PumpRig', 'ReferenceModel', 'InvariantMonitor'].map((k) => typeof kit[k]),
       }));`,
    ]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      lib: Array(6).fill('function'),
      kit: Array(3).fill('function'),
    });
  });

  it('the examples of docs/library.md print what the doc says', () => {
    const examples = libraryExamples();
    expect(examples.length).toBeGreaterThanOrEqual(2);
    examples.forEach((example, i) => {
      const file = join(app, `example-${i}.mjs`);
      writeFileSync(file, example.code);
      const r = node([file]);
      expect(r.stderr, `example ${i}`).toBe('');
      expect(r.stdout, `example ${i}`).toBe(example.output);
    });
  });

  it('npx itpump --version and a short run', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      version: string;
    };
    const version = spawnSync('npx', ['--no-install', 'itpump', '--version'], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(version.stderr).toBe('');
    expect(version.stdout).toBe(`${pkg.version}\n`);
    writeFileSync(
      join(app, 'small.yaml'),
      readFileSync(join(root, 'tests/fixtures/cli/small.yaml')),
    );
    const run = spawnSync('npx', ['--no-install', 'itpump', 'run', 'small.yaml', '--out', 'o'], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('wrote o/summary.json');
    const summary = JSON.parse(readFileSync(join(app, 'o/summary.json'), 'utf8')) as {
      simulatedMs: number;
    };
    expect(summary.simulatedMs).toBe(2 * 86_400_000);
    expect(existsSync(join(app, 'o/events.jsonl'))).toBe(true);
  });

  it('serves the live page from the installed package, offline, token required', async () => {
    const child = spawn(
      process.execPath,
      [join(app, 'node_modules/itpump/bin/itpump.js'), 'live', 'small.yaml', '--paused'],
      { cwd: app },
    );
    try {
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      for (let i = 0; i < 200 && !/token=\S+/.test(stdout); i++)
        await new Promise((r) => setTimeout(r, 100));
      const url = /http:\S+/.exec(stdout)![0];
      const page = await fetch(url);
      expect(page.status).toBe(200);
      const html = await page.text();
      // The page's script and style are inlined from the package; nothing is fetched from elsewhere.
      expect(html).toContain('new EventSource(');
      expect(html).not.toMatch(
        /<script[^>]+src=|<link[^>]+stylesheet|https?:\/\/(?!www\.w3\.org\/2000\/svg)/,
      );
      expect((await fetch(url.replace(/\?token=.*$/, ''))).status).toBe(403);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});

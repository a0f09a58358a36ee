/**
 * The live server over HTTP: every route refuses a request without the session's token (or with
 * a wrong one), bad input gets one line and a 4xx, never a crash, two streams see the same pump,
 * and closing one does not stop the run. Then `itpump live` itself: Ctrl-C ends the run, writes
 * the outputs and the replay scenario, and exits 130.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveServer } from '../../sim/live/server.js';
import { LiveSession } from '../../sim/live/session.js';
import { loadScenario } from '../../sim/scenario.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = join(root, 'tests/fixtures/live/live.yaml');
let server: LiveServer;
let base = '';

beforeAll(async () => {
  const s = loadScenario(fixture);
  const session = new LiveSession(s, s.seed, { speed: 1, paused: true });
  server = new LiveServer(session, {
    host: '127.0.0.1',
    port: 0,
    sourceText: readFileSync(fixture, 'utf8'),
  });
  base = (await server.listen()).replace(/\/\?token=.*$/, '');
});

afterAll(async () => {
  await server?.close();
});

const withToken = (path: string, token = server.token) =>
  `${base}${path}${path.includes('?') ? '&' : '?'}token=${token}`;

async function postJson(path: string, body: string, token = server.token) {
  const res = await fetch(withToken(path, token), { method: 'POST', body });
  return { status: res.status, text: await res.text() };
}

describe('the live server', () => {
  it('refuses every route without the token, or with a wrong one', async () => {
    // The situation: with the token each of these is served.
    expect((await fetch(withToken('/'))).status).toBe(200);
    expect((await postJson('/control', '{"paused":true}')).status).toBe(200);
    const routes: [string, string][] = [
      ['GET', '/'],
      ['GET', '/events'],
      ['POST', '/command'],
      ['POST', '/control'],
      ['POST', '/snapshot'],
      ['GET', '/download/1/summary.json'],
    ];
    for (const [method, path] of routes)
      for (const url of [`${base}${path}`, withToken(path, 'x'.repeat(32)), withToken(path, '')]) {
        const res = await fetch(url, {
          method,
          ...(method === 'POST' ? { body: '{"action":{"press":{}}}' } : {}),
        });
        expect(res.status, `${method} ${url}`).toBe(403);
        expect(await res.text()).toBe(
          'itpump live: refused: the request lacks the session token\n',
        );
      }
    expect(server.session.recorded).toEqual([]); // no press got through
  });

  it('answers bad input with one line and carries on', async () => {
    const cases: [string, string, number, RegExp][] = [
      ['/command', 'nope', 400, /^request: not JSON: /],
      ['/command', '{"action":{"refill":{"added":"90 mL"}}}', 200, /refill.added/],
      [
        '/command',
        '{"action":{"motorStall":{"for":"-1 h"}}}',
        400,
        /^command: motorStall.for: "-1 h": /,
      ],
      ['/command', `{"action":{"press":{}},"x":"${'y'.repeat(70_000)}"}`, 413, /over 65536 bytes/],
      ['/control', '{"speed":0}', 400, /^control.speed: 0: the speed is from 1 to 100000/],
      ['/control', '{"warp":9}', 400, /^control: unknown key "warp"/],
    ];
    for (const [path, body, status, line] of cases) {
      const r = await postJson(path, body);
      expect(r.status, body.slice(0, 60)).toBe(status);
      const parsed = JSON.parse(r.text) as { lines?: string[]; refusals?: { field: string }[] };
      const shown = parsed.lines?.[0] ?? parsed.refusals?.[0]?.field ?? '';
      expect(shown, body.slice(0, 60)).toMatch(line);
    }
    const ok = await postJson('/command', '{"action":{"press":{}}}');
    expect(JSON.parse(ok.text)).toMatchObject({ kind: 'applied' });
  });

  it(
    'streams the same pump to two pages; closing one leaves the run going',
    { timeout: 20_000 },
    async () => {
      const a = new AbortController();
      const b = new AbortController();
      const first = await fetch(withToken('/events'), { signal: a.signal });
      const second = await fetch(withToken('/events'), { signal: b.signal });
      const readerA = first.body!.getReader();
      const readerB = second.body!.getReader();
      const textOf = async (r: ReadableStreamDefaultReader<Uint8Array>, want: string) => {
        let text = '';
        while (!text.includes(want)) text += new TextDecoder().decode((await r.read()).value);
        return text;
      };
      expect(await textOf(readerA, 'event: hello')).toContain('"scenario":"live"');
      expect(await textOf(readerB, 'event: hello')).toContain('"scenario":"live"');
      a.abort();
      const before = server.session.recorded.length;
      await postJson('/command', '{"action":{"press":{}}}');
      expect(await textOf(readerB, '"type":"pressDenied"')).toContain('"reason":"lockout"');
      expect(server.session.recorded.length).toBe(before + 1);
      b.abort();
      expect(server.session.ended).toBe(false);
    },
  );

  it('takes the outputs now, every file of one snapshot covering the same run', async () => {
    const r = await postJson('/snapshot', '');
    const s = JSON.parse(r.text) as { id: number; atMs: number; ended: boolean };
    expect(s.ended).toBe(false);
    const summary = (await (await fetch(withToken(`/download/${s.id}/summary.json`))).json()) as {
      simulatedMs: number;
    };
    expect(summary.simulatedMs).toBe(s.atMs);
    const yaml = await (await fetch(withToken(`/download/${s.id}/scenario.yaml`))).text();
    expect(yaml).toContain('press: {}');
    expect((await fetch(withToken('/download/99/summary.json'))).status).toBe(404);
  });
});

describe('itpump live', () => {
  const work = mkdtempSync(join(tmpdir(), 'itpump-live-cli-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('Ctrl-C ends the run, writes the outputs and the replay scenario, and exits 130', async () => {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const out = join(work, 'out');
    const child = spawn(
      process.execPath,
      ['--import', tsx, join(root, 'sim/cli.ts'), 'live', fixture, '--speed', '3600', '--out', out],
      { cwd: work, detached: true },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    while (!/token=\S+/.test(stdout)) await new Promise((r) => setTimeout(r, 100));
    // The situation: the page is served, and the run has moved on in virtual time.
    const url = /http:\S+/.exec(stdout)![0];
    expect(url.startsWith('http://127.0.0.1:')).toBe(true);
    expect((await fetch(url)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(130);
    for (const f of ['summary.json', 'events.jsonl', 'trace.csv', 'report.html', 'scenario.yaml'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      simulatedMs: number;
    };
    expect(summary.simulatedMs).toBeGreaterThan(0);
    expect(stdout).toContain(`replay: itpump run ${join(out, 'scenario.yaml')}`);
  }, 60_000);
});

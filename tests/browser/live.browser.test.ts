/**
 * The live page as a user drives it: headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core) against a live server in this process, on a paused session of a three-day
 * scenario, so every step is the test's. The patient button granted then denied in the lockout,
 * a prescription over a soft limit confirmed in the programmer's dialog, a motor stall seen in the
 * motor region and the alarm list, a request without the token refused, and the downloaded
 * summary equal to what `itpump run` of the downloaded scenario writes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveServer } from '../../sim/live/server.js';
import { LiveSession } from '../../sim/live/session.js';
import { loadScenario } from '../../sim/scenario.js';
import { HOUR_MS } from '../../src/units.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = join(root, 'tests/fixtures/live/live.yaml');
const chromiumPath = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
const work = mkdtempSync(join(tmpdir(), 'itpump-live-browser-'));
let browser: Browser;
let server: LiveServer;
let page: Page;
let url = '';
const errors: string[] = [];

beforeAll(async () => {
  const s = loadScenario(fixture);
  const session = new LiveSession(s, s.seed, { speed: 1, paused: true });
  session.advanceTo(HOUR_MS);
  server = new LiveServer(session, {
    host: '127.0.0.1',
    port: 0,
    sourceText: readFileSync(fixture, 'utf8'),
  });
  url = await server.listen();
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('.state.active');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('the live page', () => {
  it('loads with the statechart lit and no console error', async () => {
    expect(await page.textContent('#conn')).toBe('connected');
    expect(await page.getAttribute('.state.active[data-region="therapy"]', 'data-path')).toBe(
      'infusing.basal',
    );
    expect(
      await page.getAttribute('.state.active[data-region="motor"]', 'data-path'),
    ).not.toBeNull();
    expect(errors).toEqual([]);
  });

  it('grants a press, then denies the next in the lockout with the reason', async () => {
    await page.click('#press');
    await page.waitForSelector('#press-result.granted');
    expect(await page.textContent('#press-result')).toMatch(
      /^Granted at 0d 01:00:01: 50\.0 µL bolus \(tone: pressGranted\)/,
    );
    await page.keyboard.press('b'); // the keyboard shortcut presses it too
    await page.waitForSelector('#press-result.denied');
    expect(await page.textContent('#press-result')).toMatch(
      /^Denied at 0d 01:00:02: lockout until 0d 04:00:01 \(tone: pressDenied\)/,
    );
  });

  it('asks to confirm a prescription over the soft limit, and programs it confirmed', async () => {
    await page.fill('#rx-dose', '12 mg/day');
    await page.click('#f-program button');
    await page.waitForSelector('#confirm[open]');
    expect(await page.textContent('#confirm-text')).toMatch(
      /^program\.prescription\.dose: 12\.000 mg passes the soft maximum daily dose of morphine, 10\.000 mg\.$/,
    );
    expect(server.session.recorded.map((r) => Object.keys(r.action)[0])).toEqual([
      'press',
      'press',
    ]);
    await page.click('#confirm-yes');
    await page.waitForSelector('#refusal.granted');
    expect(await page.textContent('#refusal')).toMatch(/softLimitConfirmed/);
    expect(server.session.recorded.at(-1)!.action).toEqual({
      program: { prescription: { mode: 'continuous', dose: '12 mg/day' }, confirm: true },
    });
    await page.waitForSelector('#log li.softLimitConfirmed');
  });

  it('shows a stall in the motor region and the alarm it raises', async () => {
    await page.fill('#stall-for', '6 h');
    await page.click('#stall-send');
    await page.waitForSelector('#refusal.granted');
    const motor: string[] = [];
    for (let i = 0; i < 60 && (await page.$('#alarms li[data-code="motorStall"]')) === null; i++) {
      await page.keyboard.press('n'); // step to the next deadline
      await page.waitForTimeout(150);
      motor.push(
        (await page.getAttribute('.state.active[data-region="motor"]', 'data-path')) ?? '',
      );
    }
    expect(motor).toContain('stalled');
    expect(await page.textContent('#alarms li[data-code="motorStall"]')).toBe(
      'motorStall (critical)',
    );
    expect(await page.getAttribute('.state.active[data-region="therapy"]', 'data-path')).toBe(
      'minimumRate',
    );
  });

  it('refuses a request without the token', async () => {
    const other = await browser.newPage();
    const res = await other.goto(url.replace(/\?token=.*$/, ''));
    expect(res!.status()).toBe(403);
    expect(await other.textContent('body')).toContain(
      'refused: the request lacks the session token',
    );
    await other.close();
  });

  it('downloads a summary equal to what itpump run of the downloaded scenario writes', async () => {
    await page.click('#snapshot');
    await page.waitForSelector('#dl-summary');
    const fetchFile = async (id: string, name: string) => {
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.click(`#dl-${id}`),
      ]);
      const path = join(work, name);
      await download.saveAs(path);
      return path;
    };
    const summaryPath = await fetchFile('summary', 'summary.json');
    const scenarioPath = await fetchFile('scenario', 'scenario.yaml');
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const r = spawnSync(
      process.execPath,
      ['--import', tsx, join(root, 'sim/cli.ts'), 'run', scenarioPath, '--out', join(work, 'run')],
      { cwd: work, encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const read = (p: string) => ({
      ...JSON.parse(readFileSync(p, 'utf8')),
      wallTimeMs: 'wall clock',
    });
    const live = read(summaryPath);
    // The situation: the downloaded run holds the page's commands.
    expect(live.presses.granted).toBeGreaterThanOrEqual(1);
    expect(live.alarms.map((a: { code: string }) => a.code)).toContain('motorStall');
    expect(live).toEqual(read(join(work, 'run', 'summary.json')));
    expect(errors).toEqual([]);
  });
});

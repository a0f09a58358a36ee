/**
 * The run and fleet report pages as a user's browser shows them: headless Chromium (Debian's
 * /usr/bin/chromium, driven by playwright-core) opens the report.html that `itpump run --report`
 * and `itpump fleet` write. Run with `npm run test:browser` (`.ci/run` installs chromium first).
 * Each page must load with no console error, draw its charts, and fit a 420 px phone screen
 * without horizontal scrolling and with chart text still readable.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const tsx = join(root, 'node_modules/.bin/tsx');
const cliPath = join(root, 'sim/cli.ts');
const chromiumPath = process.env['CHROMIUM'] ?? '/usr/bin/chromium';

let work = '';
let browser: Browser;

function itpump(args: readonly string[]): void {
  const r = spawnSync(tsx, [cliPath, ...args], { cwd: work, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`itpump ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'itpump-browser-'));
  writeFileSync(
    join(work, 'small.yaml'),
    readFileSync(join(root, 'tests/fixtures/cli/small.yaml'), 'utf8'),
  );
  itpump(['run', 'small.yaml', '--out', 'run', '--report']);
  itpump(['fleet', 'small.yaml', '--patients', '4', '--out', 'fleet']);
  // The default scenario (six months, a drug change, no alarm) and a drug change without a bridge.
  itpump(['run', join(root, 'sim/scenarios/default.yaml'), '--out', 'default', '--report']);
  const noBridge = join(root, 'sim/scenarios/examples/drug-change-no-bridge.yaml');
  itpump(['run', noBridge, '--out', 'drug-change', '--report']);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function open(dir: string, width: number) {
  const page = await browser.newPage({ viewport: { width, height: 800 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(join(work, dir, 'report.html')).href, { waitUntil: 'load' });
  return { page, errors };
}

describe.each([
  ['run report', 'run'],
  ['fleet report', 'fleet'],
])('%s in a browser', (_name, dir) => {
  it('loads without a console error and draws its charts', async () => {
    const { page, errors } = await open(dir, 1280);
    // The situation: the page has a title and at least one chart with drawn marks.
    expect(await page.title()).not.toBe('');
    // Page scripts are strings: the project's TypeScript has no DOM types.
    const charts = await page.evaluate<number>(`[...document.querySelectorAll('svg, img')]
      .filter((e) => { const box = e.getBoundingClientRect(); return box.width > 50 && box.height > 50; })
      .length`);
    expect(charts).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('fits a 420 px wide screen without scrolling sideways', async () => {
    const { page } = await open(dir, 420);
    const overflow = await page.evaluate<{ page: number; screen: number }>(
      '({ page: document.documentElement.scrollWidth, screen: window.innerWidth })',
    );
    expect(overflow.page).toBeLessThanOrEqual(overflow.screen);
    await page.close();
  });

  it('keeps chart text readable on a 420 px wide screen (at least 9 px tall)', async () => {
    const { page } = await open(dir, 420);
    const heights = await page.evaluate<number[]>(`[...document.querySelectorAll('figure svg text')]
      .map((t) => t.getBoundingClientRect().height)
      .filter((h) => h > 0)`);
    // The situation: the charts have text (axis labels, titles) drawn on the screen.
    expect(heights.length).toBeGreaterThan(10);
    expect(Math.min(...heights)).toBeGreaterThanOrEqual(9);
    await page.close();
  });
});

/** The sections of a run report page, each with what it shows: headings, figure titles, text. */
interface PageSections {
  headings: string[];
  figures: { title: string; width: number; height: number; smallestTextPx: number }[];
  sectionText: Record<string, string>;
  overflow: { page: number; screen: number };
}

async function sectionsOf(dir: string, width: number): Promise<PageSections> {
  const { page, errors } = await open(dir, width);
  const found = await page.evaluate<PageSections>(`(() => {
    const sections = [...document.querySelectorAll('section')];
    return {
      headings: sections.map((s) => s.querySelector('h2').textContent),
      figures: [...document.querySelectorAll('figure svg')].map((svg) => {
        const box = svg.getBoundingClientRect();
        const title = svg.querySelector('[aria-roledescription="title"]');
        const heights = [...svg.querySelectorAll('text')]
          .map((t) => t.getBoundingClientRect().height)
          .filter((h) => h > 0);
        return {
          title: title ? title.getAttribute('aria-label') : '',
          width: box.width,
          height: box.height,
          smallestTextPx: Math.min(...heights),
        };
      }),
      sectionText: Object.fromEntries(
        sections.map((s) => [s.querySelector('h2').textContent, s.innerText]),
      ),
      overflow: { page: document.documentElement.scrollWidth, screen: window.innerWidth },
    };
  })()`);
  expect(errors).toEqual([]);
  await page.close();
  return found;
}

describe.each([1400, 420])('run report sections at %i px', (width) => {
  it('the default scenario: timeline, drug change, refusals, no alarm chart, no page overflow', async () => {
    const page = await sectionsOf('default', width);
    // The situation: the report of the default scenario, with its drug change at day 90.
    expect(page.headings).toEqual([
      'Reservoir',
      'Dose per drug',
      'Timeline',
      'Drug change',
      'Patient presses',
      'Alarms',
      'Refused commands',
      'Battery',
      'Flow accuracy (trumpet curve)',
      'Settings',
    ]);
    const timeline = page.figures.find(
      (f) => f.title === "Title text 'Timeline: therapy state and events'",
    );
    expect(timeline).toBeDefined();
    expect(timeline!.width).toBeGreaterThan(300);
    expect(timeline!.height).toBeGreaterThan(100);
    for (const f of page.figures) expect(f.smallestTextPx, f.title).toBeGreaterThanOrEqual(11);
    expect(page.sectionText['Timeline']).toContain('Time in each therapy state');
    expect(page.sectionText['Drug change']).toMatch(
      /reached the catheter tip at 90d \d\d:\d\d:\d\d/,
    );
    expect(page.sectionText['Drug change']).toContain('No underdose or overdose at the tip.');
    expect(page.sectionText['Refused commands']).toContain('The pump refused no command.');
    expect(page.sectionText['Alarms']).toContain('No alarm was raised.');
    expect(page.figures.map((f) => f.title)).not.toContain("Title text 'Alarms'");
    expect(page.overflow.page).toBeLessThanOrEqual(page.overflow.screen);
  });

  it('a drug change without a bridge: the underdose at the tip, the timeline, no page overflow', async () => {
    const page = await sectionsOf('drug-change', width);
    expect(page.headings).toContain('Drug change');
    expect(page.headings).toContain('Timeline');
    const change = page.sectionText['Drug change']!;
    expect(change).toContain('(no bridge)');
    expect(change).toContain('morphine: UNDERDOSE at the tip.');
    expect(change).toContain('Dose at the catheter tip while the old mixture cleared');
    expect(page.figures.map((f) => f.title)).toContain(
      "Title text 'Timeline: therapy state and events'",
    );
    for (const f of page.figures) expect(f.smallestTextPx, f.title).toBeGreaterThanOrEqual(11);
    expect(page.overflow.page).toBeLessThanOrEqual(page.overflow.screen);
  });
});

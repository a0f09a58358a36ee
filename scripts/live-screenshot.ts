/**
 * Regenerates docs/img/live.png, the picture of the live page in docs/live.md: `npm run
 * screenshots:live`. A paused live session of the default scenario, moved to day 10 with a press
 * granted, one denied in the lockout and a motor stall that has raised its alarm, served by the
 * live server in this process and photographed by headless Chromium (`CHROMIUM`, else
 * /usr/bin/chromium) at 1400 px wide.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { LiveServer } from '../sim/live/server.js';
import { LiveSession } from '../sim/live/session.js';
import { loadScenario } from '../sim/scenario.js';
import { DAY_MS, HOUR_MS } from '../src/units.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(chromiumPath)) {
  process.stderr.write(
    `no Chromium at ${chromiumPath}: install Debian's chromium or set CHROMIUM\n`,
  );
  process.exit(2);
}
const file = join(root, 'sim/scenarios/default.yaml');
const scenario = loadScenario(file);
const session = new LiveSession(scenario, scenario.seed, { speed: 3600, paused: true });
session.advanceTo(10 * DAY_MS + 9 * HOUR_MS);
session.command({ press: {} });
session.command({ press: {} });
session.advanceTo(10 * DAY_MS + 12 * HOUR_MS);
session.command({ motorStall: { for: '4 h' } });
for (let i = 0; i < 40 && !session.sim.controller.context.alarms.length; i++) session.step();
const server = new LiveServer(session, {
  host: '127.0.0.1',
  port: 0,
  sourceText: readFileSync(file, 'utf8'),
});
const url = await server.listen();
const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--no-sandbox', '--disable-gpu'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 1050 } });
await page.goto(url);
await page.waitForSelector('.state.active');
await page.click('#press');
await page.waitForSelector('#press-result.denied');
await page.waitForTimeout(600);
await page.screenshot({ path: join(root, 'docs/img/live.png') });
await browser.close();
await server.close();
process.stdout.write('wrote docs/img/live.png\n');

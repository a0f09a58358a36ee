/**
 * A report rewritten into the same folder removes the charts of the earlier report that it does
 * not draw again (issue 15), and only those: never a file the report did not write.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_MANIFEST, recordCharts } from '../../sim/report/chartManifest.js';
import { writeRunReport } from '../../sim/report/runReport.js';
import { runScenario } from '../../sim/runner.js';
import { parseScenario } from '../../sim/scenario.js';

/** Two drugs and a motor stall: an alarm chart and a dose chart per drug. */
const EVENTFUL = `
name: eventful
seed: 7
duration: 3d
initialFill: { volume: 6 mL, mixture: [{ drug: morphine, concentration: 2 mg/mL }, { drug: clonidine, concentration: 100 ug/mL }] }
prescription: { mode: continuous, dose: 1 mg/day }
ptm: { bolusDose: 0.1 mg, bolusDuration: 10 min, lockout: 3 h, maxPer24h: 4 }
timeline:
  - { at: 1d 02:00, motorStall: { for: 2 h } }
`;
/** One drug, nothing raised: no alarm chart, no clonidine. */
const QUIET = `
name: quiet
seed: 7
duration: 2d
initialFill: { volume: 10 mL, mixture: [{ drug: morphine, concentration: 2 mg/mL }] }
prescription: { mode: continuous, dose: 1 mg/day }
ptm: { bolusDose: 0.1 mg, bolusDuration: 10 min, lockout: 3 h, maxPer24h: 4 }
`;

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'itpump-charts-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const manifest = (dir: string) =>
  (JSON.parse(readFileSync(join(dir, CHART_MANIFEST), 'utf8')) as { charts: string[] }).charts;

describe('a report rewritten into its folder', () => {
  it("removes the earlier report's charts it does not draw, and keeps the user's files", async () => {
    const dir = join(root, 'run');
    await writeRunReport(runScenario(parseScenario(EVENTFUL, 'eventful.yaml')), dir);
    // The situation: the first report drew an alarm chart and a clonidine chart.
    for (const chart of ['alarms.svg', 'dose-clonidine.svg', 'dose-morphine.svg'])
      expect(existsSync(join(dir, chart)), chart).toBe(true);
    expect(manifest(dir)).toContain('alarms.svg');
    // The user's own files in the folder, one of them an SVG.
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    writeFileSync(join(dir, 'sketch.svg'), '<svg/>');

    const written = await writeRunReport(runScenario(parseScenario(QUIET, 'quiet.yaml')), dir);
    expect(written.map((f) => f.slice(dir.length + 1))).not.toContain('alarms.svg');
    expect(existsSync(join(dir, 'alarms.svg'))).toBe(false);
    expect(existsSync(join(dir, 'dose-clonidine.svg'))).toBe(false);
    expect(existsSync(join(dir, 'dose-morphine.svg'))).toBe(true);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(dir, 'sketch.svg'), 'utf8')).toBe('<svg/>');
    expect(manifest(dir)).toEqual(
      written
        .map((f) => f.slice(dir.length + 1))
        .filter((f) => f.endsWith('.svg'))
        .sort(),
    );
  }, 60_000);

  it('removes nothing a manifest names outside the folder, nor anything but SVG files, nor with a manifest not its own', () => {
    const dir = join(root, 'forged');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    const outside = join(root, 'outside.svg');
    for (const file of [
      outside,
      join(dir, 'sub', 'a.svg'),
      join(dir, 'data.csv'),
      join(dir, 'old.svg'),
    ])
      writeFileSync(file, 'keep');
    writeFileSync(
      join(dir, CHART_MANIFEST),
      JSON.stringify({
        format: 'itpump-charts/1',
        charts: ['../outside.svg', 'sub/a.svg', 'data.csv', 'old.svg'],
      }),
    );
    // Reached the situation: only old.svg is a chart name this manifest may have written.
    expect(recordCharts(dir, ['new.svg'])).toEqual(['old.svg']);
    expect(existsSync(join(dir, 'old.svg'))).toBe(false);
    for (const file of [outside, join(dir, 'sub', 'a.svg'), join(dir, 'data.csv')])
      expect(readFileSync(file, 'utf8'), file).toBe('keep');

    writeFileSync(join(dir, 'other.svg'), 'keep');
    writeFileSync(join(dir, CHART_MANIFEST), JSON.stringify({ charts: ['other.svg'] }));
    expect(recordCharts(dir, ['new.svg'])).toEqual([]);
    expect(existsSync(join(dir, 'other.svg'))).toBe(true);
  });
});

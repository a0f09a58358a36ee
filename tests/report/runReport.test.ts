/**
 * The run report end to end: a short run with demand, a refill and a motor stall gives a
 * self-contained report.html holding every chart written beside it, and `itpump report DIR`
 * re-creates the same files, byte for byte, from summary.json, events.jsonl and trace.csv.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/units.js';
import { writeOutputs } from '../../sim/outputs.js';
import { registerReportCommands } from '../../sim/report/commands.js';
import { externalReferences } from '../../sim/report/html.js';
import { readRunDir } from '../../sim/report/runData.js';
import { writeRunDataReport, writeRunReport } from '../../sim/report/runReport.js';
import { runScenario, type RunResult } from '../../sim/runner.js';
import { InputError, parseScenario } from '../../sim/scenario.js';

const SCENARIO = `
name: report-test
seed: 7
duration: 8d
initialFill: { volume: 6 mL, mixture: [{ drug: morphine, concentration: 2 mg/mL }, { drug: clonidine, concentration: 100 ug/mL }] }
prescription: { mode: continuous, dose: 1 mg/day }
ptm: { bolusDose: 0.1 mg, bolusDuration: 10 min, lockout: 3 h, maxPer24h: 4 }
demand: { episodesPerDay: 2, pressesPerEpisode: [1, 3] }
timeline:
  - { at: 3d 10:00, refill: { added: 6 mL } }
  - { at: 5d 02:00, motorStall: { for: 2 h } }
`;

let root: string;
let result: RunResult;
/** The run's outputs and report, written once. */
let runDir: string;
let written: string[];

const svgTitle = (svg: string) => /aria-label="Title text '([^"]*)'"/.exec(svg)?.[1];
const filesOf = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'itpump-report-'));
  result = runScenario(parseScenario(SCENARIO, 'report-test.yaml'));
  runDir = join(root, 'run');
  writeOutputs(result, runDir);
  written = await writeRunReport(result, runDir);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('writeRunReport', () => {
  it('writes report.html and one SVG per chart: reservoir, each drug, timeline, presses, alarms, trumpet', () => {
    const names = written.map((f) => f.slice(runDir.length + 1));
    expect([...names].sort()).toEqual([
      'alarms.svg',
      'battery.svg',
      'dose-clonidine.svg',
      'dose-morphine.svg',
      'presses.svg',
      'report.html',
      'reservoir.svg',
      'timeline.svg',
      'trumpet.svg',
    ]);
  });

  it('is self-contained and holds every chart it wrote as a file', () => {
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    expect(externalReferences(html)).toEqual([]);
    expect(html).not.toMatch(/<script|<link\b|\bsrc\s*=/i);
    const svgs = written.filter((f) => f.endsWith('.svg'));
    expect(html.match(/<svg\b/g)).toHaveLength(svgs.length);
    for (const file of svgs) {
      const title = svgTitle(readFileSync(file, 'utf8'));
      expect(title, file).toBeDefined();
      expect(html).toContain(`aria-label="Title text '${title}'"`);
    }
  });

  it('reports what the run did: the stall alarm, presses by reason, the trumpet table and the replay settings', () => {
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    expect(result.summary.alarms.map((a) => a.code)).toContain('motorStall');
    expect(html).toContain('<td>motorStall</td><td>critical</td>');
    expect(html).toContain(
      `<tr><th>Patient presses</th><td>${result.summary.presses.requested} requested, ${result.summary.presses.granted} granted, ${result.summary.presses.denied} denied</td></tr>`,
    );
    expect(html).toMatch(
      /<pre>Flow accuracy, IEC 60601-2-24 trumpet method\nProgrammed rate r {3}0\.500 mL\/day\n/,
    );
    expect(html).toContain('Remaining charge at the end');
    expect(html).toContain('&quot;seed&quot;: 7');
  });

  it('says so when a run recorded no battery series (a rig run)', async () => {
    const dir = join(root, 'no-battery');
    await writeRunReport({ ...result, battery: undefined } as RunResult, dir);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain(
      'This run recorded no battery series',
    );
  });

  it('leaves the wall time out, so the same seed gives the same page on any machine', async () => {
    const slower = {
      ...result,
      summary: { ...result.summary, wallTimeMs: result.summary.wallTimeMs + 1234.5 },
    };
    const dir = join(root, 'slower');
    await writeRunReport(slower, dir);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toBe(
      readFileSync(join(runDir, 'report.html'), 'utf8'),
    );
  });

  it('draws the battery when the run recorded it', async () => {
    const battery = result.trace.map((r) => ({
      timeMs: r.timeMs,
      remainingUah: 2_000_000 - Math.floor(r.timeMs / DAY_MS) * 200,
    }));
    const dir = join(root, 'with-battery');
    const files = await writeRunReport({ ...result, battery } as RunResult, dir);
    expect(files.map((f) => f.slice(dir.length + 1))).toContain('battery.svg');
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain(
      'Remaining charge at the end: 1998.4 mAh; end of service at ',
    );
  });
});

describe('itpump report DIR', () => {
  it('re-creates every file of the report byte for byte from the run files', async () => {
    const again = join(root, 'again');
    const program = new Command('itpump').exitOverride();
    registerReportCommands(program);
    await program.parseAsync(['report', runDir, '--out', again], { from: 'user' });
    const original = filesOf(runDir);
    for (const f of ['summary.json', 'events.jsonl', 'trace.csv', 'drug-library.json'])
      delete original[f];
    expect(filesOf(again)).toEqual(original);
  });

  it('reads a battery_remaining_uah column of trace.csv as the battery series', async () => {
    const dir = join(root, 'battery-files');
    writeOutputs(result, dir);
    expect(readFileSync(join(dir, 'trace.csv'), 'utf8').split('\n')[0]).toContain(
      'battery_remaining_uah',
    );
    expect(readRunDir(dir).battery).toEqual(result.battery);
    expect(result.battery!.at(-1)!.remainingUah).toBeLessThan(result.battery![0]!.remainingUah);
  });

  it('reads a summary.json written before a deny reason existed, counting that reason zero', () => {
    const dir = join(root, 'older-summary');
    writeOutputs(result, dir);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    const denied = summary.presses.deniedByReason;
    expect(denied.lockout).toBeGreaterThan(0);
    delete denied.bolusDoseCap;
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
    const read = readRunDir(dir).summary.presses.deniedByReason;
    expect(read).toEqual({ ...denied, bolusDoseCap: 0 });
  });

  it('refuses a malformed trace naming the file and line, and writes nothing', async () => {
    const dir = join(root, 'bad');
    writeOutputs(result, dir);
    const lines = readFileSync(join(dir, 'trace.csv'), 'utf8').split('\n');
    lines[2] = lines[2]!.replace(/^[0-9]+,/, 'soon,');
    writeFileSync(join(dir, 'trace.csv'), lines.join('\n'));
    expect(() => readRunDir(dir)).toThrow(InputError);
    expect(() => readRunDir(dir)).toThrow(/trace\.csv: line 3: time_ms: "soon" is not an integer/);
    const program = new Command('itpump').exitOverride();
    registerReportCommands(program);
    await expect(program.parseAsync(['report', dir], { from: 'user' })).rejects.toThrow(InputError);
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
  });

  it('refuses a trace that parses but goes back in time, as bad input naming the field', async () => {
    const dir = join(root, 'backwards');
    writeOutputs(result, dir);
    const lines = readFileSync(join(dir, 'trace.csv'), 'utf8').split('\n');
    [lines[5], lines[6]] = [lines[6]!, lines[5]!];
    writeFileSync(join(dir, 'trace.csv'), lines.join('\n'));
    const program = new Command('itpump').exitOverride();
    registerReportCommands(program);
    const run = program.parseAsync(['report', dir], { from: 'user' });
    await expect(run).rejects.toThrow(InputError);
    await expect(run).rejects.toThrow(/backwards: .*\[5\]\.timeMs: goes back in time/);
    expect(existsSync(join(dir, 'report.html'))).toBe(false);
  });

  it('needs the drug library of a run that did not use the built-in one', () => {
    const custom = parseScenario(
      `${SCENARIO}\ndrugLibrary: { name: clinic-2025, drugs: [{ drug: morphine, maxConcentration: 25 mg/mL, dailySoftMax: 10 mg/day, dailyHardMax: 20 mg/day, bolusSoftMax: 1 mg, bolusHardMax: 2 mg }, { drug: clonidine, maxConcentration: 2 mg/mL, dailySoftMax: 1 mg/day, dailyHardMax: 2 mg/day, bolusSoftMax: 0.1 mg, bolusHardMax: 0.2 mg }] }\n`,
      'custom.yaml',
    );
    const dir = join(root, 'custom');
    writeOutputs({ ...result, settings: { ...result.settings, drugLibrary: 'clinic-2025' } }, dir);
    rmSync(join(dir, 'drug-library.json')); // an output directory from before the file was written
    expect(() => readRunDir(dir)).toThrow(
      /settings\.drugLibrary: "clinic-2025": not the built-in library/,
    );
    expect(readRunDir(dir, { scenario: custom }).drugLibrary.name).toBe('clinic-2025');
    writeFileSync(
      join(dir, 'drug-library.json'),
      JSON.stringify({
        name: 'from-file',
        drugs: [
          {
            drug: 'morphine',
            concentrationUgPerMlMax: 25_000,
            dailyDoseNgSoftMax: 1,
            dailyDoseNgHardMax: 2,
            bolusDoseNgSoftMax: 1,
            bolusDoseNgHardMax: 2,
          },
        ],
      }),
    );
    expect(readRunDir(dir).drugLibrary.name).toBe('from-file');
  });
});

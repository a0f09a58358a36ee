/**
 * The run report's account of what happened: the therapy state and event timeline folded from the
 * event log, the drug-change section, the refused commands with their reasons, the refill
 * discrepancy flag, and a sentence instead of an empty chart where there is nothing to show. Each
 * is checked on the report written from the run in memory and on the one read back from its files.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alarmCatalogue } from '../../src/alarms.js';
import type { LogBody, LogRecord } from '../../src/eventLog.js';
import { formatTimeMs } from '../../src/units.js';
import { writeOutputs } from '../../sim/outputs.js';
import { escapeHtml } from '../../sim/report/html.js';
import { readRunDir } from '../../sim/report/runData.js';
import {
  chartMarkersOf,
  therapyIntervalsOf,
  timelineEventsOf,
} from '../../sim/report/runEvents.js';
import { writeRunDataReport, writeRunReport } from '../../sim/report/runReport.js';
import { runScenario, type RunResult } from '../../sim/runner.js';
import { loadScenario, parseScenario } from '../../sim/scenario.js';
import { formatSpanMs } from '../../sim/summary.js';

/** Stops, a stall that takes the pump to its minimum rate, a clock change, a refusal, a reset. */
const EVENTFUL = `
name: eventful
seed: 3
duration: 6d
pump: { stallRetry: 10 min, stallAttemptsMax: 3 }
initialFill: { volume: 10 mL, mixture: [{ drug: morphine, concentration: 2 mg/mL }] }
prescription: { mode: continuous, dose: 1 mg/day }
ptm: { bolusDose: 0.1 mg, bolusDuration: 10 min, lockout: 3 h, maxPer24h: 4 }
timeline:
  - { at: 0d 20:00, press: {} }
  - { at: 0d 21:00, press: {} }
  - { at: 1d 10:00, stop: {} }
  - { at: 1d 14:00, resume: {} }
  - { at: 2d 02:00, motorStall: { for: 2 h } }
  - { at: 2d 09:00, clearAlarms: {} }
  - { at: 3d 05:00, setClock: { back: 1 h } }
  - { at: 4d 10:00, refill: { added: 25 mL } }
  - { at: 4d 10:05, reset: {} }
`;

/** Two quiet days: no press, no refill, no alarm, no refusal, no drug change. */
const QUIET = `
name: quiet
seed: 1
duration: 2d
initialFill: { volume: 10 mL, mixture: [{ drug: morphine, concentration: 2 mg/mL }] }
prescription: { mode: continuous, dose: 1 mg/day }
`;

let root: string;
const runs: Record<string, { result: RunResult; dir: string; html: string; disk: string }> = {};

async function report(name: string, result: RunResult) {
  const dir = join(root, name);
  writeOutputs(result, dir);
  await writeRunReport(result, dir);
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  const again = join(root, `${name}-from-disk`);
  await writeRunDataReport(readRunDir(dir), again);
  runs[name] = { result, dir, html, disk: readFileSync(join(again, 'report.html'), 'utf8') };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'itpump-sections-'));
  await report('eventful', runScenario(parseScenario(EVENTFUL, 'eventful.yaml')));
  await report('quiet', runScenario(parseScenario(QUIET, 'quiet.yaml')));
  // Overfill refused, refill discrepancy flagged, a dose-rate increase refused then confirmed.
  await report(
    'refill',
    runScenario(
      loadScenario(join(import.meta.dirname, '../../sim/scenarios/examples/refill-workflow.yaml')),
    ),
  );
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The text of the section under `heading`, up to the next one. */
function section(html: string, heading: string): string {
  const start = html.indexOf(`<h2>${escapeHtml(heading)}</h2>`);
  expect(start, `section ${heading}`).toBeGreaterThan(0);
  const end = html.indexOf('</section>', start);
  return html.slice(start, end);
}

const row = (cells: readonly string[]) =>
  `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;

describe('the therapy state, folded from the event log', () => {
  it('follows stop, resume, the minimum rate of a critical alarm and a reset, as the trace saw it', () => {
    const { result } = runs['eventful']!;
    const end = result.summary.simulatedMs;
    const lane = therapyIntervalsOf(result.events, end);
    // The situation: the run stopped, resumed, dropped to its minimum rate and was reset.
    const types = result.events.map((e) => e.type);
    expect(types).toContain('stopped');
    expect(types).toContain('minimumRate');
    expect(result.events.filter((e) => e.type === 'boot').at(-1)).toMatchObject({ restored: true });
    expect(lane.map((t) => t.state)).toEqual([
      'infusing',
      'stopped',
      'infusing',
      'minimumRate',
      'infusing',
    ]);
    expect(lane[0]!.fromMs).toBe(0);
    expect(lane.at(-1)!.toMs).toBe(end);
    for (let i = 1; i < lane.length; i++) expect(lane[i]!.fromMs).toBe(lane[i - 1]!.toMs);
    // Every trace sample off a boundary shows the therapy state the lane gives for its time.
    const boundaries = new Set(lane.map((t) => t.fromMs));
    const sampled = result.trace.filter((r) => !boundaries.has(r.timeMs) && r.timeMs < end);
    expect(sampled.length).toBeGreaterThan(100);
    for (const r of sampled) {
      const at = lane.find((t) => t.fromMs <= r.timeMs && r.timeMs < t.toMs)!;
      expect(r.therapy.split('.')[0], formatTimeMs(r.timeMs)).toBe(at.state);
    }
    expect(result.summary.finalState.therapy.split('.')[0]).toBe(lane.at(-1)!.state);
  });

  it('starts stopped on a cold boot with no programme, and halts at the battery end of service', () => {
    const at = (atMs: number, body: LogBody) =>
      ({ ...body, seq: 0, atMs, rtcMs: atMs }) as LogRecord;
    const events = [
      at(0, { type: 'boot', restored: false, memoryError: false, lowBatteryReset: false }),
      at(1_000, { type: 'resumed' }),
      at(5_000, { type: 'alarmRaised', code: 'batteryEos', priority: 'critical' }),
    ];
    expect(therapyIntervalsOf(events, 9_000)).toEqual([
      { state: 'stopped', fromMs: 0, toMs: 1_000 },
      { state: 'infusing', fromMs: 1_000, toMs: 5_000 },
      { state: 'halted', fromMs: 5_000, toMs: 9_000 },
    ]);
  });
});

describe('the timeline lane and the markers', () => {
  it('has an event for each press, bolus, refill, alarm, clock change, stall and refusal', () => {
    const { result } = runs['eventful']!;
    const s = result.summary;
    const events = timelineEventsOf(result.events, s.drugPath);
    const count = (kind: string) => events.filter((e) => e.kind === kind).length;
    const stalls = result.events.filter((e) => e.type === 'motorStall').length;
    // The situation: the run had each kind of event.
    expect(s.presses.granted).toBeGreaterThan(0);
    expect(s.presses.denied).toBeGreaterThan(0);
    expect(s.alarms.length).toBeGreaterThan(0);
    expect(s.refusals).toBeGreaterThan(0);
    expect(stalls).toBeGreaterThan(1);
    expect(count('pressGranted')).toBe(s.presses.granted);
    expect(count('pressDenied')).toBe(s.presses.denied);
    expect(count('bolus')).toBe(s.boluses.patient + s.boluses.clinician);
    expect(count('refill')).toBe(s.refills);
    expect(count('alarmRaised')).toBe(s.alarms.length);
    expect(count('alarmCleared')).toBe(s.alarms.filter((a) => a.clearedAtMs !== null).length);
    expect(count('clockChange')).toBe(1);
    expect(count('motorStall')).toBe(stalls);
    expect(count('refused')).toBe(s.refusals);
    // The charts mark a stall once, at its first stalled attempt, not every retry.
    const markers = chartMarkersOf(result.events);
    const firstStall = result.events.find((e) => e.type === 'motorStall')!;
    expect(markers.filter((m) => m.kind === 'motorStall')).toEqual([
      { timeMs: firstStall.atMs, kind: 'motorStall' },
    ]);
    expect(markers.filter((m) => m.kind === 'alarm')).toHaveLength(s.alarms.length);
  });

  it('writes timeline.svg with a tick per event, and the time in each therapy state', () => {
    const { result, dir, html } = runs['eventful']!;
    const svg = readFileSync(join(dir, 'timeline.svg'), 'utf8');
    const events = timelineEventsOf(result.events, result.summary.drugPath);
    const lane = svg.slice(
      svg.indexOf('concat_1_marks"'),
      svg.indexOf('</g>', svg.indexOf('concat_1_marks"')),
    );
    expect(events.length).toBeGreaterThan(10);
    expect(lane.match(/<path\b/g)).toHaveLength(events.length);
    const timeline = section(html, 'Timeline');
    expect(timeline).toContain("Title text 'Timeline: therapy state and events'");
    expect(timeline).toContain('<td>safe minimum rate (critical alarm)</td>');
    const stopped = therapyIntervalsOf(result.events, result.summary.simulatedMs).find(
      (t) => t.state === 'stopped',
    )!;
    expect(timeline).toContain(
      `<td>stopped</td><td>${formatSpanMs(stopped.toMs - stopped.fromMs)}</td>`,
    );
  });
});

describe('refused commands', () => {
  it('lists each refused command with its time, command, scenario field, value and reason', () => {
    const { result, html, disk } = runs['refill']!;
    const refused = result.summary.refusedCommands;
    // The situation: the pump refused commands of the timeline.
    expect(refused.length).toBeGreaterThanOrEqual(2);
    for (const page of [html, disk]) {
      const refusals = section(page, 'Refused commands');
      for (const r of refused)
        expect(refusals).toContain(row([r.at, 'refill', r.field, r.value, r.limit, r.message]));
      expect(refusals).toContain(
        escapeHtml('fill volume 25.000 mL exceeds the reservoir capacity'),
      );
    }
  });

  it('lists them from the event log for a summary.json written before their scenario paths', async () => {
    const old = join(root, 'old-summary');
    writeOutputs(runs['refill']!.result, old);
    const summary = JSON.parse(readFileSync(join(old, 'summary.json'), 'utf8'));
    expect(summary.refusedCommands.length).toBeGreaterThan(0);
    delete summary.refusedCommands;
    delete summary.drugPath;
    writeFileSync(join(old, 'summary.json'), JSON.stringify(summary));
    await writeRunDataReport(readRunDir(old), old);
    const refusals = section(readFileSync(join(old, 'report.html'), 'utf8'), 'Refused commands');
    expect(refusals).toContain('<td>refill</td><td>addedNl</td><td>25.000 mL</td>');
    expect(refusals).toContain('this summary.json does not give their scenario paths');
    expect(refusals).toContain(
      '<td>fill volume 25.000 mL exceeds the reservoir capacity, 20.000 mL</td>',
    );
  });

  it('says the pump refused nothing when it did not', () => {
    const { result, html } = runs['quiet']!;
    expect(result.summary.refusals).toBe(0);
    const refusals = section(html, 'Refused commands');
    expect(refusals).toContain('<p>The pump refused no command.</p>');
    expect(refusals).not.toContain('<table');
  });
});

describe('the drug change', () => {
  it('gives the time for the new mixture to reach the catheter tip and flags the underdose', () => {
    const { result, html, disk } = runs['refill']!;
    const change = result.summary.drugPath!.changes[0]!;
    const flagged = change.drugs.find((d) => d.flag === 'underdose')!;
    // The situation: a drug change whose new mixture reached the tip, with an underdose at the tip.
    expect(change.newMixtureAtTipMs).not.toBeNull();
    expect(flagged).toBeDefined();
    const span = formatSpanMs(change.newMixtureAtTipMs! - change.atMs);
    for (const page of [html, disk]) {
      const text = section(page, 'Drug change');
      expect(text).toContain(
        `reached the catheter tip at ${formatTimeMs(change.newMixtureAtTipMs!)}, ${span} after the change`,
      );
      expect(text).toContain(`${flagged.drug}: UNDERDOSE at the tip.`);
      expect(text).toMatch(
        new RegExp(
          `<tr><td>${formatTimeMs(change.atMs)}</td><td>${span}</td><td>${flagged.drug}</td>.*<td>UNDERDOSE \\(beyond ±10 %\\)</td></tr>`,
        ),
      );
    }
  });

  it('says there was none in a run without one', () => {
    const { result, html } = runs['quiet']!;
    expect(result.summary.drugPath?.changes).toEqual([]);
    expect(section(html, 'Drug change')).toContain(
      '<p>No drug change in this run: every refill kept the mixture in the reservoir.</p>',
    );
  });
});

describe('the refill discrepancy flag', () => {
  it('is shown for the refill whose withdrawn volume was flagged', () => {
    const { result, html, disk } = runs['refill']!;
    const flagged = result.events.find((e) => e.type === 'refill' && e.discrepancyFlagged);
    // The situation: the pump flagged a refill's withdrawn volume against its estimate.
    expect(flagged).toBeDefined();
    for (const page of [html, disk]) {
      const reservoir = section(page, 'Reservoir');
      expect(reservoir).toContain(
        `Refill discrepancy flagged once: at ${formatTimeMs(flagged!.atMs)}`,
      );
      expect(reservoir).toMatch(
        new RegExp(
          `<tr><td>${formatTimeMs(flagged!.atMs)}</td>.*<td>FLAGGED \\(beyond 5 %\\)</td></tr>`,
        ),
      );
    }
    expect(readFileSync(join(runs['refill']!.dir, 'timeline.svg'), 'utf8')).toContain(
      '>refill discrepancy flagged<',
    );
  });

  it('is reported absent when no refill was flagged', () => {
    const { result, html } = runs['eventful']!;
    expect(result.events.some((e) => e.type === 'refill' && e.discrepancyFlagged)).toBe(false);
    expect(section(html, 'Reservoir')).toContain('No refill after the initial fill.');
  });
});

describe('sections with nothing to show', () => {
  it('say so in a sentence and draw no chart: alarms, presses, the event lane', () => {
    const { result, dir, html } = runs['quiet']!;
    // The situation: nothing was raised, pressed, refilled or refused.
    expect(result.summary.alarms).toEqual([]);
    expect(result.summary.presses.requested).toBe(0);
    const alarms = section(html, 'Alarms');
    expect(alarms).toContain('<p>No alarm was raised.</p>');
    expect(alarms).not.toContain('<svg');
    expect(existsSync(join(dir, 'alarms.svg'))).toBe(false);
    const presses = section(html, 'Patient presses');
    expect(presses).toContain('<p>The patient did not press the button.</p>');
    expect(presses).not.toContain('<svg');
    expect(existsSync(join(dir, 'presses.svg'))).toBe(false);
    const timeline = section(html, 'Timeline');
    expect(timeline).toContain('Nothing happened on the timeline');
    expect(timeline).not.toContain('concat_1_marks');
  });

  it('draw their chart when there is something to show', () => {
    const { result, html } = runs['eventful']!;
    expect(result.summary.alarms.length).toBeGreaterThan(0);
    const alarms = section(html, 'Alarms');
    expect(alarms).toContain("Title text 'Alarms'");
    expect(alarms).toContain(`<td>${alarmCatalogue.motorStall.description}</td>`);
  });
});

describe('the report read back from the run files', () => {
  it('is the report of the run in memory, byte for byte, for each run', () => {
    for (const [name, run] of Object.entries(runs)) expect(run.disk, name).toBe(run.html);
  });
});

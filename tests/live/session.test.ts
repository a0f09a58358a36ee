/**
 * A live session replays: every command the page gave is recorded at the virtual time it was
 * applied, and `itpump run` of the replay scenario writes the session's outputs byte for byte.
 * The one field that differs is wall-clock by nature: `wallTimeMs` in summary.json (the report
 * does not show it). Also: commands are read as timeline events are (one line naming path, value
 * and limit), a soft limit is asked before anything is sent, and a press in the lockout is denied
 * with its reason.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS } from '../../src/units.js';
import { writeLiveOutputs } from '../../sim/live/downloads.js';
import { replayScenarioText } from '../../sim/live/replay.js';
import { LiveSession, type CommandOutcome } from '../../sim/live/session.js';
import { runScenario } from '../../sim/runner.js';
import { loadScenario, parseScenario } from '../../sim/scenario.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = join(root, 'tests/fixtures/live/live.yaml');
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const work = mkdtempSync(join(tmpdir(), 'itpump-live-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

function session(): LiveSession {
  const s = loadScenario(fixture);
  return new LiveSession(s, s.seed, { speed: 1, paused: true });
}

function applied(o: CommandOutcome): Extract<CommandOutcome, { kind: 'applied' }> {
  expect(o.kind, JSON.stringify(o)).toBe('applied');
  return o as Extract<CommandOutcome, { kind: 'applied' }>;
}

/** A session with a command of every kind the page sends, some at awkward moments. */
function busySession(): LiveSession {
  const live = session();
  live.advanceTo(5 * HOUR_MS + 17);
  applied(live.command({ press: {} }));
  applied(live.command({ press: {} })); // in the lockout
  // A step lands exactly on a deadline: the next command must not be applied in its millisecond.
  live.step();
  applied(live.command({ clinicianBolus: { dose: '0.2 mg', duration: '30 min' } }));
  live.advanceTo(HOUR_MS * 9 - 1000); // a second before a trace boundary
  applied(
    live.command({
      program: {
        ptm: { bolusDose: '0.15 mg', bolusDuration: '10 min', lockout: '2 h', maxPer24h: 6 },
      },
    }),
  );
  live.advanceTo(DAY_MS + 3 * HOUR_MS);
  applied(live.command({ motorStall: { for: '3 h' } }));
  for (let i = 0; i < 20; i++) live.step();
  applied(live.command({ clearAlarms: {} }));
  applied(live.command({ strokeVolumeError: '-2 %' }));
  applied(live.command({ setClock: { back: '1 h' } }));
  applied(live.command({ batteryLevel: 'eri' }));
  live.advanceTo(DAY_MS + 9 * HOUR_MS + 123);
  applied(live.command({ reset: {} }));
  applied(live.command({ stop: {} }));
  applied(live.command({ resume: {} }));
  live.advanceTo(DAY_MS + 20 * HOUR_MS + 1);
  return live;
}

function normalised(summaryJson: string): unknown {
  const s = JSON.parse(summaryJson) as Record<string, unknown>;
  expect(typeof s['wallTimeMs']).toBe('number');
  return { ...s, wallTimeMs: 'wall-clock' };
}

describe('a live session', () => {
  it('replays: itpump run of its scenario writes the same outputs (wallTimeMs aside)', async () => {
    const live = busySession();
    const result = live.end();
    // The situation: the session ended early, after commands of every kind, with refusals and
    // events on the clock around them.
    expect(result.summary.simulatedMs).toBeLessThan(live.durationMs);
    expect(live.recorded.length).toBe(12);
    expect(result.events.some((e) => e.type === 'alarmRaised' && e.code === 'motorStall')).toBe(
      true,
    );
    const text = replayScenarioText(
      readFileSync(fixture, 'utf8'),
      live.seed,
      live.replayDurationMs(),
      live.recorded,
    );
    const liveDir = join(work, 'live');
    await writeLiveOutputs(result, text, liveDir);
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        tsxLoader,
        join(root, 'sim/cli.ts'),
        'run',
        join(liveDir, 'scenario.yaml'),
        '--out',
        join(work, 'run'),
        '--report',
      ],
      { cwd: work, encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const read = (dir: string, f: string) => readFileSync(join(work, dir, f), 'utf8');
    expect(normalised(read('live', 'summary.json'))).toEqual(
      normalised(read('run', 'summary.json')),
    );
    for (const f of ['events.jsonl', 'trace.csv', 'drug-library.json', 'report.html'])
      expect(read('live', f), f).toBe(read('run', f));
  }, 120_000);

  it('run to its end, replays the same (timeline event after the end included when cut short)', () => {
    const live = session();
    live.advanceTo(HOUR_MS * 30 + 5);
    applied(live.command({ clinicianBolus: { dose: '0.1 mg', duration: '20 min' } }));
    live.advanceTo(live.durationMs);
    const result = live.finished!;
    expect(result.summary.simulatedMs).toBe(live.durationMs);
    const text = replayScenarioText(
      readFileSync(fixture, 'utf8'),
      live.seed,
      live.replayDurationMs(),
      live.recorded,
    );
    const replay = runScenario(parseScenario(text, 'scenario.yaml'));
    expect(replay.events).toEqual(result.events);
    expect(replay.trace).toEqual(result.trace);
    expect({ ...replay.summary, wallTimeMs: 0 }).toEqual({ ...result.summary, wallTimeMs: 0 });

    const short = session();
    short.advanceTo(DAY_MS);
    const cut = short.end();
    expect(cut.summary.eventsAfterEnd).toEqual([
      { path: 'timeline[0]', at: '2d 10:00:00', end: '1d 00:00:01' },
    ]);
  });

  it('grants a press, then denies one in the lockout with the reason and the tone', () => {
    const live = session();
    live.advanceTo(HOUR_MS);
    const first = applied(live.command({ press: {} }));
    expect(first.records.map((r) => r.type)).toContain('pressGranted');
    expect(first.tones).toEqual(['pressGranted']);
    const second = applied(live.command({ press: {} }));
    expect(second.records).toMatchObject([{ type: 'pressDenied', reason: 'lockout' }]);
    expect(second.tones).toEqual(['pressDenied']);
  });

  it('reads a command as the loader reads a timeline event: one line, field, value and limit', () => {
    const live = session();
    expect(live.command({ clinicianBolus: { dose: '5 banana', duration: '30 min' } })).toEqual({
      kind: 'invalid',
      lines: [
        'command: clinicianBolus.dose: "5 banana": "5 banana" is not a drug mass (units: ng, ug, µg, mg)',
      ],
    });
    const unknown = live.command({ fly: {} });
    expect(unknown.kind).toBe('invalid');
    expect((unknown as { lines: string[] }).lines[0]).toMatch(
      /^command: \(top level\): \{"fly":\{\}\}: unknown key "fly"/,
    );
    expect(live.command('press').kind).toBe('invalid');
    expect(live.command({ press: {}, stop: {} }).kind).toBe('invalid');
    expect(live.recorded).toEqual([]); // nothing reached the pump
  });

  it('asks before it sends a dose over a soft limit, and takes it confirmed', () => {
    const live = session();
    live.advanceTo(HOUR_MS);
    const asked = live.command({ clinicianBolus: { dose: '0.8 mg', duration: '1 h' } });
    expect(asked).toMatchObject({
      kind: 'confirm',
      field: 'clinicianBolus.dose',
      value: '800.0 µg',
    });
    expect(live.recorded).toEqual([]);
    expect(live.sim.events.some((e) => e.type === 'refused')).toBe(false);
    const taken = applied(
      live.command({ clinicianBolus: { dose: '0.8 mg', duration: '1 h', confirm: true } }),
    );
    expect(taken.records.map((r) => r.type)).toEqual(['bolusStarted']);
  });

  it("shows the pump's refusal with field, value and limit", () => {
    const live = session();
    live.advanceTo(HOUR_MS);
    const o = applied(live.command({ clinicianBolus: { dose: '1.5 mg', duration: '4 h' } }));
    expect(o.refusals).toMatchObject([
      { field: `timeline[1].clinicianBolus.dose`, value: '1.500 mg' },
    ]);
    expect(o.refusals[0]!.limit).toMatch(/hard maximum/);
  });
});

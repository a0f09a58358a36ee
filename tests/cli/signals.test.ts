/**
 * Ctrl-C and SIGTERM as a terminal sends them: to the CLI's process group, spawned from the
 * sources. The first signal stops the work safely, writes what was done, says where, and exits 130;
 * a second one exits 130 at once. Covered: `run`, `fleet`, `rig run` against a spawned
 * `rig emulate` on a pty pair, and `rig emulate` itself (it closes its port and exits 0).
 *
 * The CLI runs as `node --import tsx sim/cli.ts …`, one process, not under the `tsx` command: that
 * wrapper relays a signal to its child unless the child reports it within 30 ms, and SIGKILLs the
 * child 30 ms later, so a child busy simulating would see one Ctrl-C twice, or be killed.
 *
 * Each test first checks that it reached its situation (the run or the fleet had started, the rig
 * run was under way) and only then signals and judges.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { exitCodeOf, IncompleteFleet } from '../../sim/cliRun.js';
import { DEFAULT_VARIATION } from '../../sim/fleet/patient.js';
import { registerReportCommands, variationHelpDefaults } from '../../sim/report/commands.js';
import { parseDurationMs } from '../../src/units.js';
import { sleep, startPtyPair, waitFor, type PtyPair } from '../rig/ptyPair.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const cliPath = join(root, 'sim/cli.ts');

let work = '';
const running: Spawned[] = [];
const pairs: PtyPair[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'itpump-signals-'));
});

afterEach(async () => {
  for (const p of running.splice(0)) if (stillRunning(p)) p.signal('SIGKILL');
  for (const pair of pairs.splice(0)) await pair.stop();
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<Exit>;
  /** Signal the child's process group, as a terminal's Ctrl-C does. */
  signal: (name: NodeJS.Signals) => void;
}

/** `itpump …` from the sources, leading its own process group. */
function start(args: readonly string[]): Spawned {
  const child = spawn(process.execPath, ['--import', tsxLoader, cliPath, ...args], {
    cwd: work,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const spawned: Spawned = {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    signal: (name) => process.kill(-child.pid!, name),
  };
  running.push(spawned);
  return spawned;
}

/** The exit, or a failure naming what the process printed if it has not exited within `ms`. */
async function exitWithin(p: Spawned, ms: number): Promise<Exit> {
  const timeout = sleep(ms).then(() => 'timeout' as const);
  const result = await Promise.race([p.exited, timeout]);
  if (result === 'timeout')
    throw new Error(`still running after ${ms} ms; stderr:\n${p.stderr().slice(-2000)}`);
  return result;
}

/** A six-month run costs seconds of CPU; this is ample for the few lines after its first. */
const handlersInstalledMs = 300;
const stillRunning = (p: Spawned) => p.child.exitCode === null && p.child.signalCode === null;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('itpump run', () => {
  it('the first Ctrl-C stops the pump, writes the outputs up to there, and exits 130', async () => {
    const out = join(work, 'run-once');
    const p = start(['run', '--out', out]);
    // The situation: the run has started, and is still running. Its first line comes just
    // before the handlers are installed: a signal sent the moment it arrives could beat them on a
    // loaded machine (and end the process as SIGINT does by default), so give them a moment.
    expect(await waitFor(() => p.stdout().includes('\n'), 60_000)).toBe(true);
    expect(p.stdout()).toMatch(/^itpump run .*default\.yaml --seed \d+\n/);
    await sleep(handlersInstalledMs);
    expect(stillRunning(p)).toBe(true);

    p.signal('SIGINT');
    const { code, signal } = await exitWithin(p, 60_000);
    expect(p.stderr()).toMatch(
      /^SIGINT: stopping the run safely and writing the outputs \(again to exit at once\)$/m,
    );
    expect({ code, signal }).toEqual({ code: 130, signal: null });
    expect(p.stderr()).toMatch(
      new RegExp(
        `^interrupted: the pump was stopped at \\d+d \\d\\d:\\d\\d:\\d\\d of the scenario; outputs written to ${escape(out)}$`,
        'm',
      ),
    );
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      interruptedAtMs?: number;
      settings: { durationMs: number };
    };
    expect(summary.interruptedAtMs).toBeGreaterThanOrEqual(0);
    expect(summary.interruptedAtMs).toBeLessThan(summary.settings.durationMs);
    const events = readFileSync(join(out, 'events.jsonl'), 'utf8').trim().split('\n');
    for (const line of events) JSON.parse(line);
    expect(readFileSync(join(out, 'trace.csv'), 'utf8').split('\n').length).toBeGreaterThan(2);
  }, 150_000);

  it('a second signal in quick succession exits 130 at once, without writing', async () => {
    const out = join(work, 'run-twice');
    const p = start(['run', '--out', out]);
    expect(await waitFor(() => p.stdout().includes('\n'), 60_000)).toBe(true);
    await sleep(handlersInstalledMs);
    expect(stillRunning(p)).toBe(true);

    // Two different signals, so the kernel cannot merge them into one.
    p.signal('SIGINT');
    p.signal('SIGTERM');
    const { code, signal } = await exitWithin(p, 20_000);
    // Which of the two the process sees first is the kernel's choice.
    const first = /^(SIGINT|SIGTERM): stopping the run safely/m.exec(p.stderr())?.[1];
    expect(first).toBeDefined();
    const second = first === 'SIGINT' ? 'SIGTERM' : 'SIGINT';
    expect(p.stderr()).toMatch(
      new RegExp(`^${second} again: exiting at once, outputs not written$`, 'm'),
    );
    expect({ code, signal }).toEqual({ code: 130, signal: null });
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
    expect(p.stderr()).not.toMatch(/^interrupted:/m);
  }, 120_000);
});

describe('itpump fleet', () => {
  it('Ctrl-C writes the patients completed so far, marked incomplete, and exits 130', async () => {
    const out = join(work, 'fleet');
    const scenario = join(root, 'sim/fleet/scenarios/single-fill.yaml');
    const p = start(['fleet', scenario, '--patients', '30', '--workers', '1', '--out', out]);
    // The situation: patients have completed (the progress line at the first tenth) and the
    // fleet is still running. A patient costs about a second: 30 cannot finish by then.
    expect(await waitFor(() => /^fleet: [1-9]\d*\/30 patients/m.test(p.stderr()), 120_000)).toBe(
      true,
    );
    expect(stillRunning(p)).toBe(true);

    p.signal('SIGINT');
    const { code, signal } = await exitWithin(p, 60_000);
    expect(p.stderr()).toMatch(/^SIGINT: stopping the fleet safely and writing the outputs/m);
    expect({ code, signal }).toEqual({ code: 130, signal: null });
    const completed = Number(/^interrupted: (\d+) of 30 patients completed/m.exec(p.stdout())?.[1]);
    expect(completed).toBeGreaterThanOrEqual(3);
    expect(completed).toBeLessThan(30);
    expect(p.stderr()).toMatch(
      new RegExp(
        `^interrupted: the fleet was stopped after ${completed} of 30 patients; incomplete outputs written to ${escape(out)}$`,
        'm',
      ),
    );

    const fleet = JSON.parse(readFileSync(join(out, 'fleet.json'), 'utf8')) as {
      complete: boolean;
      missing: [number, number][];
      totals: { patients: number };
    };
    expect(fleet.complete).toBe(false);
    expect(fleet.totals.patients).toBe(completed);
    // patients.csv has a row for each patient completed (a header, then one line each).
    const csv = readFileSync(join(out, 'patients.csv'), 'utf8').trimEnd().split('\n');
    expect(csv.length - 1).toBe(completed);
    expect(fleet.missing.reduce((n, [from, to]) => n + (to - from), 0)).toBe(30 - completed);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(
      /Incomplete: patients .* are missing/,
    );

    // `fleet merge` refuses it (exit 2, nothing written); with --partial it takes it and says
    // what is missing.
    const refusing = new Command('itpump').exitOverride();
    registerReportCommands(refusing);
    const refused = await refusing
      .parseAsync(['fleet', 'merge', out, '--out', join(work, 'refused')], { from: 'user' })
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(
      /^fleet merge: incomplete: patients [\d, -]+ of 30 are in none of the shards/,
    );
    expect(existsSync(join(work, 'refused'))).toBe(false);
    let merged = '';
    const write = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk) => ((merged += String(chunk)), true));
    let failure: unknown;
    try {
      const program = new Command('itpump').exitOverride();
      registerReportCommands(program);
      await program
        .parseAsync(['fleet', 'merge', out, '--partial', '--out', join(work, 'merged')], {
          from: 'user',
        })
        .catch((e: unknown) => (failure = e));
    } finally {
      write.mockRestore();
    }
    expect(merged).toMatch(
      new RegExp(`merged 1 shard: ${completed} of 30 patients \\(incomplete: patients \\d`),
    );
    // An incomplete merge with --partial writes its outputs, then exits 3, naming what is missing.
    expect(existsSync(join(work, 'merged', 'fleet.json'))).toBe(true);
    expect(failure).toBeInstanceOf(IncompleteFleet);
    expect((failure as Error).message).toMatch(
      /^fleet merge: incomplete: patients [\d, -]+ of 30 are in none of the shards/,
    );
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(exitCodeOf(failure)).toBe(3);
    } finally {
      stderr.mockRestore();
    }
  }, 240_000);

  it("the help's variation defaults are the fleet's", () => {
    expect(variationHelpDefaults).toEqual({
      motorErrorSdPercent: DEFAULT_VARIATION.motorErrorSdPpm / 10_000,
      stallsPerYear: DEFAULT_VARIATION.stallsPerYear,
      stallDuration: variationHelpDefaults.stallDuration,
      clinicAfter: variationHelpDefaults.clinicAfter,
    });
    expect(parseDurationMs(variationHelpDefaults.stallDuration)).toBe(
      DEFAULT_VARIATION.stallDurationMs,
    );
    expect(parseDurationMs(variationHelpDefaults.clinicAfter)).toBe(
      DEFAULT_VARIATION.clinicResponseMs,
    );
  });
});

describe('itpump rig run against a spawned rig emulate', () => {
  it('Ctrl-C stops the pump, accounts the running batch, writes the outputs, exits 130; the emulator then closes its port and exits 0', async () => {
    const pair = await startPtyPair();
    pairs.push(pair);
    const emulator = start(['rig', 'emulate', '--port', pair.rigPath, '--time-scale', '720']);
    expect(await waitFor(() => emulator.stderr().includes('itpump rig emulator on'), 60_000)).toBe(
      true,
    );
    const file = join(work, 'ten-days.yaml');
    writeFileSync(
      file,
      `name: ten-days
duration: 10d
pump: { strokeVolume: 0.5 uL }
initialFill: { volume: 20 mL, mixture: [{ drug: morphine, concentration: 2 mg/mL }] }
prescription: { mode: continuous, dose: 4 mg/day }
`,
    );
    const out = join(work, 'rig-run');
    const host = start([
      'rig',
      'run',
      file,
      '--port',
      pair.hostPath,
      '--time-scale',
      '720',
      '--out',
      out,
      '--no-calibration',
      '--json',
    ]);
    // The situation: connected, the run started (its settings line), strokes being executed.
    expect(await waitFor(() => /^settings: /m.test(host.stderr()), 60_000)).toBe(true);
    expect(await waitFor(() => / batch \d+: \d+ strokes/.test(emulator.stderr()), 30_000)).toBe(
      true,
    );
    await sleep(1_000);
    expect(stillRunning(host)).toBe(true);
    // The readings are on disk as they come: a run killed outright keeps what it measured.
    const streamed = () =>
      existsSync(join(out, 'balance.csv'))
        ? readFileSync(join(out, 'balance.csv'), 'utf8').trim().split('\n').length - 1
        : 0;
    expect(await waitFor(() => streamed() >= 3, 30_000)).toBe(true);
    expect(stillRunning(host)).toBe(true);

    host.signal('SIGINT');
    const { code, signal } = await exitWithin(host, 30_000);
    expect(host.stderr()).toMatch(/^SIGINT: stopping the rig run safely and writing the outputs/m);
    expect(host.stderr()).not.toMatch(/^error/m);
    expect({ code, signal }).toEqual({ code: 130, signal: null });
    expect(host.stderr()).toMatch(
      new RegExp(
        `^interrupted: the pump was stopped at \\d+d \\d\\d:\\d\\d:\\d\\d of the scenario; outputs written to ${escape(out)}$`,
        'm',
      ),
    );
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      interruptedAtMs?: number;
    };
    expect(summary.interruptedAtMs).toBeGreaterThan(0);
    expect(summary.interruptedAtMs).toBeLessThan(10 * 86_400_000);
    for (const line of readFileSync(join(out, 'events.jsonl'), 'utf8').trim().split('\n'))
      JSON.parse(line);
    expect(readFileSync(join(out, 'balance.csv'), 'utf8')).toMatch(
      /^time_ms,rig_time_ms,mass_ug,delivered_nl,stable,accounted_strokes,low_nl,high_nl\n\d+,/,
    );
    const printed = JSON.parse(host.stdout()) as {
      interruptedAtMs: number;
      link: { strokesAccounted: number };
    };
    expect(printed.interruptedAtMs).toBe(summary.interruptedAtMs);

    // The emulator: the first signal closes its port, and it exits 0, having executed exactly
    // the strokes the host accounted (the running batch was stopped and reported).
    expect(stillRunning(emulator)).toBe(true);
    emulator.signal('SIGINT');
    const stopped = await exitWithin(emulator, 30_000);
    expect(emulator.stderr()).toMatch(
      /^SIGINT: stopping the emulator safely \(again to exit at once\)$/m,
    );
    expect(stopped).toEqual({ code: 0, signal: null });
    const executed = Number(
      /emulator stopped: (\d+) strokes executed/.exec(emulator.stderr())?.[1],
    );
    expect(executed).toBeGreaterThan(0);
    expect(printed.link.strokesAccounted).toBe(executed);
  }, 240_000);
});

/**
 * `itpump fleet` and `itpump fleet merge` as a user runs them (through the command definitions,
 * in this process): what stdout ends with, patients.csv and its replay, and which sets of shards
 * the merge refuses. Fleets of a few patients over six days, run in this thread.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { alarmCodes } from '../../src/alarms.js';
import { denyReasons } from '../../src/pump/types.js';
import { DAY_MS } from '../../src/units.js';
import { maxRollingWindowSum } from '../../sim/analysis/rolling.js';
import type { HistogramSketch } from '../../sim/analysis/sketch.js';
import { exitCodeOf } from '../../sim/cliRun.js';
import { parseShard } from '../../sim/fleet/runFleet.js';
import { registerReportCommands } from '../../sim/report/commands.js';
import { InputError } from '../../sim/scenario.js';
import { smallFleetScenarioText } from './smallFleet.js';

const SCENARIO_TEXT = smallFleetScenarioText('fleet-cli-test', 700);
const VARIATION_ARGS = [
  '--motor-error-sd',
  '3 %',
  '--stalls-per-year',
  '20',
  '--clinic-after',
  '36 h',
];

let root = '';
let scenarioFile = '';

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'itpump-fleet-cli-'));
  scenarioFile = join(root, 'fleet-cli-test.yaml');
  writeFileSync(scenarioFile, SCENARIO_TEXT);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

// Shards 0, 1 and 2 of a fleet of 6 (used by the merge tests).
beforeAll(async () => {
  for (const index of [0, 1, 2]) await runShard(index, 3);
}, 60_000);

/** Runs `itpump <args>` in this process; returns its stdout and what it threw (if anything). */
async function itpump(...args: string[]): Promise<{ stdout: string; failure: unknown }> {
  let stdout = '';
  const write = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  let failure: unknown;
  try {
    const program = new Command('itpump').exitOverride();
    registerReportCommands(program);
    await program.parseAsync(args, { from: 'user' }).catch((e: unknown) => (failure = e));
  } finally {
    write.mockRestore();
    stderr.mockRestore();
  }
  return { stdout, failure };
}

/** The exit code and the one line the CLI would print for `failure`. */
function exitOf(failure: unknown): { code: number; line: string } {
  let line = '';
  const stderr = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((chunk) => ((line += String(chunk)), true));
  try {
    return { code: exitCodeOf(failure), line };
  } finally {
    stderr.mockRestore();
  }
}

const shardDir = (index: number, count: number) => join(root, `s${index}-of-${count}`);

async function runShard(index: number, count: number, patients = 6): Promise<void> {
  const { failure } = await itpump(
    'fleet',
    scenarioFile,
    '--patients',
    String(patients),
    '--workers',
    '0',
    '--shard',
    `${index}/${count}`,
    ...VARIATION_ARGS,
    '--out',
    shardDir(index, count),
  );
  expect(failure).toBeUndefined();
}

describe('itpump fleet merge', () => {
  it('refuses shards 0 and 2 of 3: exit 2, one line naming shard 1, nothing written', async () => {
    const out = join(root, 'merged-0-2');
    const { failure } = await itpump(
      'fleet',
      'merge',
      shardDir(0, 3),
      shardDir(2, 3),
      '--out',
      out,
    );
    expect(failure).toBeInstanceOf(InputError);
    const { code, line } = exitOf(failure);
    expect(code).toBe(2);
    expect(line).toBe(
      'error: fleet merge: incomplete: shard 1 of 3 (patients 2-3 of 6) is missing (--partial merges what there is)\n',
    );
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a shard given twice: exit 2, one line naming it and both directories', async () => {
    const out = join(root, 'merged-0-1-1');
    const copy = join(root, 's1-of-3-copy');
    await itpump('fleet', 'merge', shardDir(1, 3), '--partial', '--out', copy);
    const { failure } = await itpump(
      'fleet',
      'merge',
      shardDir(0, 3),
      shardDir(1, 3),
      copy,
      shardDir(2, 3),
      '--out',
      out,
    );
    const { code, line } = exitOf(failure);
    expect(code).toBe(2);
    expect(line).toMatch(/^error: fleet merge: overlapping: patients 2-3 of 6 are in both /);
    expect(line).toContain(join(shardDir(1, 3), 'fleet.json'));
    expect(line).toContain(join(copy, 'fleet.json'));
    expect(line.split('\n')).toHaveLength(2);
    expect(existsSync(out)).toBe(false);
  });

  it("refuses a shard whose patients.csv does not hold its fleet.json's patients, naming it", async () => {
    const cut = join(root, 's1-of-3-cut');
    await itpump('fleet', 'merge', shardDir(1, 3), '--partial', '--out', cut);
    const csv = join(cut, 'patients.csv');
    writeFileSync(csv, readFileSync(csv, 'utf8').split('\n').slice(0, -2).join('\n') + '\n');
    const out = join(root, 'merged-cut');
    const { failure } = await itpump(
      'fleet',
      'merge',
      shardDir(0, 3),
      cut,
      shardDir(2, 3),
      '--out',
      out,
    );
    const { code, line } = exitOf(failure);
    expect(code).toBe(2);
    expect(line).toBe(`error: ${csv}: has 1 rows but its fleet.json counts 2 patients\n`);
    expect(existsSync(out)).toBe(false);
  });

  it('merges all three, and with --partial writes what two give, exit 3', async () => {
    const all = await itpump(
      'fleet',
      'merge',
      shardDir(2, 3),
      shardDir(0, 3),
      shardDir(1, 3),
      '--out',
      join(root, 'merged-all'),
    );
    expect(all.failure).toBeUndefined();
    expect(all.stdout).toMatch(/^merged 3 shards: 6 of 6 patients$/m);

    const out = join(root, 'merged-partial');
    const partial = await itpump(
      'fleet',
      'merge',
      shardDir(0, 3),
      shardDir(2, 3),
      '--partial',
      '--out',
      out,
    );
    const { code, line } = exitOf(partial.failure);
    expect(code).toBe(3);
    expect(line).toMatch(/shard 1 of 3 \(patients 2-3 of 6\) is missing/);
    expect(JSON.parse(readFileSync(join(out, 'fleet.json'), 'utf8')).missing).toEqual([[2, 4]]);
  });
});

describe('shard numbering', () => {
  /** Every `--shard I/M --out DIR` and `fleet merge DIRS` example in a text. */
  const examples = (text: string) => ({
    shards: [...text.matchAll(/--shard (\d+)\/(\d+) --out (\S+)/g)].map((m) => ({
      index: Number(m[1]),
      count: Number(m[2]),
      out: m[3]!,
    })),
    merges: [...text.matchAll(/fleet merge ((?:\S+ )+)--out/g)].map((m) => m[1]!.trim().split(' ')),
  });

  it('is 0-based in README and --help alike, and each merge example takes shards 0 to M-1', async () => {
    const help =
      (await itpump('fleet', '--help')).stdout + (await itpump('fleet', 'merge', '--help')).stdout;
    expect(help).toMatch(/--shard <I\/M>\s+run only shard I of M \(0-based I/);
    const texts = {
      help,
      readme: readFileSync(new URL('../../README.md', import.meta.url), 'utf8'),
    };
    for (const [name, text] of Object.entries(texts)) {
      const { shards, merges } = examples(text);
      expect(shards.length, name).toBeGreaterThan(0);
      expect(merges.length, name).toBeGreaterThan(0);
      for (const shard of shards) {
        // What the CLI accepts, and an output directory named after the same index.
        expect(parseShard(`${shard.index}/${shard.count}`), name).toEqual({
          index: shard.index,
          count: shard.count,
        });
        expect(shard.out, name).toMatch(new RegExp(`s${shard.index}$`));
        for (const dirs of merges) {
          expect(dirs, name).toHaveLength(shard.count);
          expect(dirs, name).toContain(shard.out);
          expect(
            dirs.map((d) => Number(/(\d+)$/.exec(d)![1])),
            name,
          ).toEqual(Array.from({ length: shard.count }, (_, i) => i));
        }
      }
    }
  });
});

/** patients.csv as objects, empty cells as null. */
function readCsv(file: string): Record<string, number | null>[] {
  const [header, ...rows] = readFileSync(file, 'utf8').trimEnd().split('\n');
  const names = header!.split(',');
  return rows.map((row) => {
    const cells = row.split(',');
    expect(cells).toHaveLength(names.length);
    return Object.fromEntries(names.map((n, k) => [n, cells[k] === '' ? null : Number(cells[k])]));
  });
}

/** The headline table at the end of stdout, by its first column. */
function readHeadline(stdout: string) {
  const lines = stdout.trimEnd().split('\n');
  const top = lines.findIndex((l) => /^results of \d+ of \d+ patients:$/.test(l));
  expect(top).toBeGreaterThan(0);
  expect(lines[top + 1]).toMatch(/^per patient\s+median\s+p95\s+max\s+unit\s+patients$/);
  // The table is the end of stdout: its rows, then the one footnote.
  expect(lines[lines.length - 1]).toBe(
    "median, p95 and max are exact: nearest-rank percentiles of the patients' own values",
  );
  return new Map(
    lines.slice(top + 2, -1).map((line) => {
      const m = /^(.+?)\s{2,}(\S+)\s+(\S+)\s+(\S+)\s{2}(.+?)\s{2,}(\d+ of \d+.*)$/.exec(line);
      expect(m, line).not.toBeNull();
      return [m![1]!, { median: m![2]!, p95: m![3]!, max: m![4]!, unit: m![5]!, over: m![6]! }];
    }),
  );
}

/** Splits a printed command line into its arguments ("2 h" in double quotes is one). */
const commandArgs = (line: string) =>
  [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);

describe('itpump fleet: the headline, patients.csv and its replay', () => {
  const PATIENTS = 6;
  const out = () => join(root, 'whole');
  let stdout = '';
  let fleet: {
    sketches: {
      timeToLowReservoirAlarm: HistogramSketch;
      deniedFraction: Record<string, HistogramSketch>;
      alarmRate: Record<string, HistogramSketch>;
      highest24hDoseOfHardMax: Record<string, HistogramSketch>;
    };
    spec: { drugs: { drug: string }[] };
  };

  beforeAll(async () => {
    const run = await itpump(
      'fleet',
      scenarioFile,
      '--patients',
      String(PATIENTS),
      '--workers',
      '0',
      ...VARIATION_ARGS,
      '--out',
      out(),
    );
    expect(run.failure).toBeUndefined();
    stdout = run.stdout;
    fleet = JSON.parse(readFileSync(join(out(), 'fleet.json'), 'utf8'));
  }, 60_000);

  it('writes one row per patient, in patient order, with its seed', () => {
    const rows = readCsv(join(out(), 'patients.csv'));
    expect(rows.map((r) => [r.patient, r.seed])).toEqual(
      Array.from({ length: PATIENTS }, (_, i) => [i, 700 + i]),
    );
    for (const r of rows) {
      expect(r.simulated_ms).toBe(6 * DAY_MS);
      const denied = denyReasons.reduce((n, reason) => n + r[`denied_${reason}`]!, 0);
      expect(r.denied_ppm).toBe(Math.round((denied * 1e6) / r.presses_requested!));
    }
  });

  it("ends stdout with the headline table, whose figures are those of patients.csv's rows", () => {
    const rows = readCsv(join(out(), 'patients.csv'));
    const table = readHeadline(stdout);
    const raised = alarmCodes.filter((c) => rows.some((r) => r[`alarms_${c}`]! > 0));
    expect(raised.length).toBeGreaterThan(1); // low reservoir, and stalls at 20 a year
    const expected: [string, string, HistogramSketch, number][] = [
      [
        'time to the low-reservoir alarm',
        'first_low_reservoir_alarm_ms',
        fleet.sketches.timeToLowReservoirAlarm,
        DAY_MS,
      ],
      ['presses denied', 'denied_ppm', fleet.sketches.deniedFraction.any!, 10_000],
      ...raised.map(
        (c) =>
          [
            `${c} alarms`,
            `alarm_rate_${c}_per_1000_years`,
            fleet.sketches.alarmRate[c]!,
            1_000,
          ] as [string, string, HistogramSketch, number],
      ),
      ...fleet.spec.drugs.map(
        ({ drug }) =>
          [
            `highest 24-h dose of ${drug}`,
            `${drug}_highest_24h_bp_of_hard_max`,
            fleet.sketches.highest24hDoseOfHardMax[drug]!,
            100,
          ] as [string, string, HistogramSketch, number],
      ),
    ];
    expect([...table.keys()]).toEqual(expected.map(([label]) => label));
    for (const [label, column, fleetSketch, perDisplayUnit] of expected) {
      const shown = table.get(label)!;
      const values = rows.flatMap((r) => (r[column] === null ? [] : [r[column]!]));
      // Who it is over: those who reached the alarm, pressed, ... ; for an alarm, those who had one.
      const over = column.startsWith('alarm_rate_')
        ? values.filter((v) => v > 0).length
        : values.length;
      expect(shown.over, label).toMatch(new RegExp(`^${over} of ${PATIENTS}( |$)`));
      const sorted = [...values].sort((a, b) => a - b);
      const show = (v: number) => (v / perDisplayUnit).toFixed(2);
      // max, median and p95 are exact: nearest-rank order statistics of the rows' values.
      expect(shown.max, label).toBe(show(sorted[sorted.length - 1]!));
      expect(shown.median, label).toBe(show(sorted[Math.ceil(0.5 * sorted.length) - 1]!));
      expect(shown.p95, label).toBe(show(sorted[Math.ceil(0.95 * sorted.length) - 1]!));
      expect(fleetSketch.count, label).toBe(values.length);
    }
  });

  it('replays any row with the command it prints: the replayed patient has the figures of its row', async () => {
    const rows = readCsv(join(out(), 'patients.csv'));
    const row = rows.find((r) => r.stalls! > 0) ?? rows[2]!;
    const printed = /^replay the patient of any row of patients\.csv: itpump (.+)$/m.exec(stdout);
    expect(printed).not.toBeNull();
    const args = commandArgs(printed![1]!.replace('<patient>', String(row.patient)));
    const dir = join(root, `replay-${row.patient}`);
    const replay = await itpump(...args, '--out', dir);
    expect(replay.failure).toBeUndefined();
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    const alarms = summary.alarms as { code: string; raisedAtMs: number }[];
    const first = (code: string) => alarms.find((a) => a.code === code)?.raisedAtMs ?? null;
    expect({
      seed: summary.seed,
      simulated_ms: summary.simulatedMs,
      stroke_volume_error_ppm: summary.settings.motor.strokeVolumeErrorPpm,
      presses_requested: summary.presses.requested,
      ...Object.fromEntries(
        denyReasons.map((r) => [`denied_${r}`, summary.presses.deniedByReason[r]]),
      ),
      ...Object.fromEntries(
        alarmCodes.map((c) => [`alarms_${c}`, alarms.filter((a) => a.code === c).length]),
      ),
      first_low_reservoir_alarm_ms: first('lowReservoir'),
      first_empty_reservoir_alarm_ms: first('emptyReservoir'),
      true_reservoir_dry_ms: summary.reservoir.ranDryAtMs,
    }).toEqual({
      seed: row.seed,
      simulated_ms: row.simulated_ms,
      stroke_volume_error_ppm: row.stroke_volume_error_ppm,
      presses_requested: row.presses_requested,
      ...Object.fromEntries(denyReasons.map((r) => [`denied_${r}`, row[`denied_${r}`]])),
      ...Object.fromEntries(alarmCodes.map((c) => [`alarms_${c}`, row[`alarms_${c}`]])),
      first_low_reservoir_alarm_ms: row.first_low_reservoir_alarm_ms,
      first_empty_reservoir_alarm_ms: row.first_empty_reservoir_alarm_ms,
      true_reservoir_dry_ms: row.true_reservoir_dry_ms,
    });
    // The highest 24-h dose, from the replay's hourly trace.
    const trace = readCsv(join(dir, 'trace.csv'));
    for (const { drug } of fleet.spec.drugs) {
      const highest = maxRollingWindowSum(
        trace.map((t) => ({ timeMs: t.time_ms!, value: t[`${drug}_true_delivered_pg`]! })),
        DAY_MS,
      );
      expect(highest?.value, drug).toBe(row[`${drug}_highest_24h_pg`]);
    }
  });

  it('gives the same patients.csv and headline through shards and merge', async () => {
    const merged = join(root, 'merged-whole');
    const merge = await itpump(
      'fleet',
      'merge',
      shardDir(1, 3),
      shardDir(0, 3),
      shardDir(2, 3),
      '--out',
      merged,
    );
    expect(merge.failure).toBeUndefined();
    expect(readFileSync(join(merged, 'patients.csv'), 'utf8')).toBe(
      readFileSync(join(out(), 'patients.csv'), 'utf8'),
    );
    const headline = (text: string) => text.slice(text.indexOf('results of '));
    expect(headline(merge.stdout)).toBe(headline(stdout));
  });
});

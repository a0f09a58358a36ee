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
import { exitCodeOf } from '../../sim/cliRun.js';
import { parseShard } from '../../sim/fleet/runFleet.js';
import { registerReportCommands } from '../../sim/report/commands.js';
import { InputError } from '../../sim/scenario.js';

const SCENARIO_TEXT = `
name: fleet-cli-test
seed: 700
duration: 6d
pump: { lowReservoir: 2 mL, emptyReservoir: 0.5 mL }
initialFill: { volume: 4 mL, mixture: [{ drug: morphine, concentration: 2 mg/mL }, { drug: clonidine, concentration: 100 ug/mL }] }
prescription: { mode: continuous, dose: 1 mg/day }
ptm: { bolusDose: 0.1 mg, bolusDuration: 10 min, lockout: 3 h, maxPer24h: 4 }
demand: { episodesPerDay: 2, pressesPerEpisode: [1, 4] }
`;
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
  beforeAll(async () => {
    for (const index of [0, 1, 2]) await runShard(index, 3);
  }, 60_000);

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

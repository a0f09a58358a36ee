/**
 * The definitions of `itpump report`, `itpump fleet` and `itpump fleet merge`: descriptions,
 * arguments, options with their parsers, defaults and help. The actions are in sim/report/cli.ts,
 * imported when a command runs, so that `itpump --help` loads commander and these definitions
 * only (not the scenario schema, the controller or vega).
 *
 *   itpump report <dir> [--out DIR] [--scenario FILE]
 *   itpump fleet <scenario> --patients N [--workers K] [--shard I/M] [--out DIR] [--seed BASE]
 *                [--motor-error-sd PCT] [--stalls-per-year R] [--stall-duration DUR] [--clinic-after DUR]
 *                [--replay I]
 *   itpump fleet merge <dirs...> --out DIR [--partial]   (missing or overlapping shards: exit 2)
 */
import type { Command } from 'commander';
import { parseDurationMs, QuantityError } from '../../src/units.js';
import { exitCodesText, withExamples } from '../cliRun.js';
import { InputError } from '../inputError.js';
import type { FleetCliOptions } from './cliOptions.js';

/**
 * The help's defaults of the fleet's variation, as `DEFAULT_VARIATION` (sim/fleet/patient.ts,
 * which loads the simulation) has them; tests/cli/signals.test.ts checks that they agree.
 */
export const variationHelpDefaults = {
  motorErrorSdPercent: 2.5,
  stallsPerYear: 0.1,
  stallDuration: '2 h',
  clinicAfter: '2 d',
};

function integerOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw new InputError(`${name}: "${value}" is not an integer from ${min} to ${max}`);
    return n;
  };
}

/** "2.5 %", "2.5%", "25000 ppm" or a bare number of percent, in ppm. */
function percentPpm(name: string) {
  return (value: string): number => {
    const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(%|ppm)?\s*$/.exec(value);
    if (!m) throw new InputError(`${name}: "${value}" is not a percentage such as "2.5 %"`);
    return Math.round(Number(m[1]) * (m[2] === 'ppm' ? 1 : 10_000));
  };
}

function nonNegativeNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0)
      throw new InputError(`${name}: "${value}" is not a number ≥ 0`);
    return n;
  };
}

function durationOption(name: string) {
  return (value: string): number => {
    try {
      const ms = parseDurationMs(value);
      if (ms < 1) throw new QuantityError('zero');
      return ms;
    } catch {
      throw new InputError(`${name}: "${value}" is not a duration such as "2 h"`);
    }
  };
}

/** The actions, loaded when a command runs (they import the simulation, zod and vega). */
const actions = () => import('./cli.js');

export function registerReportCommands(program: Command): void {
  // `fleet` and `fleet merge` both have --out: without positional options the top level would hand
  // `fleet merge a b --out X`'s --out to `fleet` instead of `merge` (commander parses unknown
  // top-level options into the first subcommand). Top-level options then go before the command.
  program.enablePositionalOptions();
  registerReportCommand(program);
  const fleet = registerFleetCommand(program);
  registerFleetMergeCommand(fleet);
}

function registerReportCommand(program: Command): void {
  const command = program
    .command('report')
    .description(
      "re-create report.html and the chart SVGs from an earlier run's summary.json, events.jsonl and trace.csv",
    )
    .argument('<dir>', 'output directory of an earlier `itpump run`')
    .option('--out <dir>', 'where to write the report (default: the same directory)')
    .option(
      '--scenario <file>',
      "the run's scenario, for its drug library (when the directory has no drug-library.json)",
    )
    .action(async (dir: string, opts: { out?: string; scenario?: string }) =>
      (await actions()).reportAction(dir, opts),
    );
  withExamples(
    command,
    [
      'itpump report out/mine',
      'itpump report out/mine --scenario my-scenario.yaml --out out/mine-report',
    ],
    exitCodesText(),
  );
}

function registerFleetCommand(program: Command): Command {
  const fleet = program
    .command('fleet')
    .description(
      'run N virtual patients of a scenario (seeds base + index) across worker threads; write fleet.json, patients.csv (a row per patient), charts and report.html; end with the headline results',
    )
    .argument('<scenario>', 'scenario file (YAML or JSON)')
    .option(
      '--patients <n>',
      'N, the patients of the whole fleet (required)',
      integerOption('--patients', 1, 10_000_000),
    )
    .option(
      '--workers <k>',
      'worker threads (0 = run in this thread)',
      integerOption('--workers', 0, 64),
      1,
    )
    .option('--shard <I/M>', 'run only shard I of M (0-based I, e.g. $JOB_COMPLETION_INDEX/8)')
    .option('--out <dir>', 'output directory (default: out/fleet/<scenario>[/shard-I-of-M])')
    .option(
      '--seed <base>',
      "seed of patient 0 (default: the scenario's seed)",
      integerOption('--seed', 0, 2 ** 31 - 1),
    );
  addVariationOptions(fleet);
  fleet
    .option(
      '--replay <index>',
      'run only patient INDEX, as the fleet varies it, and write its run outputs and report',
      integerOption('--replay', 0, 10_000_000),
    )
    .enablePositionalOptions()
    .action(async (file: string, opts: FleetCliOptions) =>
      (await actions()).fleetAction(file, opts),
    );
  withExamples(
    fleet,
    [
      'itpump fleet my-scenario.yaml --patients 1000 --workers 2',
      'itpump fleet my-scenario.yaml --patients 1000 --shard 0/4 --out out/s0   # shard 0 of four (0-based: 0/4 to 3/4)',
      'itpump fleet my-scenario.yaml --patients 1000 --replay 17   # patient 17 alone, with its report',
    ],
    exitCodesText(
      'interrupted by Ctrl-C or SIGTERM: the patients completed so far are written, marked incomplete',
    ),
  );
  return fleet;
}

/** How the fleet's patients vary: motor error, stalls, and how soon the clinic clears them. */
function addVariationOptions(fleet: Command): void {
  const d = variationHelpDefaults;
  fleet
    .option(
      '--motor-error-sd <pct>',
      `spread of the per-patient stroke-volume error (default ${d.motorErrorSdPercent} %)`,
      percentPpm('--motor-error-sd'),
    )
    .option(
      '--stalls-per-year <r>',
      `motor-stall faults per patient-year (default ${d.stallsPerYear})`,
      nonNegativeNumber('--stalls-per-year'),
    )
    .option(
      '--stall-duration <d>',
      `how long each stall lasts (default ${d.stallDuration})`,
      durationOption('--stall-duration'),
    )
    .option(
      '--clinic-after <d>',
      `from the end of a stall to the clinician clearing the alarms (default ${d.clinicAfter})`,
      durationOption('--clinic-after'),
    );
}

function registerFleetMergeCommand(fleet: Command): void {
  const command = fleet
    .command('merge')
    .description(
      'join shard outputs (their fleet.json) into the result of one run over all of them',
    )
    .argument('<dirs...>', 'shard output directories')
    .requiredOption('--out <dir>', 'output directory of the merged fleet')
    .option(
      '--partial',
      'merge shards that miss patients anyway: the outputs say which are missing (exit 3)',
    )
    .action(async (dirs: string[], opts: { out: string; partial?: boolean }) =>
      (await actions()).fleetMergeAction(dirs, opts),
    );
  withExamples(
    command,
    ['itpump fleet merge out/s0 out/s1 out/s2 out/s3 --out out/fleet   # same result as one run'],
    exitCodesText(
      undefined,
      'with --partial, the shards miss patients: the merged outputs are written and say so (without it: exit 2, naming the missing shards)',
    ),
  );
}

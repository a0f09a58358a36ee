/**
 * The report and fleet commands of `itpump`, registered onto the main program (sim/cli.ts):
 *
 *   itpump report <dir> [--out DIR] [--scenario FILE]
 *   itpump fleet <scenario> --patients N [--workers K] [--shard I/M] [--out DIR] [--seed BASE]
 *                [--motor-error-sd PCT] [--stalls-per-year R] [--stall-duration DUR] [--clinic-after DUR]
 *                [--replay I]
 *   itpump fleet merge <dirs...> --out DIR
 *
 * Bad input throws `InputError` (exit code 2, nothing written), as every other command. Results
 * go to stdout; the fleet's progress bar goes to stderr (sim/fleet/progress.ts).
 */
import { basename, extname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { parseDurationMs, QuantityError } from '../../src/units.js';
import { AnalysisInputError } from '../analysis/inputError.js';
import {
  DEFAULT_VARIATION,
  drawPatient,
  patientScenario,
  YEAR_MS,
  type FleetVariation,
} from '../fleet/patient.js';
import { mergeFleetDirs, writeFleetOutputs } from '../fleet/output.js';
import { createProgress } from '../fleet/progress.js';
import { parseShard, runFleet, shardRange, type FleetOptions } from '../fleet/runFleet.js';
import { missingPatients, type FleetAggregate } from '../fleet/aggregate.js';
import { writeOutputs } from '../outputs.js';
import { runScenario } from '../runner.js';
import { InputError, loadScenario, type Scenario } from '../scenario.js';
import { formatSummary } from '../summary.js';
import { readRunDir } from './runData.js';
import { writeRunDataReport, writeRunReport } from './runReport.js';

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

interface FleetCliOptions {
  patients?: number;
  workers: number;
  shard?: string;
  out?: string;
  seed?: number;
  motorErrorSd?: number;
  stallsPerYear?: number;
  stallDuration?: number;
  clinicAfter?: number;
  replay?: number;
}

/**
 * One patient of a fleet as a full run: the scenario with that patient's drawn motor error and
 * stalls, its seed, then the usual outputs and report. The run samples its trace as `itpump run`
 * does, so with stroke-volume noise its figures can differ slightly from the fleet's (docs/fleet.md).
 */
async function replayPatient(
  scenario: Scenario,
  index: number,
  patients: number,
  baseSeed: number,
  variation: FleetVariation,
  out: string,
): Promise<void> {
  if (index >= patients)
    throw new InputError(`--replay: ${index}: the fleet has patients 0 to ${patients - 1}`);
  const seed = baseSeed + index;
  const draw = drawPatient(scenario, seed, variation);
  process.stdout.write(
    `patient ${index}: seed ${seed}, stroke-volume error ${draw.strokeVolumeErrorPpm / 10_000} %, ${draw.stallStartsMs.length} stall(s)\n`,
  );
  const result = runScenario(patientScenario(scenario, draw, variation), { seed });
  const files = [...writeOutputs(result, out), ...(await writeRunReport(result, out))];
  process.stdout.write(`${formatSummary(result.summary)}\n\nwrote ${files.join(', ')}\n`);
}

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
  program
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
    .action(reportAction);
}

/** `report`: read an earlier run's files and write its report next to them (or to --out). */
async function reportAction(dir: string, opts: { out?: string; scenario?: string }): Promise<void> {
  const data = readRunDir(dir, opts.scenario ? { scenario: loadScenario(opts.scenario) } : {});
  let files: string[];
  try {
    files = await writeRunDataReport(data, opts.out ?? dir);
  } catch (e) {
    // Files that parse but cannot be analysed (a trace going back in time, a dose that
    // shrinks) are bad input too: exit code 2, naming the directory and the field.
    if (e instanceof AnalysisInputError) throw new InputError(`${dir}: ${e.message}`);
    throw e;
  }
  process.stdout.write(`wrote ${files.join(', ')}\n`);
}

function registerFleetCommand(program: Command): Command {
  const fleet = program
    .command('fleet')
    .description(
      'run N virtual patients of a scenario (seeds base + index) across worker threads; write fleet.json, charts and report.html',
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
  return fleet
    .option(
      '--replay <index>',
      'run only patient INDEX, as the fleet varies it, and write its run outputs and report',
      integerOption('--replay', 0, 10_000_000),
    )
    .enablePositionalOptions()
    .action(fleetAction);
}

/** How the fleet's patients vary: motor error, stalls, and how soon the clinic clears them. */
function addVariationOptions(fleet: Command): void {
  fleet
    .option(
      '--motor-error-sd <pct>',
      `spread of the per-patient stroke-volume error (default ${DEFAULT_VARIATION.motorErrorSdPpm / 10_000} %)`,
      percentPpm('--motor-error-sd'),
    )
    .option(
      '--stalls-per-year <r>',
      `motor-stall faults per patient-year (default ${DEFAULT_VARIATION.stallsPerYear})`,
      nonNegativeNumber('--stalls-per-year'),
    )
    .option(
      '--stall-duration <d>',
      'how long each stall lasts (default 2 h)',
      durationOption('--stall-duration'),
    )
    .option(
      '--clinic-after <d>',
      'from the end of a stall to the clinician clearing the alarms (default 2 d)',
      durationOption('--clinic-after'),
    );
}

function fleetVariation(opts: FleetCliOptions): FleetVariation {
  return {
    motorErrorSdPpm: opts.motorErrorSd ?? DEFAULT_VARIATION.motorErrorSdPpm,
    stallsPerYear: opts.stallsPerYear ?? DEFAULT_VARIATION.stallsPerYear,
    stallDurationMs: opts.stallDuration ?? DEFAULT_VARIATION.stallDurationMs,
    clinicResponseMs: opts.clinicAfter ?? DEFAULT_VARIATION.clinicResponseMs,
  };
}

/** `fleet`: replay one patient, or run the fleet (or one shard of it) and write its outputs. */
async function fleetAction(file: string, opts: FleetCliOptions): Promise<void> {
  // Checked here rather than with requiredOption: commander checks a parent's required options
  // for its subcommands too, and `fleet merge` has no --patients.
  if (opts.patients === undefined) throw new InputError('fleet: --patients N is required');
  const patients = opts.patients;
  const scenario = loadScenario(file);
  const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
  const variation = fleetVariation(opts);
  const name = basename(file, extname(file));
  const baseSeed = opts.seed ?? scenario.seed;
  if (opts.replay !== undefined) {
    await replayPatient(
      scenario,
      opts.replay,
      patients,
      baseSeed,
      variation,
      opts.out ?? join('out', 'fleet', name, `patient-${opts.replay}`),
    );
    return;
  }
  const out =
    opts.out ??
    join('out', 'fleet', name, ...(shard ? [`shard-${shard.index}-of-${shard.count}`] : []));
  process.stdout.write(
    `itpump fleet ${file} --patients ${patients} --seed ${baseSeed}${shard ? ` --shard ${shard.index}/${shard.count}` : ''} --workers ${opts.workers}\n` +
      `variation: ${JSON.stringify(variation)}\n`,
  );
  const started = performance.now();
  const aggregate = await runFleetWithProgress({
    scenario,
    patients,
    workers: opts.workers,
    ...(shard ? { shard } : {}),
    baseSeed,
    variation,
  });
  const seconds = (performance.now() - started) / 1000;
  const files = await writeFleetOutputs(aggregate, out);
  const years = aggregate.totals.simulatedMs / YEAR_MS;
  process.stdout.write(
    `${aggregate.totals.patients} patients (${years.toFixed(1)} patient-years) in ${seconds.toFixed(1)} s with ${opts.workers} worker${opts.workers === 1 ? '' : 's'}` +
      ` (${(aggregate.totals.patients / Math.max(seconds, 1e-3)).toFixed(1)} patients/s)\nwrote ${files.length} files to ${out} (fleet.json, report.html, charts)\n`,
  );
}

/** Run the fleet with a progress bar on stderr (sim/fleet/progress.ts). */
async function runFleetWithProgress(
  spec: Omit<FleetOptions, 'onProgress'>,
): Promise<FleetAggregate> {
  const { shard } = spec;
  const progress = createProgress(shard ? `fleet shard ${shard.index}/${shard.count}` : 'fleet');
  const [from, to] = shardRange(spec.patients, shard);
  progress.update(0, to - from); // the bar and its ETA start with the run, not with the first patient
  try {
    return await runFleet({ ...spec, onProgress: (done, total) => progress.update(done, total) });
  } finally {
    progress.stop();
  }
}

function registerFleetMergeCommand(fleet: Command): void {
  fleet
    .command('merge')
    .description(
      'join shard outputs (their fleet.json) into the result of one run over all of them',
    )
    .argument('<dirs...>', 'shard output directories')
    .requiredOption('--out <dir>', 'output directory of the merged fleet')
    .action(fleetMergeAction);
}

/** `fleet merge`: join the shards' fleet.json and write the merged fleet's outputs. */
async function fleetMergeAction(dirs: string[], opts: { out: string }): Promise<void> {
  const merged = mergeFleetDirs(dirs);
  const files = await writeFleetOutputs(merged, opts.out);
  const missing = missingPatients(merged);
  process.stdout.write(
    `merged ${dirs.length} shard${dirs.length === 1 ? '' : 's'}: ${merged.totals.patients} of ${merged.spec.patients} patients` +
      (missing.length > 0
        ? ` (incomplete: missing ${missing.map(([f, t]) => `${f}-${t - 1}`).join(', ')})`
        : '') +
      `\nwrote ${files.length} files to ${opts.out}\n`,
  );
}

/**
 * The actions of `itpump report`, `itpump fleet` and `itpump fleet merge`. The commands
 * (descriptions, options, help) are defined in sim/report/commands.ts, which imports this module
 * when one of them runs.
 *
 * Bad input throws `InputError` (exit code 2, nothing written), as every other command. Results
 * go to stdout, a fleet's ending with its headline table (sim/fleet/headline.ts); the fleet's progress bar goes to stderr (sim/fleet/progress.ts). The first Ctrl-C
 * or SIGTERM of a fleet stops it: the patients completed so far are written, marked incomplete,
 * and the exit code is 130; a second one exits 130 at once.
 */
import { basename, extname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AnalysisInputError } from '../analysis/inputError.js';
import {
  DEFAULT_VARIATION,
  drawPatient,
  patientScenario,
  YEAR_MS,
  type FleetVariation,
} from '../fleet/patient.js';
import { fleetHeadline } from '../fleet/headline.js';
import { mergeShardDirs, writeFleetOutputs } from '../fleet/output.js';
import { mergePatientsCsv, PATIENTS_CSV, PatientsCsvWriter } from '../fleet/patientsCsv.js';
import { createProgress } from '../fleet/progress.js';
import {
  fleetSpecOf,
  parseShard,
  runFleet,
  shardRange,
  type FleetOptions,
} from '../fleet/runFleet.js';
import type { FleetAggregate } from '../fleet/aggregate.js';
import { formatDurationMs } from '../../src/units.js';
import { interruptOnSignals, Interrupted } from '../cliRun.js';
import { writeOutputs } from '../outputs.js';
import { runScenario } from '../runner.js';
import { InputError, loadScenario, type Scenario } from '../scenario.js';
import { formatSummary } from '../summary.js';
import { readRunDir } from './runData.js';
import { writeRunDataReport, writeRunReport } from './runReport.js';
import type { FleetCliOptions } from './cliOptions.js';

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

/** `report`: read an earlier run's files and write its report next to them (or to --out). */
export async function reportAction(
  dir: string,
  opts: { out?: string; scenario?: string },
): Promise<void> {
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

function fleetVariation(opts: FleetCliOptions): FleetVariation {
  return {
    motorErrorSdPpm: opts.motorErrorSd ?? DEFAULT_VARIATION.motorErrorSdPpm,
    stallsPerYear: opts.stallsPerYear ?? DEFAULT_VARIATION.stallsPerYear,
    stallDurationMs: opts.stallDuration ?? DEFAULT_VARIATION.stallDurationMs,
    clinicResponseMs: opts.clinicAfter ?? DEFAULT_VARIATION.clinicResponseMs,
  };
}

/** `fleet`: replay one patient, or run the fleet (or one shard of it) and write its outputs. */
export async function fleetAction(file: string, opts: FleetCliOptions): Promise<void> {
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
  await runAndWriteFleet(
    { scenario, patients, workers: opts.workers, ...(shard ? { shard } : {}), baseSeed, variation },
    out,
    replayCommand(file, patients, baseSeed, variation),
  );
}

/**
 * Run the fleet and write its outputs. The first SIGINT or SIGTERM stops it: the patients
 * completed so far are written (fleet.json then says `complete: false` and lists the missing
 * patients, as the report does) and `Interrupted` is thrown (exit code 130).
 */
async function runAndWriteFleet(
  spec: Omit<FleetOptions, 'onProgress' | 'signal' | 'onPatient'>,
  out: string,
  replay: string,
): Promise<void> {
  const interrupt = interruptOnSignals('the fleet');
  try {
    const started = performance.now();
    const csv = new PatientsCsvWriter(join(out, PATIENTS_CSV), fleetSpecOf(spec));
    const aggregate = await runFleetWithProgress({
      ...spec,
      signal: interrupt.signal,
      onPatient: (outcome) => csv.write(outcome),
    });
    csv.close();
    const seconds = (performance.now() - started) / 1000;
    const files = [csv.file, ...(await writeFleetOutputs(aggregate, out))];
    const years = aggregate.totals.simulatedMs / YEAR_MS;
    const done = aggregate.totals.patients;
    const workers = spec.workers ?? 1;
    process.stdout.write(
      `${done} patients (${years.toFixed(1)} patient-years) in ${seconds.toFixed(1)} s with ${workers} worker${workers === 1 ? '' : 's'}` +
        ` (${(done / Math.max(seconds, 1e-3)).toFixed(1)} patients/s)\n` +
        `wrote ${files.length} files to ${out} (fleet.json, ${PATIENTS_CSV}, report.html, charts)\n` +
        `replay the patient of any row of ${PATIENTS_CSV}: ${replay}\n`,
    );
    const [from, to] = shardRange(spec.patients, spec.shard);
    const interrupted = done < to - from;
    if (interrupted)
      process.stdout.write(
        `interrupted: ${done} of ${to - from} patients completed; fleet.json says "complete": false and lists the missing patients\n`,
      );
    process.stdout.write(`\n${fleetHeadline(aggregate)}`);
    if (interrupted)
      throw new Interrupted(
        `the fleet was stopped after ${done} of ${to - from} patients; incomplete outputs written to ${out}`,
      );
  } finally {
    interrupt.dispose();
  }
}

/**
 * The command that replays patient `<patient>` of this fleet: the same scenario, N, base seed and
 * variation, and `--replay` with the patients.csv column of that name.
 */
function replayCommand(
  file: string,
  patients: number,
  baseSeed: number,
  v: FleetVariation,
): string {
  return [
    `itpump fleet ${file} --patients ${patients} --seed ${baseSeed}`,
    `--motor-error-sd "${v.motorErrorSdPpm} ppm" --stalls-per-year ${v.stallsPerYear}`,
    `--stall-duration "${formatDurationMs(v.stallDurationMs)}" --clinic-after "${formatDurationMs(v.clinicResponseMs)}"`,
    '--replay <patient>',
  ].join(' ');
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

/**
 * `fleet merge`: join the shards' fleet.json and write the merged fleet's outputs. A set of shards
 * that misses patients is refused (exit 2, nothing written) unless `--partial`: then the outputs
 * of what there is are written, say what is missing, and the exit code is 3.
 */
export async function fleetMergeAction(
  dirs: string[],
  opts: { out: string; partial?: boolean },
): Promise<void> {
  const {
    aggregate: merged,
    shards,
    incomplete,
  } = mergeShardDirs(dirs, { partial: opts.partial === true });
  const csv = join(opts.out, PATIENTS_CSV);
  const csvSkipped = mergePatientsCsv(
    shards.map((s) => ({ csv: join(s.dir, PATIENTS_CSV), aggregate: s.aggregate })),
    merged.spec,
    csv,
  );
  const files = [...(csvSkipped ? [] : [csv]), ...(await writeFleetOutputs(merged, opts.out))];
  process.stdout.write(
    `merged ${dirs.length} shard${dirs.length === 1 ? '' : 's'}: ${merged.totals.patients} of ${merged.spec.patients} patients` +
      (incomplete !== undefined ? ` (incomplete: ${incomplete})` : '') +
      `\nwrote ${files.length} files to ${opts.out}\n` +
      (csvSkipped ? `${PATIENTS_CSV} not written: ${csvSkipped.skipped}\n` : '') +
      `\n${fleetHeadline(merged)}`,
  );
  if (incomplete !== undefined) {
    const { IncompleteFleet } = await import('../cliRun.js');
    throw new IncompleteFleet(
      `fleet merge: incomplete: ${incomplete}; the merged outputs in ${opts.out} say so`,
    );
  }
}

#!/usr/bin/env node
/**
 * `itpump`: the command line for firmware engineers, QA and rig operators.
 *
 * Exit codes (sim/cliRun.ts, shown in every command's help): 0 done; 2 invalid input (the message
 * names the file, the field, the value and the limit, and no output is written) or a path that
 * cannot be used; 1 internal error; 130 interrupted, after writing the outputs.
 *
 * Start-up is kept short: this module loads commander and the command definitions only; each
 * command's action imports what it needs (the scenario schema, the controller, vega, serialport).
 */
import { readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { Command } from 'commander';
import {
  exitCodesText,
  interruptOnSignals,
  Interrupted,
  NotRunAsWritten,
  runProgram,
  withExamples,
} from './cliRun.js';
import { InputError } from './inputError.js';
import { registerRigCommands } from './rig/commands.js';
import { registerReportCommands } from './report/commands.js';
import { registerLiveCommand } from './live/commands.js';

/** Bad input found while setting the pump up names the file it came from. */
function inFile<T>(file: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof InputError && !e.message.startsWith(file))
      throw new InputError(`${file}: ${e.message}`);
    throw e;
  }
}

export const defaultScenarioPath = new URL('./scenarios/default.yaml', import.meta.url).pathname;

/** The package's version, from its package.json (one level up from sim/, two from dist/sim/). */
export function packageVersion(): string {
  for (const up of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'itpump' && pkg.version) return pkg.version;
    } catch {
      // not this level
    }
  }
  return 'unknown';
}

function seedOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 31 - 1)
    throw new InputError(`--seed: "${value}" is not an integer from 0 to 2147483647`);
  return n;
}

export function buildCli(): Command {
  const program = new Command('itpump')
    .description('Firmware simulator of an implantable intrathecal drug pump')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const run = program
    .command('run')
    .description(
      'run a scenario in virtual time and write summary.json, events.jsonl and trace.csv',
    )
    .argument('[scenario]', 'scenario file (YAML or JSON)', defaultScenarioPath)
    .option('--out <dir>', 'output directory (default: out/<scenario name>)')
    .option('--seed <n>', "seed (overrides the scenario's)", seedOption)
    .option('--json', 'print the summary as JSON instead of text')
    .option('--report', 'also write report.html and the chart SVGs next to the outputs')
    .option(
      '--strict',
      'exit 3 when the pump refused a timeline command or an event lies after the end',
    )
    .action(runAction);
  withExamples(
    run,
    [
      'itpump run                                   # the default six-month scenario',
      'itpump run my-scenario.yaml --seed 7 --out out/mine --report',
      'itpump run my-scenario.yaml --strict          # fail on any refused command',
    ],
    exitCodesText(
      'interrupted by Ctrl-C or SIGTERM (the pump stopped safely; outputs written)',
      'with --strict: the pump refused timeline commands, or events lie after the end (outputs written)',
    ),
  );

  withExamples(
    program
      .command('validate')
      .description(
        'check a scenario: load it, then run it in virtual time without writing anything, and list every timeline command the pump would refuse and every event after the end',
      )
      .argument('<scenario>', 'scenario file (YAML or JSON)')
      .action(validateAction),
    ['itpump validate my-scenario.yaml'],
    exitCodesText(
      undefined,
      'valid, but the pump would refuse timeline commands, or events lie after the end (each listed)',
    ),
  );

  withExamples(
    program
      .command('schema')
      .description('print the JSON Schema of scenario files (for editors)')
      .action(async () => {
        const { scenarioJsonSchema } = await import('./scenario.js');
        process.stdout.write(JSON.stringify(scenarioJsonSchema(), null, 2) + '\n');
      }),
    ['itpump schema > scenario.schema.json'],
  );

  registerRigCommands(program);
  registerReportCommands(program);
  registerLiveCommand(program, defaultScenarioPath);
  markRequiredOptions(program);
  return program;
}

/** What stops a scenario from running as written, in one sentence, or undefined when nothing does. */
function notRunAsWritten(
  file: string,
  summary: { refusedCommands: unknown[]; eventsAfterEnd: unknown[] },
): NotRunAsWritten | undefined {
  const refused = summary.refusedCommands.length;
  const after = summary.eventsAfterEnd.length;
  if (refused === 0 && after === 0) return undefined;
  const parts = [
    refused > 0 ? `the pump refuses ${refused} timeline command${refused === 1 ? '' : 's'}` : '',
    after > 0 ? `${after} event${after === 1 ? ' lies' : 's lie'} after the end` : '',
  ].filter((p) => p !== '');
  return new NotRunAsWritten(`${file}: not run as written: ${parts.join(', and ')}`);
}

async function validateAction(file: string): Promise<void> {
  const { loadScenario } = await import('./scenario.js');
  const { runScenario } = await import('./runner.js');
  const { formatTimeMs } = await import('../src/units.js');
  const { notRunLines } = await import('./summary.js');
  const s = loadScenario(file);
  // Run it as `run` would, writing nothing: a set-up the pump refuses is invalid input (exit 2);
  // timeline commands it refuses, and events after the end, are listed (exit 3).
  // Records in the simulated memory change no decision; they are kept only when the timeline
  // resets the pump or corrupts its memory, which read them back.
  const persist = s.timeline.some((e) => e.reset !== undefined || e.corruptMemory !== undefined);
  const { summary } = inFile(file, () => runScenario(s, { seed: s.seed, persist }));
  const events = `${s.timeline.length} timeline event${s.timeline.length === 1 ? '' : 's'}`;
  process.stdout.write(
    `${file}: valid (${s.name}, ${events}; ran ${formatTimeMs(summary.simulatedMs)} in virtual time)\n`,
  );
  const lines = notRunLines(summary);
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
  const problem = notRunAsWritten(file, summary);
  if (problem) throw problem;
}

async function runAction(
  file: string,
  opts: { out?: string; seed?: number; json?: boolean; report?: boolean; strict?: boolean },
): Promise<void> {
  const { loadScenario } = await import('./scenario.js');
  const { runScenarioInterruptible } = await import('./runner.js');
  const { writeOutputs } = await import('./outputs.js');
  const { formatSummary } = await import('./summary.js');
  const scenario = loadScenario(file);
  const seed = opts.seed ?? scenario.seed;
  // Armed before the first line, so a Ctrl-C that follows it always finds the handler.
  const interrupt = interruptOnSignals('the run');
  if (!opts.json) process.stdout.write(`itpump run ${file} --seed ${seed}\n`);
  let result;
  try {
    result = await runScenarioInterruptible(scenario, { seed, signal: interrupt.signal });
  } catch (e) {
    if (e instanceof InputError && !e.message.startsWith(file))
      throw new InputError(`${file}: ${e.message}`);
    throw e;
  } finally {
    interrupt.dispose();
  }
  const out = opts.out ?? join('out', basename(file, extname(file)));
  const files = writeOutputs(result, out);
  if (opts.report) {
    const { writeRunReport } = await import('./report/runReport.js');
    files.push(...(await writeRunReport(result, out)));
  }
  if (opts.json)
    process.stdout.write(
      JSON.stringify({ settings: result.settings, ...result.summary }, null, 2) + '\n',
    );
  else
    // The summary first, for a reader; the settings every derived figure came from after it, for
    // a replay (the first line already gives the command and seed).
    process.stdout.write(
      `${formatSummary(result.summary)}\n\nsettings: ${JSON.stringify(result.settings)}\n\nwrote ${files.join(', ')}\n`,
    );
  const stoppedAtMs = result.summary.interruptedAtMs;
  if (stoppedAtMs !== undefined) {
    const { formatTimeMs } = await import('../src/units.js');
    throw new Interrupted(
      `the pump was stopped at ${formatTimeMs(stoppedAtMs)} of the scenario; outputs written to ${out}`,
    );
  }
  const problem = opts.strict ? notRunAsWritten(file, result.summary) : undefined;
  if (problem) throw problem;
}

/** Every option a command cannot run without says so in its help. */
function markRequiredOptions(command: Command): void {
  for (const option of command.options)
    if (option.mandatory && !option.description.endsWith('(required)'))
      option.description = `${option.description} (required)`;
  for (const sub of command.commands) markRequiredOptions(sub);
}

/** Output piped into a reader that stops early (`itpump --help | head`) ends the process quietly. */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  return runProgram(buildCli(), argv);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}

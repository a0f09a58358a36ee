#!/usr/bin/env -S npx tsx
/**
 * `itpump`: the command line for firmware engineers, QA and rig operators.
 *
 * Exit codes: 0 done; 2 invalid input (the message names the file, the field, the value and the
 * limit, and no output is written); 1 internal error.
 */
import { Command } from 'commander';
import { runProgram } from './cliRun.js';
import { basename, extname, join } from 'node:path';
import { formatSummary } from './summary.js';
import { InputError, loadScenario, scenarioJsonSchema } from './scenario.js';
import { runScenario, Simulation } from './runner.js';
import { writeOutputs } from './outputs.js';
import { registerRigCommands } from './rig/cli.js';
import { registerReportCommands } from './report/cli.js';
import { writeRunReport } from './report/runReport.js';

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

function seedOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 31 - 1)
    throw new InputError(`--seed: "${value}" is not an integer from 0 to 2147483647`);
  return n;
}

export function buildCli(): Command {
  const program = new Command('itpump')
    .description('Firmware simulator of an implantable intrathecal drug pump')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('run')
    .description(
      'run a scenario in virtual time and write summary.json, events.jsonl and trace.csv',
    )
    .argument('[scenario]', 'scenario file (YAML or JSON)', defaultScenarioPath)
    .option('--out <dir>', 'output directory (default: out/<scenario name>)')
    .option('--seed <n>', "seed (overrides the scenario's)", seedOption)
    .option('--json', 'print the summary as JSON instead of text')
    .option('--report', 'also write report.html and the chart SVGs next to the outputs')
    .action(
      async (
        file: string,
        opts: { out?: string; seed?: number; json?: boolean; report?: boolean },
      ) => {
        const scenario = loadScenario(file);
        const seed = opts.seed ?? scenario.seed;
        if (!opts.json) process.stdout.write(`itpump run ${file} --seed ${seed}\n`);
        const result = inFile(file, () => runScenario(scenario, { seed }));
        if (!opts.json) process.stdout.write(`settings: ${JSON.stringify(result.settings)}\n\n`);
        const out = opts.out ?? join('out', basename(file, extname(file)));
        const files = writeOutputs(result, out);
        if (opts.report) files.push(...(await writeRunReport(result, out)));
        if (opts.json)
          process.stdout.write(
            JSON.stringify({ settings: result.settings, ...result.summary }, null, 2) + '\n',
          );
        else
          process.stdout.write(`${formatSummary(result.summary)}\n\nwrote ${files.join(', ')}\n`);
      },
    );

  program
    .command('validate')
    .description('check a scenario file without running it')
    .argument('<scenario>', 'scenario file (YAML or JSON)')
    .action((file: string) => {
      const s = loadScenario(file);
      // Set the pump up as `run` would, so a therapy the pump refuses is invalid here too.
      inFile(file, () => new Simulation(s, s.seed).setUp());
      process.stdout.write(`${file}: valid (${s.name}, ${s.timeline.length} timeline events)\n`);
    });

  program
    .command('schema')
    .description('print the JSON Schema of scenario files (for editors)')
    .action(() => {
      process.stdout.write(JSON.stringify(scenarioJsonSchema(), null, 2) + '\n');
    });

  registerRigCommands(program);
  registerReportCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  return runProgram(buildCli(), argv);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}

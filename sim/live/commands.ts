/**
 * The definition of `itpump live`: arguments, options with their parsers and help. The action is
 * in sim/live/cli.ts, imported when the command runs, so `itpump --help` loads only this.
 *
 *   itpump live [scenario] [--speed N] [--port P] [--host H] [--seed N] [--out DIR] [--paused]
 */
import type { Command } from 'commander';
import { exitCodesText, withExamples } from '../cliRun.js';
import { InputError } from '../inputError.js';

import type { LiveCliOptions } from './cliOptions.js';

function numberOption(name: string, min: number, max: number, integer: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (
      value.trim() === '' ||
      !Number.isFinite(n) ||
      n < min ||
      n > max ||
      (integer && !Number.isInteger(n))
    )
      throw new InputError(
        `--${name}: "${value}" is not ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
      );
    return n;
  };
}

export function registerLiveCommand(program: Command, defaultScenarioPath: string): void {
  const live = program
    .command('live')
    .description(
      'run a scenario on a local web page: the patient button, a clinician programmer, faults, live charts and the statechart, in virtual time paced against the wall clock',
    )
    .argument('[scenario]', 'scenario file (YAML or JSON)', defaultScenarioPath)
    .option(
      '--speed <n>',
      'virtual time per wall-clock time, 1 to 100000',
      numberOption('speed', 1, 100_000, false),
      60,
    )
    .option('--port <p>', 'TCP port (0: any free one)', numberOption('port', 0, 65_535, true), 0)
    .option(
      '--host <h>',
      'address to listen on; anything but loopback lets others reach the page (they still need its token)',
      '127.0.0.1',
    )
    .option(
      '--seed <n>',
      "seed (overrides the scenario's)",
      numberOption('seed', 0, 2 ** 31 - 1, true),
    )
    .option('--out <dir>', 'where Ctrl-C writes the outputs (default: out/<scenario name>-live)')
    .option('--paused', 'start paused (the page starts it)')
    .action(async (file: string, opts: LiveCliOptions) => {
      const { liveAction } = await import('./cli.js');
      await liveAction(file, opts);
    });
  withExamples(
    live,
    [
      'itpump live                                  # the default scenario, 60x, on 127.0.0.1',
      'itpump live my-scenario.yaml --speed 3600 --port 8080',
      'itpump run out/my-scenario-live/scenario.yaml   # replays the session: the same outputs',
    ],
    exitCodesText(
      'Ctrl-C or SIGTERM before the scenario ended: the run stopped there, outputs written',
    ),
  );
}

#!/usr/bin/env -S npx tsx
/**
 * The definitions of `itpump rig …` (docs/rig.md): each subcommand's description, arguments and
 * options, with their parsers, defaults and help. The actions are in sim/rig/cli.ts, imported when
 * a command runs, so that `itpump --help` loads commander and these definitions only (not the
 * serial port, the controller or zod).
 *
 *   rig ports                         list serial ports (ptys are never listed)
 *   rig emulate --port PATH           be a rig on PATH (one end of a socat pty pair)
 *   rig run <scenario> --port PATH    run a scenario's controller on the rig, in real time
 *   rig calibrate --port PATH         measure the stroke volume with the balance, save it
 *   rig accuracy --port PATH          flow-accuracy test, IEC 60601-2-24 manner: table and SVG
 */
import { Command, Option } from 'commander';
import { join } from 'node:path';
import { timeScaleMax } from '../../hal/serial/realTimeClock.js';
import { rateNlPerDayMax } from '../../src/constants.js';
import { baudRateDefault } from '../../src/protocol/constants.js';
import { formatDurationMs, formatMl, parseDurationMs, parseRateNlPerDay } from '../../src/units.js';
import { exitCodesText, flowCheckExitText, runProgram, withExamples } from '../cliRun.js';
import { defaultCalibrationPath } from './calibrationPath.js';

import {
  RigCliError,
  type AccuracyCliOptions,
  type CalibrateCliOptions,
  type EmulateCliOptions,
  type RunCliOptions,
} from './cliOptions.js';

// --- Option parsing: every bad value names the option, the value and the limit --------------------

function intOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new RigCliError(`${name}: "${value}" is not an integer from ${min} to ${max}`);
    }
    return n;
  };
}

function rateOption(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
      throw new RigCliError(`${name}: "${value}" is not a rate from 0 to 1 (e.g. 0.001)`);
    return n;
  };
}

function numberOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max)
      throw new RigCliError(`${name}: "${value}" is not a number from ${min} to ${max}`);
    return n;
  };
}

function quantityOption(
  name: string,
  parse: (text: string) => number,
  min: number,
  max: number,
  describe: (n: number) => string,
) {
  return (value: string): number => {
    let n: number;
    try {
      n = parse(value);
    } catch (e) {
      throw new RigCliError(`${name}: ${(e as Error).message}`);
    }
    if (n < min || n > max)
      throw new RigCliError(`${name}: "${value}" is outside ${describe(min)} … ${describe(max)}`);
    return n;
  };
}

const baudOption = () =>
  new Option('--baud <rate>', 'baud rate of the serial line')
    .default(baudRateDefault)
    .argParser(intOption('--baud', 1, 100_000_000));
const timeScaleOption = () =>
  new Option(
    '--time-scale <k>',
    `pump milliseconds per real millisecond (emulator only; both ends must use the same k, 1 … ${timeScaleMax})`,
  )
    .default(1)
    .argParser(intOption('--time-scale', 1, timeScaleMax));

/** The actions, loaded when a command runs (they import the serial port, the controller, zod). */
const actions = () => import('./cli.js');

// --- The commands ----------------------------------------------------------------------------------

export function registerRigCommands(program: Command): void {
  const rig = program
    .command('rig')
    .description('drive a bench rig over a serial port, or emulate one (docs/rig.md)');
  withExamples(rig, [
    'itpump rig ports                                      # serial ports the system reports',
    'itpump rig run my-scenario.yaml --port /dev/ttyUSB0   # the controller, in real time',
  ]);
  registerPortsCommand(rig);
  registerEmulateCommand(rig);
  registerRunCommand(rig);
  registerCalibrateCommand(rig);
  registerAccuracyCommand(rig);
}

function registerPortsCommand(rig: Command): void {
  const command = rig
    .command('ports')
    .description('list the serial ports the system reports')
    .action(async () => {
      const a = await actions();
      return a.operatorErrors(a.portsAction);
    });
  withExamples(command, ['itpump rig ports'], exitCodesText());
}

/** `rig emulate` stops on a signal as its normal end: its exit codes say so. */
const emulateExitCodes = `
Exit codes:
  0    stopped by Ctrl-C, SIGTERM, the q key or the other end closing the port (port closed)
  1    internal error (one line; the full trace is written to a file it names)
  2    invalid option or a port that cannot be used (one line names it)
  130  a second Ctrl-C or SIGTERM while stopping: exited at once`;

function registerEmulateCommand(rig: Command): void {
  const command = rig
    .command('emulate')
    .description(
      'be a rig on a serial port: stepper, balance, button and buzzer, with fault switches',
    )
    .requiredOption(
      '--port <path>',
      'serial port to serve (e.g. one end of `socat -d -d pty,raw,echo=0,link=/tmp/ttyRIG pty,raw,echo=0,link=/tmp/ttyHOST`)',
    )
    .addOption(baudOption())
    .addOption(timeScaleOption());
  addEmulatedRigOptions(command);
  addEmulatedFaultOptions(command);
  command
    .option('--no-persistent-record', 'forget the last batch at a reset (a rig without FRAM)')
    .option('--quiet', 'no event log on stderr')
    .action(async (opts: EmulateCliOptions) => {
      const a = await actions();
      return a.operatorErrors(() => a.emulate(opts));
    });
  withExamples(
    command,
    [
      'itpump rig emulate --port ./ttyB                     # until Ctrl-C',
      'itpump rig emulate --port ./ttyB --time-scale 720 --drop-rate 0.001 --reboot-after-ms 60000',
    ],
    emulateExitCodes,
  );
}

/** The emulated rig itself: its randomness, its stroke volume and its balance. */
function addEmulatedRigOptions(command: Command): void {
  command
    .option(
      '--seed <n>',
      'seed of every random choice (noise, faults)',
      intOption('--seed', 0, 2 ** 31 - 1),
      1,
    )
    .option(
      '--stroke-volume-nl <nL>',
      'true volume of one stroke',
      intOption('--stroke-volume-nl', 1, 100_000),
      500,
    )
    .option(
      '--stroke-error-ppm <ppm>',
      'systematic error of every stroke, parts per million',
      intOption('--stroke-error-ppm', -500_000, 500_000),
      0,
    )
    .option(
      '--calibrated-nl <nL>',
      'stroke volume the rig reports as calibrated (default: none)',
      intOption('--calibrated-nl', 1, 100_000),
    )
    .option(
      '--noise-mg <mg>',
      'standard deviation of the balance noise, mg',
      numberOption('--noise-mg', 0, 1_000),
      0,
    )
    .option(
      '--evaporation-mg-per-h <mg>',
      'mass the balance pan loses to evaporation, mg per hour of rig time',
      numberOption('--evaporation-mg-per-h', 0, 1_000),
      0,
    )
    .option(
      '--balance-interval-ms <ms>',
      'rig time between balance readings',
      intOption('--balance-interval-ms', 1, 3_600_000),
      1_000,
    );
}

/** The emulated rig's fault switches: a noisy line, a jammed motor, a cut cable, a reset. */
function addEmulatedFaultOptions(command: Command): void {
  command
    .option(
      '--drop-rate <p>',
      'chance that a byte is lost, each direction',
      rateOption('--drop-rate'),
      0,
    )
    .option(
      '--corrupt-rate <p>',
      'chance that a byte is corrupted, each direction',
      rateOption('--corrupt-rate'),
      0,
    )
    .option(
      '--delay-ms <ms>',
      'real delay added to every byte, each direction (keep under 1000)',
      intOption('--delay-ms', 0, 1_000),
      0,
    )
    .option(
      '--stall-after <n>',
      'the motor jams after this many strokes',
      intOption('--stall-after', 0, 1_000_000_000),
    )
    .option(
      '--stall-for-ms <ms>',
      'rig time the jam lasts (default: for good)',
      intOption('--stall-for-ms', 1, 2 ** 31 - 1),
    )
    .option(
      '--disconnect-after-ms <ms>',
      'cut the cable this long after start (real ms)',
      intOption('--disconnect-after-ms', 0, 2 ** 31 - 1),
    )
    .option(
      '--disconnect-for-ms <ms>',
      'how long the cable stays cut (real ms)',
      intOption('--disconnect-for-ms', 1, 2 ** 31 - 1),
      5_000,
    )
    .option(
      '--reboot-after-ms <ms>',
      'reset the rig this long after start (real ms)',
      intOption('--reboot-after-ms', 0, 2 ** 31 - 1),
    )
    .option(
      '--reported-strokes-ppm <ppm>',
      "a faulty firmware: report only this share of the strokes made, parts per million (the balance's flow check catches it)",
      intOption('--reported-strokes-ppm', 0, 1_000_000),
      1_000_000,
    );
}

/** The balance as the flow check models it (sim/rig/flowCheck.ts), for `rig run` and `rig accuracy`. */
function addFlowCheckOptions(command: Command): Command {
  return command
    .option(
      '--balance-noise-mg <mg>',
      "standard deviation of one balance reading, mg (the flow check's noise allowance)",
      numberOption('--balance-noise-mg', 0, 1_000),
      0.1,
    )
    .option(
      '--evaporation-mg-per-h <mg>',
      "mass the pan may lose to evaporation, mg per hour (the flow check's allowance)",
      numberOption('--evaporation-mg-per-h', 0, 1_000),
      0.5,
    );
}

/** `--calibration <file>` / `--no-calibration`, as `rig run` and `rig accuracy` take them. */
function addCalibrationOptions(command: Command): Command {
  return command
    .option(
      '--calibration <file>',
      `stroke-volume calibration to use (default: ${defaultCalibrationPath()} if it exists)`,
    )
    .option('--no-calibration', 'ignore any calibration file');
}

function registerRunCommand(rig: Command): void {
  const command = rig
    .command('run')
    .description(
      "run a scenario's controller on the rig in real time; writes the outputs of `itpump run` plus balance.csv",
    )
    .argument('<scenario>', 'scenario file (YAML or JSON)')
    .requiredOption('--port <path>', 'serial port of the rig')
    .addOption(baudOption())
    .addOption(timeScaleOption())
    .option('--out <dir>', 'output directory (default: out/rig-<scenario name>)')
    .option('--seed <n>', "seed (overrides the scenario's)", intOption('--seed', 0, 2 ** 31 - 1));
  addCalibrationOptions(addFlowCheckOptions(command))
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, opts: RunCliOptions) => {
      const a = await actions();
      return a.operatorErrors(() => a.runAction(file, opts));
    });
  withExamples(
    command,
    [
      'itpump rig run my-scenario.yaml --port /dev/ttyUSB0',
      'itpump rig run my-scenario.yaml --port ./ttyA --time-scale 720 --out out/rig-mine   # an emulator at ×720',
    ],
    exitCodesText(
      'interrupted by Ctrl-C or SIGTERM (the pump stopped safely; outputs written)',
      undefined,
      flowCheckExitText,
    ),
  );
}

function registerCalibrateCommand(rig: Command): void {
  const command = rig
    .command('calibrate')
    .description('measure the stroke volume with the balance and save it for later runs')
    .requiredOption('--port <path>', 'serial port of the rig')
    .addOption(baudOption())
    .addOption(timeScaleOption())
    .option('--strokes <n>', 'strokes to weigh', intOption('--strokes', 1, 1_000_000), 200)
    .option(
      '--interval-ms <ms>',
      'pump time between strokes',
      intOption('--interval-ms', 1, 3_600_000),
      1_000,
    )
    .option(
      '--settle-ms <ms>',
      'pump time the balance settles after the last stroke',
      intOption('--settle-ms', 0, 3_600_000),
      5_000,
    )
    .option(
      '--readings <n>',
      'balance readings averaged before and after',
      intOption('--readings', 1, 1_000),
      5,
    )
    .option('--save <file>', `where to save the calibration (default: ${defaultCalibrationPath()})`)
    .action(async (opts: CalibrateCliOptions) => {
      const a = await actions();
      return a.operatorErrors(() => a.calibrateAction(opts));
    });
  withExamples(
    command,
    [
      'itpump rig calibrate --port /dev/ttyUSB0',
      'itpump rig calibrate --port /dev/ttyUSB0 --strokes 500 --save bench-3.json',
    ],
    exitCodesText(
      'interrupted by Ctrl-C or SIGTERM: nothing saved (the rig stops its batch when the link falls silent)',
    ),
  );
}

function registerAccuracyCommand(rig: Command): void {
  const command = rig
    .command('accuracy')
    .description(
      'flow-accuracy test in the manner of IEC 60601-2-24: balance sampled every 30 s for two hours, the second hour as a trumpet curve',
    )
    .requiredOption('--port <path>', 'serial port of the rig')
    .addOption(baudOption())
    .addOption(timeScaleOption())
    .addOption(
      new Option('--rate <rate>', 'programmed rate, e.g. "12 mL/day"')
        .default(12_000_000, '12 mL/day')
        .argParser(
          quantityOption(
            '--rate',
            parseRateNlPerDay,
            1_000,
            rateNlPerDayMax,
            (n) => `${formatMl(n)}/day`,
          ),
        ),
    )
    .addOption(
      new Option('--duration <time>', 'test duration; the second half is analysed')
        .default(2 * 3_600_000, '2h')
        .argParser(
          quantityOption(
            '--duration',
            parseDurationMs,
            4 * 60_000,
            7 * 24 * 3_600_000,
            formatDurationMs,
          ),
        ),
    )
    .option('--out <dir>', 'output directory', join('out', 'rig-accuracy'));
  addCalibrationOptions(addFlowCheckOptions(command))
    .option('--json', 'print the result as JSON')
    .action(async (opts: AccuracyCliOptions) => {
      const a = await actions();
      return a.operatorErrors(() => a.accuracyAction(opts));
    });
  withExamples(
    command,
    [
      'itpump rig accuracy --port /dev/ttyUSB0 --out out/acc',
      'itpump rig accuracy --port ./ttyA --time-scale 720 --rate "6 mL/day"   # an emulator at ×720',
    ],
    exitCodesText(
      "interrupted by Ctrl-C or SIGTERM (the pump stopped safely; the run's outputs written, no analysis)",
      undefined,
      flowCheckExitText,
    ),
  );
}

// --- Alone: `tsx sim/rig/commands.ts rig …` --------------------------------------------------------------

export async function rigMain(argv: string[]): Promise<number> {
  const program = new Command('itpump')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerRigCommands(program);
  return runProgram(program, argv);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  void rigMain(process.argv.slice(2)).then((code) => (process.exitCode = code));
}

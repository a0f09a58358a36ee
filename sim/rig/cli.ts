#!/usr/bin/env -S npx tsx
/**
 * `itpump rig …`: the commands of rig operators (docs/rig.md).
 *
 *   rig ports                         list serial ports (ptys are never listed)
 *   rig emulate --port PATH           be a rig on PATH (one end of a socat pty pair)
 *   rig run <scenario> --port PATH    run a scenario's controller on the rig, in real time
 *   rig calibrate --port PATH         measure the stroke volume with the balance, save it
 *   rig accuracy --port PATH          flow-accuracy test, IEC 60601-2-24 manner: table and SVG
 *
 * `registerRigCommands(program)` adds them to the main CLI (sim/cli.ts). Run alone
 * (`tsx sim/rig/cli.ts rig …`) this file is the same commands without the rest.
 *
 * Errors an operator can fix (a missing port, a port in use, an unanswered handshake, a bad
 * option) are thrown as `RigCliError`, an `InputError`: the CLI prints "error: …" and exits 2.
 * Status lines go to stderr, results to stdout.
 */
import { Command, Option } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import {
  RealTimeClock,
  SerialRig,
  checkBaudRate,
  checkTimeScale,
  isSerialRigError,
  timeScaleMax,
} from '../../hal/serial/index.js';
import { AnalysisInputError } from '../analysis/inputError.js';
import { trumpetTable } from '../analysis/trumpet.js';
import { writeOutputs } from '../outputs.js';
import { InputError, loadScenario, type Scenario } from '../scenario.js';
import { runProgram } from '../cliRun.js';
import { formatSummary } from '../summary.js';
import { baudRateDefault, linkLostMs } from '../../src/protocol/index.js';
import {
  formatDurationMs,
  formatMl,
  formatTimeMs,
  parseDurationMs,
  parseRateNlPerDay,
} from '../../src/units.js';
import { rateNlPerDayMax } from '../../src/constants.js';
import { accuracyScenario, analyseAccuracy } from './accuracy.js';
import {
  calibrate,
  defaultCalibrationPath,
  findCalibration,
  saveCalibration,
  type Calibration,
} from './calibration.js';
import { RigEmulator } from './emulator.js';
import { formatPort, listPorts } from './ports.js';
import { balanceCsv, RigRun } from './rigRun.js';

/** A fault an operator can fix; the CLI prints its message and exits 2. */
export class RigCliError extends InputError {
  override name = 'RigCliError';
}

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

/** Run a rig action, turning faults an operator can fix into `RigCliError`. */
async function operatorErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (isSerialRigError(e)) throw new RigCliError(e.message, { cause: e });
    if (e instanceof AnalysisInputError)
      throw new RigCliError(`the accuracy analysis cannot run: ${e.message}`, { cause: e });
    throw e;
  }
}

// --- The status line ------------------------------------------------------------------------------

/** One line, rewritten in place on a terminal; on a pipe, a line every `everyMs`. */
class StatusLine {
  private lastPrintMs = Number.NEGATIVE_INFINITY;
  private shown = false;
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly everyMs = 10_000,
  ) {}

  update(text: string): void {
    if (this.stream.isTTY) {
      const width = (this.stream.columns ?? 100) - 1;
      this.stream.write(`\r${text.slice(0, width)}\x1b[K`);
      this.shown = true;
      return;
    }
    const now = performance.now();
    if (now - this.lastPrintMs < this.everyMs) return;
    this.lastPrintMs = now;
    this.stream.write(`${text}\n`);
  }

  /** Print a message on its own line, above the status. */
  message(text: string): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.stream.write(`${text}\n`);
  }

  done(): void {
    if (this.shown) this.stream.write('\n');
    this.shown = false;
  }
}

// --- Shared: connect, run a scenario ---------------------------------------------------------------

interface ConnectOptions {
  port: string;
  baud: number;
  timeScale: number;
}

interface Connection {
  rig: SerialRig;
  linkClock: RealTimeClock;
  /** The run's clock, made when the run starts so that its time 0 is the run's start. */
  runClock: RealTimeClock | undefined;
  close(emergencyStop?: boolean): Promise<void>;
}

async function connect(options: ConnectOptions, status: StatusLine): Promise<Connection> {
  checkBaudRate(options.baud, '--baud');
  checkTimeScale(options.timeScale, '--time-scale');
  const linkClock = new RealTimeClock();
  const connection: Connection = {
    rig: undefined as unknown as SerialRig,
    linkClock,
    runClock: undefined,
    close: async (emergencyStop = false) => {
      await connection.rig?.close({ emergencyStop });
      connection.runClock?.close();
      linkClock.close();
    },
  };
  try {
    connection.rig = await SerialRig.open({
      path: options.port,
      baudRate: options.baud,
      timers: linkClock,
      pumpMs: () => connection.runClock?.monotonicMs() ?? 0,
      timeScale: options.timeScale,
      onWarning: (text) => status.message(`warning: ${text}`),
    });
  } catch (e) {
    linkClock.close();
    throw e;
  }
  const info = connection.rig.session.rigInfo!;
  status.message(
    `connected to ${info.firmwareId} on ${options.port} at ${options.baud} baud (boot ${info.bootId}${info.strokeVolumeNl !== null ? `, rig calibrated at ${info.strokeVolumeNl} nL/stroke` : ''})`,
  );
  return connection;
}

function sleepReal(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolve on SIGINT/SIGTERM (once); returns a function that removes the handlers. */
function onInterrupt(handler: () => void): () => void {
  const h = () => handler();
  process.once('SIGINT', h);
  process.once('SIGTERM', h);
  return () => {
    process.off('SIGINT', h);
    process.off('SIGTERM', h);
  };
}

interface RunOnRigOptions extends ConnectOptions {
  seed?: number;
  calibration: { file: string; calibration: Calibration } | undefined;
  /** Use the rig's own stroke volume (HELLO_ACK) when there is no calibration file. */
  status: StatusLine;
}

/** Connect, run the scenario to its end (or Ctrl-C), stop the pump, and return the run. */
async function runOnRig(
  scenario: Scenario,
  options: RunOnRigOptions,
): Promise<{ run: RigRun; interrupted: boolean; connection: Connection }> {
  const { status } = options;
  const connection = await connect(options, status);
  try {
    const run = startRigRun(scenario, options, connection);
    let interrupted = false;
    const removeInterrupt = onInterrupt(() => {
      interrupted = true;
      status.message('interrupted: stopping the pump');
    });
    try {
      const durationMs = scenario.duration;
      const showStatus = () =>
        status.update(rigRunStatusText(run, connection.rig, durationMs, options.timeScale));
      await runUntil(run, durationMs, options.timeScale, () => interrupted, showStatus);
      await stopAndSettle(run, connection.rig, showStatus);
      status.done();
      if (!run.settled)
        status.message(
          'warning: the last batch was not reported before the outputs were written; see the event log',
        );
    } finally {
      removeInterrupt();
    }
    return { run, interrupted, connection };
  } catch (e) {
    status.done();
    await connection.close(true);
    throw e;
  }
}

/** The stroke volume the run uses: the calibration file's, else the rig's own, else the scenario's. */
function runStrokeVolumeNl(
  scenario: Scenario,
  options: RunOnRigOptions,
  rig: SerialRig,
): number | undefined {
  const { status } = options;
  const info = rig.session.rigInfo!;
  if (options.calibration !== undefined) {
    const strokeVolumeNl = options.calibration.calibration.strokeVolumeNl;
    status.message(
      `stroke volume ${strokeVolumeNl} nL from ${options.calibration.file} (measured ${options.calibration.calibration.measuredAt})`,
    );
    return strokeVolumeNl;
  }
  if (info.strokeVolumeNl !== null) {
    status.message(`stroke volume ${info.strokeVolumeNl} nL as the rig reports it`);
    return info.strokeVolumeNl;
  }
  status.message(
    `stroke volume ${scenario.pump.strokeVolume} nL from the scenario (the rig is not calibrated: run \`itpump rig calibrate\`)`,
  );
  return undefined;
}

/** Make the run's clock (time 0 now) and the run on the connected rig, log its settings, start it. */
function startRigRun(scenario: Scenario, options: RunOnRigOptions, connection: Connection): RigRun {
  const { status } = options;
  const { rig } = connection;
  const info = rig.session.rigInfo!;
  const strokeVolumeNl = runStrokeVolumeNl(scenario, options, rig);
  const runClock = new RealTimeClock({
    timeScale: options.timeScale,
    rtcStartMs: Date.parse(scenario.startRtc),
  });
  connection.runClock = runClock;
  const run = new RigRun({
    scenario,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    rig,
    clock: runClock,
    atPumpMs: (atMs, go) => runClock.setPumpAlarm(atMs, go),
    ...(strokeVolumeNl !== undefined ? { strokeVolumeNl } : {}),
    settings: {
      rig: {
        port: options.port,
        baud: options.baud,
        timeScale: options.timeScale,
        firmwareId: info.firmwareId,
        bootId: info.bootId,
      },
      calibration: options.calibration
        ? { file: options.calibration.file, ...options.calibration.calibration }
        : null,
    },
    onWarning: (text) => status.message(`warning: ${text}`),
  });
  status.message(`settings: ${JSON.stringify(run.settings())}`);
  run.start();
  return run;
}

/** The status line of a run: time, therapy, motor, strokes, balance, link, alarms. */
function rigRunStatusText(
  run: RigRun,
  rig: SerialRig,
  durationMs: number,
  timeScale: number,
): string {
  const c = run.controller;
  const s = rig.session.stats;
  const balance = rig.session.latestBalance;
  return (
    `${formatTimeMs(Math.min(run.nowMs(), durationMs))} / ${formatTimeMs(durationMs)}${timeScale > 1 ? ` ×${timeScale}` : ''}` +
    ` | ${c.state.therapy} | motor ${c.state.motor} | ${c.context.deliveredStrokes} strokes (${formatMl(c.context.deliveredStrokes * c.context.config.strokeVolumeNl)})` +
    ` | balance ${balance === undefined ? '—' : `${(balance.massUg / 1000).toFixed(2)} mg`}` +
    ` | link ${rig.linkUp ? 'up' : 'DOWN'} (lost ${s.linkLosses}, retx ${rig.session.link.stats.retransmits})` +
    (c.context.alarms.length > 0 ? ` | ALARM ${c.context.alarms.map((a) => a.code).join(',')}` : '')
  );
}

/** Wait in real time until the run reaches `durationMs` or `interrupted()`, showing the status. */
async function runUntil(
  run: RigRun,
  durationMs: number,
  timeScale: number,
  interrupted: () => boolean,
  showStatus: () => void,
): Promise<void> {
  while (!interrupted() && run.nowMs() < durationMs) {
    showStatus();
    await sleepReal(Math.max(5, Math.min(250, (durationMs - run.nowMs()) / timeScale)));
  }
}

/** The end: stop the pump, wait for its last report and for a balance reading past the end. */
async function stopAndSettle(run: RigRun, rig: SerialRig, showStatus: () => void): Promise<void> {
  run.stopPump();
  const stoppedAtMs = run.nowMs();
  const hasBalance = rig.session.rigInfo?.capabilities.balance !== false;
  const giveUpMs = performance.now() + linkLostMs + 5_000;
  while (
    performance.now() < giveUpMs &&
    !(run.settled && (!hasBalance || run.balanceUntilMs >= stoppedAtMs))
  ) {
    showStatus();
    await sleepReal(10);
  }
  showStatus();
}

// --- The commands ----------------------------------------------------------------------------------

export function registerRigCommands(program: Command): void {
  const rig = program
    .command('rig')
    .description('drive a bench rig over a serial port, or emulate one (docs/rig.md)');
  registerPortsCommand(rig);
  registerEmulateCommand(rig);
  registerRunCommand(rig);
  registerCalibrateCommand(rig);
  registerAccuracyCommand(rig);
}

function registerPortsCommand(rig: Command): void {
  rig
    .command('ports')
    .description('list the serial ports the system reports')
    .action(() => operatorErrors(portsAction));
}

/** `rig ports`: the ports the system reports, one a line, and a note on ptys. */
async function portsAction(): Promise<void> {
  const { ports, fallback } = await listPorts();
  if (fallback !== undefined) process.stderr.write(`${fallback}\n`);
  if (ports.length === 0) process.stdout.write('no serial ports found\n');
  for (const p of ports) process.stdout.write(`${formatPort(p)}\n`);
  process.stdout.write(
    'note: ptys (/dev/pts/N, e.g. from socat for the emulator) are never listed; use the path socat created.\n',
  );
}

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
    .action((opts: EmulateCliOptions) => operatorErrors(() => emulate(opts)));
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

/** The calibration the options name: none with `--no-calibration`, else the file or the default. */
function chosenCalibration(option: string | false | undefined) {
  return option === false
    ? undefined
    : findCalibration(typeof option === 'string' ? option : undefined);
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
  addCalibrationOptions(command)
    .option('--json', 'print the summary as JSON')
    .action((file: string, opts: RunCliOptions) => operatorErrors(() => runAction(file, opts)));
}

/** `rig run`: run the scenario on the rig, write its outputs and balance.csv, print the summary. */
async function runAction(file: string, opts: RunCliOptions): Promise<void> {
  const scenario = loadScenario(file);
  const status = new StatusLine();
  const calibration = chosenCalibration(opts.calibration);
  const { run, connection } = await runOnRig(scenario, {
    port: opts.port,
    baud: opts.baud,
    timeScale: opts.timeScale,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    calibration,
    status,
  });
  try {
    const result = run.result();
    const out = opts.out ?? join('out', `rig-${basename(file, extname(file))}`);
    const files = writeOutputs(result, out);
    writeFileSync(join(out, 'balance.csv'), balanceCsv(run.balance));
    files.push(join(out, 'balance.csv'));
    const stats = connection.rig.session.stats;
    if (opts.json)
      process.stdout.write(
        JSON.stringify({ settings: result.settings, ...result.summary, link: stats }, null, 2) +
          '\n',
      );
    else {
      process.stdout.write(`${formatSummary(result.summary)}\n`);
      process.stdout.write(
        `link: ${stats.linkUps} sessions, ${stats.linkLosses} losses, ${stats.rigReboots} rig resets, ${stats.batchesResynchronised} batches resynchronised, ${stats.batchesBounded} bounded\n\nwrote ${files.join(', ')}\n`,
      );
    }
  } finally {
    await connection.close();
  }
}

function registerCalibrateCommand(rig: Command): void {
  rig
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
    .action((opts: CalibrateCliOptions) => operatorErrors(() => calibrateAction(opts)));
}

/** `rig calibrate`: weigh the strokes, save the stroke volume, print it. */
async function calibrateAction(opts: CalibrateCliOptions): Promise<void> {
  const status = new StatusLine();
  const connection = await connect(
    { port: opts.port, baud: opts.baud, timeScale: opts.timeScale },
    status,
  );
  const runClock = new RealTimeClock({ timeScale: opts.timeScale });
  connection.runClock = runClock;
  try {
    const result = await calibrate(connection.rig, {
      strokes: opts.strokes,
      intervalMs: opts.intervalMs,
      settleMs: opts.settleMs,
      readingsAveraged: opts.readings,
      sleepPumpMs: (ms) =>
        new Promise((resolve) => runClock.setPumpAlarm(runClock.monotonicMs() + ms, resolve)),
      timeoutPumpMs: (linkLostMs + 10_000) * opts.timeScale,
      onProgress: (text) => status.message(text),
    });
    const file = opts.save ?? defaultCalibrationPath();
    saveCalibration(file, result);
    process.stdout.write(
      `stroke volume ${result.strokeVolumeNl} nL (${result.strokes} strokes moved ${result.massAfterUg - result.massBeforeUg} µg of water at 1.0 g/mL)\nsaved ${file}\n`,
    );
  } finally {
    await connection.close();
  }
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
    .option(
      '--rate <rate>',
      'programmed rate, e.g. "12 mL/day"',
      quantityOption(
        '--rate',
        parseRateNlPerDay,
        1_000,
        rateNlPerDayMax,
        (n) => `${formatMl(n)}/day`,
      ),
      12_000_000,
    )
    .option(
      '--duration <time>',
      'test duration; the second half is analysed',
      quantityOption(
        '--duration',
        parseDurationMs,
        4 * 60_000,
        7 * 24 * 3_600_000,
        formatDurationMs,
      ),
      2 * 3_600_000,
    )
    .option('--out <dir>', 'output directory', join('out', 'rig-accuracy'));
  addCalibrationOptions(command)
    .option('--json', 'print the result as JSON')
    .action((opts: AccuracyCliOptions) => operatorErrors(() => accuracyAction(opts)));
}

/** `rig accuracy`: run the test scenario on the rig, analyse the balance, write and print it. */
async function accuracyAction(opts: AccuracyCliOptions): Promise<void> {
  const status = new StatusLine();
  const calibration = chosenCalibration(opts.calibration);
  const scenario = accuracyScenario({
    rateNlPerDay: opts.rate,
    durationMs: opts.duration,
    strokeVolumeNl: calibration?.calibration.strokeVolumeNl ?? 500,
  });
  status.message(
    `flow-accuracy test: ${formatMl(opts.rate)}/day for ${formatDurationMs(opts.duration)}, second half analysed`,
  );
  const { run, interrupted, connection } = await runOnRig(scenario, {
    port: opts.port,
    baud: opts.baud,
    timeScale: opts.timeScale,
    calibration,
    status,
  });
  try {
    if (interrupted)
      throw new RigCliError('the accuracy test was interrupted before its end: no analysis');
    const result = run.result();
    const trumpet = analyseAccuracy(run.balance, opts.rate, opts.duration, opts.timeScale);
    mkdirSync(opts.out, { recursive: true });
    const files = writeOutputs(result, opts.out);
    const table = trumpetTable(trumpet);
    const extra: Record<string, string> = {
      'balance.csv': balanceCsv(run.balance),
      'trumpet.txt': table,
      'trumpet.json': JSON.stringify(trumpet, null, 2) + '\n',
      // vega loads only here, so the other commands start fast.
      'trumpet.svg': await (
        await import('../report/charts.js')
      ).trumpetChartSvg(trumpet, {
        title: `Trumpet curve, rig ${connection.rig.session.rigInfo?.firmwareId ?? ''} (IEC 60601-2-24 method)`,
      }),
    };
    for (const [name, text] of Object.entries(extra)) {
      writeFileSync(join(opts.out, name), text);
      files.push(join(opts.out, name));
    }
    if (opts.json) process.stdout.write(JSON.stringify(trumpet, null, 2) + '\n');
    else process.stdout.write(`${table}\nwrote ${files.join(', ')}\n`);
  } finally {
    await connection.close();
  }
}

interface EmulateCliOptions {
  port: string;
  baud: number;
  timeScale: number;
  seed: number;
  strokeVolumeNl: number;
  strokeErrorPpm: number;
  calibratedNl?: number;
  noiseMg: number;
  balanceIntervalMs: number;
  dropRate: number;
  corruptRate: number;
  delayMs: number;
  stallAfter?: number;
  stallForMs?: number;
  disconnectAfterMs?: number;
  disconnectForMs: number;
  rebootAfterMs?: number;
  persistentRecord: boolean;
  quiet?: boolean;
}

interface RunCliOptions {
  port: string;
  baud: number;
  timeScale: number;
  out?: string;
  seed?: number;
  calibration?: string | false;
  json?: boolean;
}

interface CalibrateCliOptions {
  port: string;
  baud: number;
  timeScale: number;
  strokes: number;
  intervalMs: number;
  settleMs: number;
  readings: number;
  save?: string;
}

interface AccuracyCliOptions {
  port: string;
  baud: number;
  timeScale: number;
  rate: number;
  duration: number;
  out: string;
  calibration?: string | false;
  json?: boolean;
}

/** `rig emulate`: serve the port until Ctrl-C, `q`, or the port closes. */
async function emulate(o: EmulateCliOptions): Promise<void> {
  checkBaudRate(o.baud, '--baud');
  checkTimeScale(o.timeScale, '--time-scale');
  const status = new StatusLine();
  const log = (text: string) => {
    if (!o.quiet) status.message(`${new Date().toISOString()} ${text}`);
  };
  const emulator = await openEmulator(o, log);
  process.stderr.write(
    `itpump rig emulator on ${o.port}: ${JSON.stringify(emulatorSettings(o))}\n`,
  );
  if (o.delayMs > 90)
    process.stderr.write(
      `note: a ${o.delayMs} ms delay each way exceeds the protocol's 200 ms ack timeout per round trip: expect retransmits\n`,
    );
  const removeInterrupt = onInterrupt(() => void emulator.close());
  const removeKeys = listenToKeys(emulator);
  const ticker = setInterval(() => status.update(emulatorStatusText(emulator)), 250);
  try {
    await emulator.closed;
  } finally {
    clearInterval(ticker);
    removeInterrupt();
    removeKeys();
    status.done();
    const c = emulator.core;
    process.stderr.write(
      `emulator stopped: ${c.strokesExecuted} strokes executed, ${c.batches.size} batches, ${c.reboots} resets\n`,
    );
  }
}

/** Open the emulated rig the options describe on their port. */
function openEmulator(o: EmulateCliOptions, log: (text: string) => void): Promise<RigEmulator> {
  return RigEmulator.open({
    path: o.port,
    baudRate: o.baud,
    timeScale: o.timeScale,
    seed: o.seed,
    strokeVolumeNl: o.strokeVolumeNl,
    strokeVolumeErrorPpm: o.strokeErrorPpm,
    calibratedStrokeVolumeNl: o.calibratedNl ?? null,
    noiseMg: o.noiseMg,
    balanceIntervalMs: o.balanceIntervalMs,
    stallAfterStrokes: o.stallAfter,
    stallForMs: o.stallForMs,
    persistentBatchRecord: o.persistentRecord,
    faults: { dropRate: o.dropRate, corruptRate: o.corruptRate, delayMs: o.delayMs },
    ...(o.disconnectAfterMs !== undefined
      ? { disconnectAfterMs: o.disconnectAfterMs, disconnectForMs: o.disconnectForMs }
      : {}),
    ...(o.rebootAfterMs !== undefined ? { rebootAfterMs: o.rebootAfterMs } : {}),
    onEvent: log,
  });
}

/** The settings the emulator prints when it starts. */
function emulatorSettings(o: EmulateCliOptions) {
  return {
    port: o.port,
    baud: o.baud,
    timeScale: o.timeScale,
    seed: o.seed,
    strokeVolumeNl: o.strokeVolumeNl,
    strokeErrorPpm: o.strokeErrorPpm,
    noiseMg: o.noiseMg,
    dropRate: o.dropRate,
    corruptRate: o.corruptRate,
    delayMs: o.delayMs,
    stallAfter: o.stallAfter ?? null,
    disconnectAfterMs: o.disconnectAfterMs ?? null,
    rebootAfterMs: o.rebootAfterMs ?? null,
    persistentRecord: o.persistentRecord,
  };
}

/** On a terminal, single keys drive the emulator; returns a function that restores the terminal. */
function listenToKeys(emulator: RigEmulator): () => void {
  const stdin = process.stdin;
  const keys = (data: Buffer) => {
    const key = data.toString();
    if (key === 'p') emulator.press();
    else if (key === 'r') emulator.reboot();
    else if (key === 'd') emulator.disconnect(5_000);
    else if (key === 'j') emulator.core.jammed ? emulator.unjam() : emulator.jam();
    else if (key === 'q' || key === '\u0003') void emulator.close();
  };
  if (stdin.isTTY) {
    stdin.setRawMode(true);
    stdin.on('data', keys);
    process.stderr.write(
      'keys: p press the button, r reset, d cut the cable 5 s, j jam/free the motor, q quit\n',
    );
  }
  return () => {
    if (stdin.isTTY) {
      stdin.off('data', keys);
      stdin.setRawMode(false);
      stdin.pause();
    }
  };
}

/** The emulator's status line: link, motor, strokes, balance, resets. */
function emulatorStatusText(emulator: RigEmulator): string {
  const c = emulator.core;
  return `link ${c.linkUp ? 'up' : 'down'} | ${c.batchRunning ? 'motor running' : 'motor idle'}${c.jammed ? ' (JAMMED)' : ''} | ${c.strokesExecuted} strokes | balance ${(c.trueMassUg / 1000).toFixed(2)} mg | resets ${c.reboots}`;
}

// --- Alone: `tsx sim/rig/cli.ts rig …` --------------------------------------------------------------

export async function rigMain(argv: string[]): Promise<number> {
  const program = new Command('itpump')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerRigCommands(program);
  return runProgram(program, argv);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await rigMain(process.argv.slice(2));
}

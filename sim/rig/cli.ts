/**
 * `itpump rig …`: the actions of the rig operators' commands (docs/rig.md). The commands
 * themselves (descriptions, options, help) are defined in sim/rig/commands.ts, which imports this
 * module when one of them runs, so that `itpump --help` does not load it.
 *
 *   rig ports                         list serial ports (ptys are never listed)
 *   rig emulate --port PATH           be a rig on PATH (one end of a socat pty pair)
 *   rig run <scenario> --port PATH    run a scenario's controller on the rig, in real time
 *   rig calibrate --port PATH         measure the stroke volume with the balance, save it
 *   rig accuracy --port PATH          flow-accuracy test, IEC 60601-2-24 manner: table and SVG
 *
 * `registerRigCommands(program)` (commands.ts) adds them to the main CLI (sim/cli.ts); run alone,
 * `tsx sim/rig/commands.ts rig …` is the same commands without the rest. This module imports
 * nothing of commands.ts: what the two share (the options, `RigCliError`) is in cliOptions.ts.
 *
 * Errors an operator can fix (a missing port, a port in use, an unanswered handshake, a bad
 * option) are thrown as `RigCliError`, an `InputError`: the CLI prints "error: …" and exits 2.
 * The first Ctrl-C or SIGTERM of `rig run` or `rig accuracy` stops the pump, waits for its last
 * report, writes the outputs and exits 130; a second one exits 130 at once (sim/cliRun.ts).
 * Status lines go to stderr, results to stdout.
 */
import { randomInt } from 'node:crypto';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import {
  RealTimeClock,
  SerialRig,
  checkBaudRate,
  checkTimeScale,
  isSerialRigError,
} from '../../hal/serial/index.js';
import { AnalysisInputError } from '../analysis/inputError.js';
import { trumpetTable } from '../analysis/trumpet.js';
import { writeOutputs } from '../outputs.js';
import { loadScenario, type Scenario } from '../scenario.js';
import { FlowCheckStopped, interruptOnSignals, Interrupted } from '../cliRun.js';
import { formatSummary } from '../summary.js';
import { linkLostMs } from '../../src/protocol/index.js';
import { formatDurationMs, formatMl, formatTimeMs } from '../../src/units.js';
import { accuracyScenario, analyseAccuracy, deliverySamples } from './accuracy.js';
import { chooseStrokeVolume } from './strokeVolume.js';
import {
  calibrate,
  defaultCalibrationPath,
  findCalibration,
  saveCalibration,
  type Calibration,
} from './calibration.js';
import {
  RigCliError,
  type AccuracyCliOptions,
  type CalibrateCliOptions,
  type EmulateCliOptions,
  type RunCliOptions,
} from './cliOptions.js';
import { RigEmulator } from './emulator.js';
import { formatPort, listPorts } from './ports.js';
import { balanceCsvHeader, balanceCsvLine, RigRun } from './rigRun.js';

export { RigCliError };

/** Run a rig action, turning faults an operator can fix into `RigCliError`. */
export async function operatorErrors<T>(run: () => Promise<T>): Promise<T> {
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

interface RunOnRigOptions extends ConnectOptions {
  seed?: number;
  calibration: { file: string; calibration: Calibration } | undefined;
  /** Use the rig's own stroke volume (HELLO_ACK) when there is no calibration file. */
  status: StatusLine;
  /** What a Ctrl-C stops, in its message: "the rig run". */
  what: string;
  /** The balance as the flow check models it (`--balance-noise-mg`, `--evaporation-mg-per-h`). */
  balance: { noiseUg: number; evaporationUgPerHour: number };
  /** The output directory: balance.csv is written there as the readings come. */
  outDir: string;
}

/**
 * Create the output directory and balance.csv's header once the run is sure to start (a refused
 * start writes nothing), so that hours of readings survive a crash or a kill.
 */
function startBalanceFile(outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'balance.csv');
  writeFileSync(file, balanceCsvHeader);
  return file;
}

/** The flow check's balance model from the command's options (mg → µg, here only). */
function balanceOptions(o: { balanceNoiseMg: number; evaporationMgPerH: number }) {
  return {
    noiseUg: Math.round(o.balanceNoiseMg * 1_000),
    evaporationUgPerHour: Math.round(o.evaporationMgPerH * 1_000),
  };
}

/** A run on the rig that has ended: at the scenario's end, or stopped by a signal. */
interface RigRunEnded {
  run: RigRun;
  /** Stopped by SIGINT or SIGTERM before the scenario's end. */
  interrupted: boolean;
  connection: Connection;
  /**
   * Close the port and remove the signal handlers, after the outputs are written (until then a
   * second signal exits 130 at once).
   */
  close(): Promise<void>;
}

/**
 * Connect, run the scenario to its end or to the first SIGINT/SIGTERM, stop the pump, wait for its
 * last report, and return the run. The signal handlers are installed once connected (before, there
 * is nothing to stop, and a signal ends the process as usual); from then a second signal exits 130
 * at once (sim/cliRun.ts `interruptOnSignals`).
 */
async function runOnRig(scenario: Scenario, options: RunOnRigOptions): Promise<RigRunEnded> {
  const { status } = options;
  const connection = await connect(options, status);
  const interrupt = interruptOnSignals(options.what);
  const close = async () => {
    interrupt.dispose();
    await connection.close();
  };
  try {
    const run = startRigRun(scenario, options, connection);
    const durationMs = scenario.duration;
    const showStatus = () =>
      status.update(rigRunStatusText(run, connection.rig, durationMs, options.timeScale));
    // The flow check stops the run as a signal does, minus the signal.
    const stopped = () => interrupt.signal.aborted || run.flowCheck.failure !== null;
    await runUntil(run, durationMs, options.timeScale, stopped, showStatus);
    const interrupted =
      interrupt.signal.aborted && run.flowCheck.failure === null && run.nowMs() < durationMs;
    if (interrupted)
      status.message(`interrupted at ${formatTimeMs(run.nowMs())}: stopping the pump`);
    await stopAndSettle(run, connection.rig, showStatus, interrupted);
    status.done();
    if (!run.settled)
      status.message(
        'warning: the last batch was not reported before the outputs were written; see the event log',
      );
    return { run, interrupted, connection, close };
  } catch (e) {
    status.done();
    interrupt.dispose();
    await connection.close(true);
    throw e;
  }
}

/**
 * The stroke volume the run doses with: the calibration file's, else the scenario's; the rig's own
 * report is only checked against it (sim/rig/strokeVolume.ts). Undefined: the scenario's, as is.
 */
function runStrokeVolumeNl(
  scenario: Scenario,
  options: RunOnRigOptions,
  rig: SerialRig,
): number | undefined {
  const info = rig.session.rigInfo!;
  const choice = chooseStrokeVolume({
    configuredNl: scenario.pump.strokeVolume,
    ...(options.calibration !== undefined
      ? {
          calibration: {
            strokeVolumeNl: options.calibration.calibration.strokeVolumeNl,
            file: options.calibration.file,
            measuredAt: options.calibration.calibration.measuredAt,
          },
        }
      : {}),
    reportedNl: info.strokeVolumeNl,
  });
  if ('refusal' in choice) throw new RigCliError(choice.refusal);
  options.status.message(choice.message);
  return choice.fromCalibration ? choice.strokeVolumeNl : undefined;
}

/** Make the run's clock (time 0 now) and the run on the connected rig, log its settings, start it. */
function startRigRun(scenario: Scenario, options: RunOnRigOptions, connection: Connection): RigRun {
  const { status } = options;
  const { rig } = connection;
  const info = rig.session.rigInfo!;
  const strokeVolumeNl = runStrokeVolumeNl(scenario, options, rig);
  const balanceFile = startBalanceFile(options.outDir);
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
    balance: options.balance,
    onBalanceRow: (row) => appendFileSync(balanceFile, balanceCsvLine(row)),
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
    onFlowCheckFailed: (f) =>
      status.message(`ALARM at ${formatTimeMs(f.timeMs)}: ${f.message}; stopping the pump`),
  });
  status.message(`settings: ${JSON.stringify(run.settings())}`);
  run.start();
  return run;
}

/**
 * Strokes so far: those accounted (reported batches) plus those the running batch should have made
 * by now, which its report will confirm; the volume is of both at the dosing stroke volume.
 */
function strokesText(run: RigRun): string {
  const c = run.controller.context;
  const running = run.runningBatchStrokes();
  const strokes = c.deliveredStrokes + running;
  const volume = formatMl(strokes * c.config.strokeVolumeNl);
  return `${strokes} strokes (${volume}${running > 0 ? `; ${running} in the running batch, not yet reported` : ''})`;
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
    ` | ${c.state.therapy} | motor ${c.state.motor} | ${strokesText(run)}` +
    ` | balance ${balance === undefined ? '—' : `${(balance.massUg / 1000).toFixed(2)} mg`}` +
    ` | link ${rig.linkUp ? 'up' : 'DOWN'} (lost ${s.linkLosses}, retx ${rig.session.link.stats.retransmits})` +
    (c.context.alarms.length > 0
      ? ` | ALARM ${c.context.alarms.map((a) => a.code).join(',')}`
      : '') +
    (run.flowCheck.failure !== null ? ' | FLOW CHECK FAILED' : '')
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

/**
 * The end (of the scenario, or `interrupted` by a signal): stop the pump, wait for its last report
 * and for a balance reading past the end.
 */
async function stopAndSettle(
  run: RigRun,
  rig: SerialRig,
  showStatus: () => void,
  interrupted: boolean,
): Promise<void> {
  run.stopPump({ interrupted });
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

/** After the outputs are written: a run the flow check stopped exits 4 with the check's line. */
function throwIfFlowCheckFailed(run: RigRun, out: string, files?: string[]): void {
  const f = run.flowCheck.failure;
  if (f === null) return;
  if (files !== undefined) process.stdout.write(`wrote ${files.join(', ')}\n`);
  throw new FlowCheckStopped(
    `stopped at ${formatTimeMs(f.timeMs)} of the scenario: ${f.message}. Outputs written to ${out} (balance.csv has the band at every reading)`,
  );
}

// --- The actions (called by the commands of commands.ts) -----------------------------------------

/** `rig ports`: the ports the system reports, one a line, and a note on ptys. */
export async function portsAction(): Promise<void> {
  const { ports, fallback } = await listPorts();
  if (fallback !== undefined) process.stderr.write(`${fallback}\n`);
  if (ports.length === 0) process.stdout.write('no serial ports found\n');
  for (const p of ports) process.stdout.write(`${formatPort(p)}\n`);
  process.stdout.write(
    'note: ptys (/dev/pts/N, e.g. from socat for the emulator) are never listed; use the path socat created.\n',
  );
}

/** The calibration the options name: none with `--no-calibration`, else the file or the default. */
function chosenCalibration(option: string | false | undefined) {
  return option === false
    ? undefined
    : findCalibration(typeof option === 'string' ? option : undefined);
}

/**
 * `rig run`: run the scenario on the rig, write its outputs and balance.csv, print the summary.
 * Stopped by a signal, the outputs cover the run up to there (`summary.interruptedAtMs`) and the
 * exit code is 130.
 */
export async function runAction(file: string, opts: RunCliOptions): Promise<void> {
  const scenario = loadScenario(file);
  const status = new StatusLine();
  const calibration = chosenCalibration(opts.calibration);
  const out = opts.out ?? join('out', `rig-${basename(file, extname(file))}`);
  const { run, interrupted, connection, close } = await runOnRig(scenario, {
    port: opts.port,
    baud: opts.baud,
    timeScale: opts.timeScale,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    calibration,
    status,
    what: 'the rig run',
    balance: balanceOptions(opts),
    outDir: out,
  });
  try {
    const result = run.result();
    const files = writeOutputs(result, out);
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
    throwIfFlowCheckFailed(run, out);
    if (interrupted)
      throw new Interrupted(
        `the pump was stopped at ${formatTimeMs(run.interruptedAtMs ?? run.nowMs())} of the scenario; outputs written to ${out}`,
      );
  } finally {
    await close();
  }
}
/** `rig calibrate`: weigh the strokes, save the stroke volume, print it. */
export async function calibrateAction(opts: CalibrateCliOptions): Promise<void> {
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

/** The accuracy test's analysis files and report page in `opts.out`; returns their paths. */
async function writeAccuracyFiles(
  run: RigRun,
  trumpet: ReturnType<typeof analyseAccuracy>,
  table: string,
  opts: AccuracyCliOptions,
  connection: Connection,
  calibration: ReturnType<typeof chosenCalibration>,
): Promise<string[]> {
  // vega loads only here, so the other commands start fast.
  const page = await (
    await import('../report/rigReport.js')
  ).buildAccuracyReport({
    samples: deliverySamples(run.balance),
    trumpet,
    durationMs: opts.duration,
    firmwareId: connection.rig.session.rigInfo?.firmwareId ?? 'unknown',
    strokeVolumeNl: run.config.strokeVolumeNl,
    strokeVolumeSource: calibration
      ? `${calibration.file} (measured ${calibration.calibration.measuredAt})`
      : "the pump's configuration (not calibrated)",
    flowCheck: run.flowCheck.summary(),
  });
  const files: Record<string, string> = {
    'trumpet.txt': table,
    'trumpet.json': JSON.stringify(trumpet, null, 2) + '\n',
    ...Object.fromEntries(page.charts.map((c) => [c.file, c.svg])),
    'report.html': page.html,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(opts.out, name), text);
  const { recordCharts } = await import('../report/chartManifest.js');
  recordCharts(
    opts.out,
    page.charts.map((c) => c.file),
  );
  return Object.keys(files).map((name) => join(opts.out, name));
}

/**
 * `rig accuracy`: run the test scenario on the rig, analyse the balance, write and print it.
 * Stopped by a signal, it writes the run's outputs and balance.csv but no analysis, and exits 130.
 */
export async function accuracyAction(opts: AccuracyCliOptions): Promise<void> {
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
  const { run, interrupted, connection, close } = await runOnRig(scenario, {
    port: opts.port,
    baud: opts.baud,
    timeScale: opts.timeScale,
    calibration,
    status,
    what: 'the accuracy test',
    balance: balanceOptions(opts),
    outDir: opts.out,
  });
  try {
    const result = run.result();
    // The run's outputs and the balance readings first: hours of bench time are never lost to an
    // analysis that cannot run (a gap in the readings on a loaded machine, say).
    const files = [...writeOutputs(result, opts.out), join(opts.out, 'balance.csv')];
    throwIfFlowCheckFailed(run, opts.out, opts.json ? undefined : files);
    if (interrupted) {
      if (!opts.json) process.stdout.write(`wrote ${files.join(', ')}\n`);
      throw new Interrupted(
        `the accuracy test was stopped at ${formatTimeMs(run.interruptedAtMs ?? run.nowMs())} of ${formatDurationMs(opts.duration)}: no analysis; the run's outputs written to ${opts.out}`,
      );
    }
    let trumpet;
    try {
      trumpet = analyseAccuracy(run.balance, opts.rate, opts.duration, opts.timeScale);
    } catch (e) {
      if (!(e instanceof AnalysisInputError)) throw e;
      throw new RigCliError(
        `the accuracy analysis cannot run: ${e.message}; the run's outputs and the balance readings are written (${files.join(', ')})`,
        { cause: e },
      );
    }
    const table = trumpetTable(trumpet);
    files.push(...(await writeAccuracyFiles(run, trumpet, table, opts, connection, calibration)));
    if (opts.json) process.stdout.write(JSON.stringify(trumpet, null, 2) + '\n');
    else process.stdout.write(`${table}\nwrote ${files.join(', ')}\n`);
  } finally {
    await close();
  }
}

/**
 * `rig emulate`: serve the port until Ctrl-C or SIGTERM, `q`, or the port closes; then close the
 * port and return (exit code 0). A second signal while closing exits 130 at once.
 */
export async function emulate(o: EmulateCliOptions): Promise<void> {
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
  const interrupt = interruptOnSignals('the emulator', { outputs: false });
  interrupt.signal.addEventListener('abort', () => void emulator.close());
  const removeKeys = listenToKeys(emulator);
  const ticker = setInterval(() => status.update(emulatorStatusText(emulator)), 250);
  try {
    await emulator.closed;
  } finally {
    clearInterval(ticker);
    interrupt.dispose();
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
    // A new boot id at every start, as a real rig draws one at power-up: a restarted emulator
    // with the same --seed must look like a reset to the host (protocol §6.5).
    bootNonce: randomInt(1, 0x7fff_ffff),
    noiseMg: o.noiseMg,
    evaporationMgPerHour: o.evaporationMgPerH,
    reportedStrokesPpm: o.reportedStrokesPpm,
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
    evaporationMgPerH: o.evaporationMgPerH,
    reportedStrokesPpm: o.reportedStrokesPpm,
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

/**
 * A scenario on a serial rig: the same controller as `itpump run` (src/controller.ts) on the
 * serial HAL backend, in real (or emulator-compressed) time, recording what `itpump run` records
 * plus the balance.
 *
 * What differs from the simulator (sim/runner.ts), on purpose:
 * - The truth comes from the balance, not from a simulated motor: "true delivered" is the mass on
 *   the balance since the start (water, density 1.0 g/mL, so 1 µg is 1 nL) times the reservoir's
 *   concentrations, and the "true reservoir" is what was filled minus what reached the balance.
 * - The scenario's simulator faults (`motorStall`, `strokeVolumeError` timeline events, the
 *   `motor:` section) cannot act on hardware: they are skipped with a warning. The emulator has
 *   its own fault switches.
 * - Presses from the timeline and the demand model are replayed as if the patient pressed (drawn
 *   from the same seeded stream as `itpump run`, so the same presses at the same times), on top
 *   of the rig's physical button.
 * - The non-volatile memory is an in-memory `SimNvm`; the rig is mains-powered, so the battery is
 *   a constant full cell (`MainsBattery`).
 * - The run ends by stopping the pump (a `stopped` record in the event log) and waiting for the
 *   last batch report, so that every stroke the rig made is accounted before outputs are written.
 *
 * It schedules through the functions it is given (`atPumpMs`), so it runs the same on real timers
 * and in virtual time (tests). It knows nothing of serialport or the command line.
 */
import { ProgrammedDoses } from '../programmedDoses.js';
import type { AnnunciatorPort } from '../../hal/annunciator.js';
import type { BatteryPort, BatteryStatus } from '../../hal/battery.js';
import type { ButtonEvent, ButtonPort } from '../../hal/button.js';
import type { ClockPort } from '../../hal/clock.js';
import type { Hal } from '../../hal/index.js';
import type { MotorEvent, MotorPort } from '../../hal/motor.js';
import type { BalanceReading, HostSession } from '../../hal/serial/hostSession.js';
import { SimNvm } from '../../hal/sim/simNvm.js';
import { Controller } from '../../src/controller.js';
import { strokesLeftBy } from '../../hal/sim/strokeClock.js';
import { rateSteps } from '../../src/dosing/rates.js';
import type { LogRecord } from '../../src/eventLog.js';
import { wireTimeModulusMs } from '../../src/protocol/index.js';
import type { Mixture, PumpConfig } from '../../src/therapy/schema.js';
import { DAY_MS, HOUR_MS, dosePg } from '../../src/units.js';
import { Prng } from '../prng.js';
import type { RunResult, Simulation, TraceRow } from '../runner.js';
import {
  InputError,
  drugLibraryOf,
  pumpConfigOf,
  toMixture,
  toPrescription,
  toPtm,
  type Scenario,
  type TimelineEvent,
} from '../scenario.js';
import { buildSummary } from '../summary.js';
import { FlowCheck, type FlowCheckFailure, type FlowCheckRow } from './flowCheck.js';
import { timelineRefusalsOf, type TimelineRefusal } from '../timelineRefusals.js';

/** The test fluid is water: 1.0 g/mL, so 1 µg on the balance is 1 nL delivered. */
export const densityMgPerMl = 1_000;

/** Volume of a mass of the test fluid: µg × (1 mg / 1000 µg) ÷ (mg/mL) × 10^6 nL/mL. */
export function volumeNlOfMassUg(massUg: number): number {
  return (massUg * 1_000) / densityMgPerMl;
}

/** A bench rig runs from the mains: a full cell that never drains. */
export class MainsBattery implements BatteryPort {
  status(): BatteryStatus {
    return { level: 'ok', remainingUah: 2_000_000, lowBatteryReset: false };
  }
  consume(): void {}
  listen(): void {}
}

/** The rig's button plus presses replayed from the scenario. */
class ReplayButton implements ButtonPort {
  private listener: ((event: ButtonEvent) => void) | undefined;
  replayed = 0;
  constructor(private readonly rigButton: ButtonPort) {}
  listen(listener: (event: ButtonEvent) => void): void {
    this.listener = listener;
    this.rigButton.listen(listener);
  }
  press(): void {
    this.replayed++;
    this.listener?.({ type: 'hal.button.pressed' });
  }
}

/** One balance reading on the run's time axis. */
export interface BalanceRow {
  /** Run time (ms since the scenario started), from the rig's own timestamps. */
  timeMs: number;
  /** The rig's timestamp as sent (modulo 2^32). */
  rigTimeMs: number;
  massUg: number;
  /** Mass since the start ÷ density: what the pump delivered, by the balance. */
  deliveredNl: number;
  stable: boolean;
  /** The flow check's band for this reading (sim/rig/flowCheck.ts); absent once it has failed. */
  check?: FlowCheckRow;
}

export interface RigRunOptions {
  scenario: Scenario;
  seed?: number;
  /** The serial backend's ports and session (a `SerialRig`, or a test's). */
  rig: { motor: MotorPort; button: ButtonPort; annunciator: AnnunciatorPort; session: HostSession };
  /** The controller's clock; its monotonic time is the run's time axis. */
  clock: ClockPort;
  /** Run `run` at pump time `atMs` (a real or virtual timer). */
  atPumpMs: (atMs: number, run: () => void) => { cancel(): void };
  /** A calibrated stroke volume that replaces the scenario's. */
  strokeVolumeNl?: number;
  /** Trace sampling period (default: 1 h, or duration / 120 for runs under five days). */
  traceEveryMs?: number;
  /** Extra settings to print and save (port, baud, calibration). */
  settings?: Record<string, unknown>;
  /** The balance as the flow check models it (defaults: `flowCheckBalanceDefaults`). */
  balance?: { noiseUg: number; evaporationUgPerHour: number };
  onWarning?: (text: string) => void;
  /** Every balance reading as it is recorded (`rig run` appends it to balance.csv at once). */
  onBalanceRow?: (row: BalanceRow) => void;
  /** The flow check failed: the run has stopped the pump and sounded the rig's alarm. */
  onFlowCheckFailed?: (failure: FlowCheckFailure) => void;
}

/**
 * The balance the flow check assumes unless told: a 0.01 mg analytical balance's repeatability
 * (0.1 mg, with draughts) and 0.5 mg an hour lost from the open outlet (docs/rig.md "Flow check").
 */
export const flowCheckBalanceDefaults = { noiseUg: 100, evaporationUgPerHour: 500 };

export class RigRun {
  readonly controller: Controller;
  readonly events: LogRecord[] = [];
  readonly trace: TraceRow[] = [];
  readonly balance: BalanceRow[] = [];
  readonly deliveredPg = new Map<string, number>();
  readonly trueDeliveredPg = new Map<string, number>();
  readonly config: PumpConfig;
  readonly seed: number;
  readonly startMs: number;
  readonly endMs: number;
  /** What was put in the reservoir minus what was taken out and what reached the balance. */
  trueReservoirNl = 0;
  ended = false;
  /** Every reported batch weighed against the balance. */
  readonly flowCheck: FlowCheck;
  private readonly button: ReplayButton;
  private readonly programmed = new ProgrammedDoses();
  private readonly timers: { cancel(): void }[] = [];
  private tareUg: number | undefined;
  private lastDeliveredNl = 0;
  private rigAnchor:
    | { bootId: number; rawMs: number; unwrappedMs: number; offsetMs: number }
    | undefined;
  private readonly started = performance.now();

  constructor(private readonly options: RigRunOptions) {
    const s = options.scenario;
    this.seed = options.seed ?? s.seed;
    this.config = {
      ...pumpConfigOf(s),
      ...(options.strokeVolumeNl !== undefined ? { strokeVolumeNl: options.strokeVolumeNl } : {}),
    };
    this.button = new ReplayButton(options.rig.button);
    const motor: MotorPort = {
      deliver: (batch) => options.rig.motor.deliver(batch),
      stop: () => options.rig.motor.stop(),
      // The recorder sees a report before the controller does, while the batch's mixture is known.
      listen: (listener) => options.rig.motor.listen((e) => this.onMotor(e, listener)),
    };
    const hal: Hal = {
      clock: options.clock,
      motor,
      button: this.button,
      annunciator: options.rig.annunciator,
      nvm: new SimNvm(),
      battery: new MainsBattery(),
    };
    this.controller = new Controller({
      hal,
      config: this.config,
      library: drugLibraryOf(s),
      onLog: (r) => this.onLog(r),
    });
    this.startMs = options.clock.monotonicMs();
    this.endMs = this.startMs + s.duration;
    const balance = options.balance ?? flowCheckBalanceDefaults;
    this.flowCheck = new FlowCheck({
      strokeVolumeNl: this.config.strokeVolumeNl,
      balanceNoiseUg: balance.noiseUg,
      evaporationUgPerHour: balance.evaporationUgPerHour,
    });
    options.rig.session.listenBalance((r) => this.onBalance(r));
  }

  /** Settings printed first and saved in summary.json, as `itpump run` does. */
  settings(): Record<string, unknown> {
    const s = this.options.scenario;
    return {
      scenario: s.name,
      seed: this.seed,
      durationMs: s.duration,
      startRtc: s.startRtc,
      pump: this.config,
      initialBasalRatesNlPerDay: rateSteps(
        toPrescription(s.prescription),
        toMixture(s.initialFill.mixture),
      ).ratesNlPerDay,
      demand: s.demand ?? null,
      drugLibrary: drugLibraryOf(s).name,
      backend: 'serial rig',
      densityMgPerMl,
      flowCheckBalance: this.options.balance ?? flowCheckBalanceDefaults,
      ...this.options.settings,
    };
  }

  /** Boot, fill, programme and resume at run time 0, then schedule the timeline and the presses. */
  start(): void {
    const s = this.options.scenario;
    const warn = (t: string) => this.options.onWarning?.(t);
    if (s.motor.strokeVolumeError !== 0 || s.motor.strokeVolumeNoise !== 0) {
      warn(
        "the scenario's motor: section simulates stroke errors; on a rig the motor is real, so it is ignored",
      );
    }
    this.controller.boot();
    const before = this.events.length;
    this.refill({
      withdrawn: 0,
      added: s.initialFill.volume,
      mixture: s.initialFill.mixture,
      confirm: s.confirm,
    });
    this.controller.command({
      type: 'cmd.program',
      prescription: toPrescription(s.prescription),
      ptm: s.ptm ? toPtm(s.ptm) : undefined,
      confirm: s.confirm,
    });
    const refused = this.events.slice(before).find((e) => e.type === 'refused');
    if (refused && refused.type === 'refused')
      throw new InputError(
        `scenario "${s.name}": initial programming refused by the pump: ${refused.message}`,
      );
    this.controller.command({ type: 'cmd.resume' });
    for (const [index, e] of s.timeline.entries()) {
      if (e.at > s.duration) {
        this.droppedTimeline.push({ index, atMs: e.at });
        continue;
      }
      if (e.motorStall || e.strokeVolumeError !== undefined) {
        warn(
          `timeline event at ${e.at} ms (${e.motorStall ? 'motorStall' : 'strokeVolumeError'}) is a simulator fault and is skipped on a rig`,
        );
        continue;
      }
      this.at(e.at, () => {
        const before = this.events.length;
        this.apply(e);
        this.timelineRefusals.push(...timelineRefusalsOf(e, index, this.events.slice(before)));
      });
    }
    this.scheduleDemand();
    const every =
      this.options.traceEveryMs ??
      (s.duration < 5 * DAY_MS ? Math.max(1, Math.floor(s.duration / 120)) : HOUR_MS);
    this.sample();
    for (let t = every; t < s.duration; t += every) this.at(t, () => this.sample());
  }

  /** Run time now. */
  nowMs(): number {
    return this.options.clock.monotonicMs() - this.startMs;
  }

  /**
   * The end of the scenario: stop the pump so the last batch is reported. `interrupted` (by a
   * signal, before the scenario's end) records where, as `summary.interruptedAtMs`.
   */
  stopPump({ interrupted = false }: { interrupted?: boolean } = {}): void {
    if (this.ended) return;
    this.ended = true;
    if (interrupted) this.interruptedAtMs = this.nowMs();
    for (const t of this.timers) t.cancel();
    this.controller.command({ type: 'cmd.stop' });
  }

  /** Where a signal stopped the run (undefined when it ran to the scenario's end). */
  interruptedAtMs: number | undefined;

  /** Whether every batch has been reported (after `stopPump`, the outputs can be written). */
  get settled(): boolean {
    return (
      !this.options.rig.session.batchOpen &&
      this.controller.state.motor !== 'running' &&
      this.controller.state.motor !== 'stopping'
    );
  }

  /** The timeline commands the pump refused, under their YAML paths. */
  private readonly timelineRefusals: TimelineRefusal[] = [];

  /** Timeline events after the scenario's end: never run. */
  private readonly droppedTimeline: { index: number; atMs: number }[] = [];

  /** Run time of the latest balance reading (−∞ before the first). */
  get balanceUntilMs(): number {
    return this.balance.at(-1)?.timeMs ?? Number.NEGATIVE_INFINITY;
  }

  /** The outputs, in the shapes `itpump run` writes (sim/outputs.ts). */
  result(): RunResult {
    if (this.trace.at(-1)?.timeMs !== this.nowMs()) this.sample();
    this.closeMixturePeriod(this.controller.context.mixture);
    this.controller.stop();
    const view = {
      events: this.events,
      controller: this.controller,
      scenario: this.options.scenario,
      seed: this.seed,
      deliveredPg: this.deliveredPg,
      trueDeliveredPg: this.trueDeliveredPg,
      programmedDosesPg: () => this.programmed.pg,
      clock: { nowMs: () => this.nowMs() },
      reservoirEstimateNl: () => this.reservoirEstimateNl(),
      motor: { trueReservoirNl: this.trueReservoirNl, ranDryAtMs: undefined },
      interruptedAtMs: this.interruptedAtMs,
      timelineRefusals: this.timelineRefusals,
      droppedTimeline: this.droppedTimeline,
    };
    // buildSummary reads exactly these members of a Simulation; the rig supplies them from the
    // balance. tests/rig/rigRun.test.ts checks every summary field is filled.
    const summary = {
      ...buildSummary(view as unknown as Simulation, performance.now() - this.started),
      flowCheck: this.flowCheck.summary(),
    };
    return {
      scenario: this.options.scenario,
      seed: this.seed,
      summary,
      events: this.events,
      trace: this.trace,
      settings: this.settings(),
    };
  }

  // --- Inside -------------------------------------------------------------------------------------

  private at(runMs: number, run: () => void): void {
    this.timers.push(this.options.atPumpMs(this.startMs + runMs, () => !this.ended && run()));
  }

  private apply(e: TimelineEvent): void {
    const c = this.controller;
    if (e.press) this.button.press();
    else if (e.program)
      c.command({
        type: 'cmd.program',
        prescription: e.program.prescription ? toPrescription(e.program.prescription) : undefined,
        ptm: e.program.ptm === null ? null : e.program.ptm ? toPtm(e.program.ptm) : undefined,
        confirm: e.program.confirm,
      });
    else if (e.refill) this.refill(e.refill);
    else if (e.clinicianBolus)
      c.command({
        type: 'cmd.clinicianBolus',
        doseNg: e.clinicianBolus.dose,
        durationMs: e.clinicianBolus.duration,
        confirm: e.clinicianBolus.confirm,
      });
    else if (e.stop) c.command({ type: 'cmd.stop' });
    else if (e.resume) c.command({ type: 'cmd.resume' });
    else if (e.clearAlarms) c.command({ type: 'cmd.clearAlarms' });
    else if (e.setClock) {
      const rtc = this.options.clock.rtcMs();
      const to =
        e.setClock.to !== undefined
          ? Date.parse(e.setClock.to)
          : rtc + (e.setClock.shift ?? 0) - (e.setClock.back ?? 0);
      c.command({ type: 'cmd.setClock', rtcMs: to });
    }
  }

  private refill(r: {
    withdrawn: number | 'auto';
    added: number;
    mixture?: Scenario['initialFill']['mixture'] | undefined;
    confirm: boolean;
  }): void {
    const withdrawnNl = r.withdrawn === 'auto' ? this.trueReservoirNl : r.withdrawn;
    const before = this.events.length;
    this.controller.command({
      type: 'cmd.refill',
      withdrawnNl,
      addedNl: r.added,
      mixture: r.mixture ? toMixture(r.mixture) : undefined,
      confirm: r.confirm,
    });
    if (this.events.slice(before).some((e) => e.type === 'refill'))
      this.trueReservoirNl = Math.max(0, this.trueReservoirNl - withdrawnNl) + r.added;
  }

  /** The same presses as `itpump run` draws for this seed (sim/runner.ts scheduleDemand). */
  private scheduleDemand(): void {
    const s = this.options.scenario;
    const demand = s.demand;
    if (!demand || demand.episodesPerDay <= 0) return;
    const random = new Prng(this.seed).fork('demand');
    const meanGapMs = DAY_MS / demand.episodesPerDay;
    for (
      let t = random.exponential(meanGapMs);
      t < s.duration;
      t += random.exponential(meanGapMs)
    ) {
      const presses = random.int(
        demand.pressesPerEpisode[0],
        Math.max(demand.pressesPerEpisode[0], demand.pressesPerEpisode[1]),
      );
      for (let i = 0; i < presses; i++) {
        const at = Math.floor(t) + i * demand.pressSpacing;
        if (at < s.duration) this.at(at, () => this.button.press());
      }
    }
  }

  private onLog(record: LogRecord): void {
    this.events.push(record);
    if (record.type === 'refill') this.closeMixturePeriod(this.controller.context.mixture);
  }

  private onMotor(e: MotorEvent, listener: (event: MotorEvent) => void): void {
    const c = this.controller.context;
    const mixture = c.batch?.mixture ?? c.mixture ?? [];
    const nominalNl = e.strokesDone * c.config.strokeVolumeNl;
    for (const d of mixture)
      this.deliveredPg.set(
        d.drug,
        (this.deliveredPg.get(d.drug) ?? 0) + dosePg(nominalNl, d.concentrationUgPerMl),
      );
    // A batch ended by a lost link may be counted at its upper bound (hal/serial): not exact.
    this.flowCheck.batchReported(this.nowMs(), e.strokesDone, e.reason !== 'linkLost');
    listener(e);
  }

  private onBalance(r: BalanceReading): void {
    const timeMs = this.runTimeOf(r);
    if (timeMs < 0) return; // a reading from before the run started
    this.tareUg ??= r.massUg;
    const deliveredNl = volumeNlOfMassUg(r.massUg - this.tareUg);
    const failedBefore = this.flowCheck.failure !== null;
    const check = this.flowCheck.reading(timeMs, deliveredNl, this.runningBatchStrokes());
    const row: BalanceRow = {
      timeMs,
      rigTimeMs: r.rigTimeMs,
      massUg: r.massUg,
      deliveredNl,
      stable: r.stable,
      ...(check !== undefined ? { check } : {}),
    };
    this.balance.push(row);
    this.options.onBalanceRow?.(row);
    if (!failedBefore && this.flowCheck.failure !== null)
      this.flowCheckFailed(this.flowCheck.failure);
    // Truth by the balance: what reached it since the last reading came out of the reservoir.
    const delta = deliveredNl - this.lastDeliveredNl;
    this.lastDeliveredNl = deliveredNl;
    this.trueReservoirNl = Math.max(0, this.trueReservoirNl - delta);
    for (const d of this.controller.context.mixture ?? []) {
      this.trueDeliveredPg.set(
        d.drug,
        (this.trueDeliveredPg.get(d.drug) ?? 0) + Math.round(delta * d.concentrationUgPerMl),
      );
    }
  }

  /**
   * The balance disagrees with the reported strokes: the bench's alarm. Delivery stops at once (the
   * pump is stopped, its running batch reported), the rig's buzzer sounds the critical alarm, and
   * the run ends there with its outputs (summary.json `flowCheck.failure`, balance.csv).
   */
  private flowCheckFailed(failure: FlowCheckFailure): void {
    this.options.rig.annunciator.sound('alarmCritical');
    this.stopPump();
    this.options.onFlowCheckFailed?.(failure);
  }

  /** The rig's timestamp on the run's axis: anchored at the first reading of a boot, then unwrapped. */
  private runTimeOf(r: BalanceReading): number {
    const a = this.rigAnchor;
    if (a === undefined || a.bootId !== r.bootId) {
      const unwrappedMs = r.rigTimeMs;
      this.rigAnchor = {
        bootId: r.bootId,
        rawMs: r.rigTimeMs,
        unwrappedMs,
        offsetMs: r.receivedPumpMs - this.startMs - unwrappedMs,
      };
      return r.receivedPumpMs - this.startMs;
    }
    const step = (r.rigTimeMs - a.rawMs + wireTimeModulusMs) % wireTimeModulusMs;
    a.rawMs = r.rigTimeMs;
    a.unwrappedMs += step;
    return a.unwrappedMs + a.offsetMs;
  }

  private closeMixturePeriod(next: Mixture | undefined): void {
    this.programmed.close(this.controller.context, this.options.clock.monotonicMs(), next);
  }

  private reservoirEstimateNl(): number {
    const c = this.controller.context;
    return Math.max(0, c.reservoirNl - this.runningBatchStrokes() * c.config.strokeVolumeNl);
  }

  /**
   * Strokes of the running batch due by now on the run's clock: what the rig should have done so
   * far, accounted only when its report comes (the status line shows both).
   */
  runningBatchStrokes(): number {
    const running = this.controller.context.batch;
    return running ? strokesLeftBy(running, running.count, this.options.clock.monotonicMs()) : 0;
  }

  private sample(): void {
    this.trace.push({
      timeMs: this.nowMs(),
      reservoirEstimateNl: this.reservoirEstimateNl(),
      reservoirTrueNl: Math.round(this.trueReservoirNl),
      deliveredPg: Object.fromEntries(this.deliveredPg),
      trueDeliveredPg: Object.fromEntries(this.trueDeliveredPg),
      therapy: this.controller.state.therapy,
    });
  }
}

/**
 * balance.csv: every reading of the run, with the flow check's band (`accounted_strokes`, `low_nl`,
 * `high_nl`; empty after the check has failed).
 */
export function balanceCsv(rows: readonly BalanceRow[]): string {
  return balanceCsvHeader + rows.map(balanceCsvLine).join('');
}

export const balanceCsvHeader =
  'time_ms,rig_time_ms,mass_ug,delivered_nl,stable,accounted_strokes,low_nl,high_nl\n';

/** One reading as a line of balance.csv, for a file written as the readings come. */
export function balanceCsvLine(r: BalanceRow): string {
  return (
    `${r.timeMs},${r.rigTimeMs},${r.massUg},${r.deliveredNl},${r.stable ? 1 : 0},` +
    (r.check ? `${r.check.accountedStrokes},${r.check.lowNl},${r.check.highNl}` : ',,') +
    '\n'
  );
}

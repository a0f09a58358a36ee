/**
 * The simulation runner: one scenario, one seed, in virtual time.
 *
 * It wires the controller to the simulated drivers, schedules the scenario's timeline and the
 * patient-demand model on the virtual clock, runs to the scenario's end, and collects the pump's
 * event log, a trace of reservoir estimate and truth and cumulative dose per drug, and a summary.
 * Same scenario and seed give identical results (wall time aside).
 *
 * The drug path (docs/drug-path.md §7) is simulated truth, like the true reservoir: every batch of
 * true strokes pushes its true volume of the true reservoir mixture into a plug-flow model of the
 * tubing and catheter (`DrugPathTruth`), and what leaves the tip is what the patient receives. A
 * priming bolus sets up the mixing zone at the front; a pocket fill puts drug under the skin.
 */
import { performance } from 'node:perf_hooks';
import type { Hal } from '../hal/index.js';
import { SimClock } from '../hal/sim/simClock.js';
import { SimMotor, type StrokeRecord } from '../hal/sim/simMotor.js';
import {
  SimAnnunciator,
  SimBattery,
  SimButton,
  batteryDefaults,
} from '../hal/sim/simPeripherals.js';
import type { NvmPort } from '../hal/nvm.js';
import { HalError } from '../hal/halError.js';
import { SimNvm } from '../hal/sim/simNvm.js';
import { Controller } from '../src/controller.js';
import { strokeLeavesAtMs, strokesLeftBy } from '../hal/sim/strokeClock.js';
import { drugPathVolumeNl, sameMixture, type PathMixture } from '../src/dosing/catheter.js';
import { dailyVolumeNl, rateSteps } from '../src/dosing/rates.js';
import type { LogRecord } from '../src/eventLog.js';
import { programmedNlAt } from '../src/pump/decide.js';
import { ProgrammedDoses } from './programmedDoses.js';
import type { Mixture } from '../src/therapy/schema.js';
import { DAY_MS, HOUR_MS, dosePg } from '../src/units.js';
import { Prng } from './prng.js';
import {
  InputError,
  drugLibraryOf,
  drugPathGeometryOf,
  pumpConfigOf,
  toMixture,
  toPrescription,
  toPtm,
  type Scenario,
  type TimelineEvent,
} from './scenario.js';
import { VirtualClock } from './virtualClock.js';
import { DEFAULT_LAYOUT, stateSlotOffset } from '../src/persistence/layout.js';
import { RECORD_HEADER_BYTES } from '../src/persistence/recordCodec.js';
import { scenarioNameOf, timelineRefusalsOf, type TimelineRefusal } from './timelineRefusals.js';
import { buildSummary, type Summary } from './summary.js';
import { DrugPathTruth, type Intention } from './drugPathTruth.js';
export { DrugPathTruth, type DrugChangeWindow, type PrimeRecord } from './drugPathTruth.js';

export interface TraceRow {
  timeMs: number;
  reservoirEstimateNl: number;
  reservoirTrueNl: number;
  /** Per drug, cumulative pg that left the pump by the pump's own accounting (strokes × nominal). */
  deliveredPg: Record<string, number>;
  /** Per drug, cumulative pg that truly left the pump (true stroke volumes). */
  trueDeliveredPg: Record<string, number>;
  therapy: string;
  /** Charge left in the simulated cell (µAh); absent on a rig run. */
  batteryRemainingUah?: number;
  /** Per drug, cumulative pg that left the catheter tip: the patient's intrathecal dose (simulator only). */
  tipPg?: Record<string, number>;
  /** Per drug, the concentration at the catheter tip now, µg/mL (simulator only). */
  tipConcentrationUgPerMl?: Record<string, number>;
  /** Per drug, cumulative pg injected under the skin by pocket fills (simulator only). */
  subcutaneousPg?: Record<string, number>;
}

export interface RunOptions {
  seed?: number;
  /**
   * Keep the controller's records in the simulated NVM (default true). Runs that inject no reset
   * (the fleet) may turn it off: it is about 40 % of a run's time.
   */
  persist?: boolean;
  /** Trace sampling period (default 1 h). */
  traceEveryMs?: number;
  /** Called with the fraction done, at most every simulated day. */
  onProgress?: (fraction: number) => void;
}

export interface RunResult {
  scenario: Scenario;
  seed: number;
  summary: Summary;
  events: LogRecord[];
  trace: TraceRow[];
  /** Remaining charge of the simulated cell, sampled with the trace (simulator runs). */
  battery?: { timeMs: number; remainingUah: number }[];
  settings: Record<string, unknown>;
}

/** The power failed in the middle of a controller step (injected); the harness restarts it. */
export class PowerLoss extends Error {
  override name = 'PowerLoss';
}

/**
 * The simulated NVM with a power-cut switch: `cutPowerAt(write, byte)` lets `write − 1` more writes
 * land, then lands `byte` bytes of the next one and cuts the power (the controller stops mid-step).
 */
export class PowerCutNvm implements NvmPort {
  private armed: { writesLeft: number; byte: number } | undefined;
  writes = 0;
  constructor(readonly inner: SimNvm) {}
  get sizeBytes(): number {
    return this.inner.sizeBytes;
  }
  read(offset: number, length: number): Uint8Array {
    return this.inner.read(offset, length);
  }
  write(offset: number, bytes: Uint8Array): void {
    this.writes++;
    const a = this.armed;
    if (a && --a.writesLeft === 0) {
      this.armed = undefined;
      this.inner.tearNextWriteAt(a.byte);
      try {
        this.inner.write(offset, bytes);
      } catch (e) {
        if (!(e instanceof HalError)) throw e;
      }
      throw new PowerLoss(
        `power cut during NVM write ${this.writes} after ${a.byte} of ${bytes.length} bytes`,
      );
    }
    this.inner.write(offset, bytes);
  }
  cutPowerAt(writeIndex: number, byte: number): void {
    this.armed = { writesLeft: writeIndex, byte };
  }
}

/** The scenario field behind a firmware field of a set-up command, for messages about the file. */
export function scenarioFieldOf(command: string, field: string): string {
  const name = scenarioNameOf(field);
  if (name.startsWith('mixture[')) return `initialFill.${name}`;
  if (command === 'cmd.refill')
    return field === 'addedNl' ? 'initialFill.volume' : `initialFill (${field})`;
  return name;
}

export class Simulation {
  readonly clock = new VirtualClock(0);
  readonly prng: Prng;
  readonly simClock: SimClock;
  readonly motor: SimMotor;
  readonly button = new SimButton();
  readonly annunciator: SimAnnunciator;
  readonly battery: SimBattery;
  controller: Controller;
  readonly nvm: PowerCutNvm;
  readonly hal: Hal;
  resets = 0;
  readonly events: LogRecord[] = [];
  readonly trace: TraceRow[] = [];
  readonly deliveredPg = new Map<string, number>();
  readonly trueDeliveredPg = new Map<string, number>();
  /** Programmed volume per mixture period, for "dose programmed" per drug. */
  private readonly programmed = new ProgrammedDoses();
  private trueMixture: Mixture | undefined;
  /** The simulated tubing and catheter, created with the initial fill. */
  drugPath: DrugPathTruth | undefined;

  constructor(
    /** The scenario; `endAt` shortens it when a live session ends early. */
    public scenario: Scenario,
    readonly seed: number,
    private readonly options: { persist?: boolean } = {},
  ) {
    this.prng = new Prng(seed);
    this.simClock = new SimClock(this.clock, Date.parse(scenario.startRtc));
    const config = pumpConfigOf(scenario);
    this.motor = new SimMotor(
      this.clock,
      {
        strokeVolumeNl: config.strokeVolumeNl,
        strokeVolumeErrorPpm: scenario.motor.strokeVolumeError,
        strokeVolumeNoisePpm: scenario.motor.strokeVolumeNoise,
        stallWindows: [],
      },
      this.prng.fork('motor'),
    );
    this.annunciator = new SimAnnunciator(this.clock);
    this.battery = new SimBattery(this.clock, batteryDefaults);
    this.nvm = new PowerCutNvm(new SimNvm());
    this.hal = {
      clock: this.simClock,
      motor: this.motor,
      nvm: this.nvm,
      annunciator: this.annunciator,
      battery: this.battery,
      button: this.button,
    };
    this.motor.onStrokes = (r) => this.onStrokes(r);
    this.controller = this.newController();
    this.clock.trap = (run) => this.guarded(run);
  }

  private newController(): Controller {
    return new Controller({
      hal: this.hal,
      config: pumpConfigOf(this.scenario),
      library: drugLibraryOf(this.scenario),
      onLog: (r) => this.onLog(r),
      persist: this.options.persist ?? true,
    });
  }

  /**
   * A controller reset (watchdog, brown-out, or a power cut in the middle of a step): the motor
   * drive stops, the controller's RAM is gone, and a new controller boots from what the NVM holds.
   */
  restart(): void {
    this.resets++;
    this.motor.powerCut();
    this.controller.stop();
    this.controller = this.newController();
    this.controller.boot();
  }

  /** Run a harness action; a power cut inside it restarts the controller. */
  guarded(action: () => void): void {
    try {
      action();
    } catch (e) {
      if (!(e instanceof PowerLoss)) throw e;
      this.restart();
    }
  }

  /** The programmed volume up to now, in whole nL (delivered + owed + missed). */
  programmedNl(): number {
    return programmedNlAt(this.controller.context, this.clock.nowMs());
  }

  private onLog(record: LogRecord): void {
    this.events.push(record);
    if (record.type === 'refill') this.closeMixturePeriod(this.controller.context.mixture);
  }

  private closeMixturePeriod(next: Mixture | undefined): void {
    this.programmed.close(this.controller.context, this.clock.nowMs(), next);
  }

  private onStrokes(r: StrokeRecord): void {
    this.battery.consume({ kind: 'strokes', count: r.strokes });
    const c = this.controller.context;
    const mixture = c.batch?.mixture ?? c.mixture ?? [];
    const nominalNl = r.strokes * c.config.strokeVolumeNl;
    for (const d of mixture)
      this.deliveredPg.set(
        d.drug,
        (this.deliveredPg.get(d.drug) ?? 0) + dosePg(nominalNl, d.concentrationUgPerMl),
      );
    for (const d of this.trueMixture ?? mixture)
      this.trueDeliveredPg.set(
        d.drug,
        (this.trueDeliveredPg.get(d.drug) ?? 0) + dosePg(r.volumeNl, d.concentrationUgPerMl),
      );
    this.drugPath?.strokes(r, this.trueMixture ?? mixture, this.intentionOf(r));
  }

  /**
   * What the controller programmed a batch's volume for: the basal share for the mixture the tip
   * should deliver (the old one while a bridge runs), the share of a patient or clinician bolus for
   * the reservoir's mixture (a bolus is sized on it). A priming bolus is meant to fill the path.
   */
  private intentionOf(r: StrokeRecord): Intention {
    const c = this.controller.context;
    const reservoir: PathMixture = c.mixture ?? [];
    const firstStrokeMs = strokeLeavesAtMs(r, 1);
    const b = c.bolus;
    if (b?.kind === 'priming' && firstStrokeMs >= b.startMs && firstStrokeMs < b.endMs)
      return { bolusShare: 0, basal: [], bolus: [] };
    const bridge = c.bridge;
    // Strokes are reported when their batch ends, possibly after a stop paused the bridge: judge
    // them by their own time (a paused bridge ran up to its anchor, the pause).
    const bridgeEndMs =
      bridge === undefined
        ? 0
        : bridge.pausedRateNlPerDay !== undefined
          ? bridge.anchorMs
          : bridge.endMs;
    const bridged =
      bridge !== undefined && firstStrokeMs >= bridge.startMs && firstStrokeMs < bridgeEndMs;
    const batch = c.batch?.batchId === r.batchId ? c.batch : undefined;
    const inBolus =
      b !== undefined &&
      batch !== undefined &&
      firstStrokeMs >= b.startMs &&
      firstStrokeMs < b.endMs &&
      batch.rateNlPerDay > 0;
    return {
      bolusShare: inBolus ? Math.min(1, b.rateNlPerDay / batch.rateNlPerDay) : 0,
      basal: bridged ? bridge.oldMixture : reservoir,
      bolus: reservoir,
    };
  }

  /** Strokes the pump has accounted plus those its running batch has done by now. */
  strokesNow(): number {
    const c = this.controller.context;
    const running = c.batch;
    return (
      c.deliveredStrokes + (running ? strokesLeftBy(running, running.count, this.clock.nowMs()) : 0)
    );
  }

  /** The pump's reservoir estimate now, counting the strokes of a running batch done so far. */
  reservoirEstimateNl(): number {
    const c = this.controller.context;
    const running = c.batch;
    const inFlight = running ? strokesLeftBy(running, running.count, this.clock.nowMs()) : 0;
    return Math.max(0, c.reservoirNl - inFlight * c.config.strokeVolumeNl);
  }

  sample(): void {
    const now = this.clock.nowMs();
    this.motor.flush(); // the truth columns count strokes done so far, not only finished batches
    this.trace.push({
      timeMs: now,
      reservoirEstimateNl: this.reservoirEstimateNl(),
      reservoirTrueNl: this.motor.trueReservoirNl,
      deliveredPg: Object.fromEntries(this.deliveredPg),
      trueDeliveredPg: Object.fromEntries(this.trueDeliveredPg),
      therapy: this.controller.state.therapy,
      batteryRemainingUah: this.battery.remainingUah(),
      ...(this.drugPath
        ? {
            tipPg: Object.fromEntries(this.drugPath.tipPg),
            tipConcentrationUgPerMl: this.drugPath.tipConcentrations(
              new Set([...this.trueDeliveredPg.keys(), ...this.drugPath.tipPg.keys()]),
            ),
            subcutaneousPg: Object.fromEntries(this.drugPath.subcutaneousPg),
          }
        : {}),
    });
  }

  /** Initial fill, programming and start, at time 0. Refusals here make the scenario invalid. */
  setUp(): void {
    const s = this.scenario;
    this.controller.boot();
    const before = this.events.length;
    this.refill({
      withdrawn: 0,
      added: s.initialFill.volume,
      mixture: s.initialFill.mixture,
      confirm: s.confirm,
    });
    this.drugPath = new DrugPathTruth(
      drugPathVolumeNl(drugPathGeometryOf(s)),
      s.catheter.contents,
      toMixture(s.initialFill.mixture),
    );
    this.controller.command({
      type: 'cmd.program',
      prescription: toPrescription(s.prescription),
      ptm: s.ptm ? toPtm(s.ptm) : undefined,
      confirm: s.confirm,
    });
    const refused = this.events.slice(before).find((e) => e.type === 'refused');
    if (refused && refused.type === 'refused') {
      const field = scenarioFieldOf(refused.command, refused.field);
      // A schema refusal's message is "<field>: <value> is invalid: <limit>": the field and the
      // value are already shown, and the limit once is enough.
      const reason = refused.message.replace(`${refused.field}: `, '');
      const invalid = `${refused.value} is invalid: ${refused.limit}`;
      throw new InputError(
        reason === invalid
          ? `${field}: ${refused.value}: refused by the pump: ${refused.limit}`
          : `${field}: ${refused.value}: refused by the pump: ${reason} (limit: ${refused.limit})`,
      );
    }
    this.controller.command({ type: 'cmd.resume' });
  }

  private refill(r: {
    withdrawn: number | 'auto';
    added: number;
    mixture?: Scenario['initialFill']['mixture'] | undefined;
    confirm: boolean;
    bridge?: boolean | undefined;
    pocketFill?: { sharePpm: number } | { volumeNl: number } | undefined;
  }): void {
    this.motor.flush(); // strokes done so far came from the old contents
    const oldDailyPg = this.basalDailyPg();
    const withdrawnNl = r.withdrawn === 'auto' ? this.motor.trueReservoirNl : r.withdrawn;
    const before = this.events.length;
    this.controller.command({
      type: 'cmd.refill',
      withdrawnNl,
      addedNl: r.added,
      mixture: r.mixture ? toMixture(r.mixture) : undefined,
      confirm: r.confirm,
      ...(r.bridge === undefined ? {} : { bridge: r.bridge }),
    });
    const records = this.events.slice(before);
    if (!records.some((e) => e.type === 'refill')) return;
    // A pocket fill: the needle missed the reservoir for part of the injection (docs/sources.md F1). The
    // pump cannot tell; the drug goes under the skin at once.
    const pf = r.pocketFill;
    const pocketNl =
      pf === undefined
        ? 0
        : 'volumeNl' in pf
          ? Math.min(r.added, pf.volumeNl)
          : Math.floor((r.added * pf.sharePpm) / 1_000_000);
    this.motor.trueReservoirNl =
      Math.max(0, this.motor.trueReservoirNl - withdrawnNl) + r.added - pocketNl;
    const next = this.controller.context.mixture ?? [];
    if (pf !== undefined) this.drugPath?.pocketFill(this.clock.nowMs(), pocketNl, next);
    if (this.drugPath && this.trueMixture && !sameMixture(this.trueMixture, next)) {
      this.drugPath.mixtureChanged(
        this.clock.nowMs(),
        next,
        records.some((e) => e.type === 'bridgeStarted'),
        oldDailyPg,
      );
    }
    this.trueMixture = this.controller.context.mixture;
  }

  /** Per drug, pg a day the prescription's basal volume carries of the pump's mixture now. */
  private basalDailyPg(): Map<string, number> {
    const c = this.controller.context;
    const daily = new Map<string, number>();
    if (c.prescription === undefined || c.mixture === undefined || c.mode === 'off') return daily;
    const volumeNl = dailyVolumeNl(rateSteps(c.prescription, c.mixture));
    for (const d of c.mixture) daily.set(d.drug, volumeNl * d.concentrationUgPerMl);
    return daily;
  }

  /** A priming bolus: if the pump starts it, the front of the drug column becomes the mixing zone. */
  private prime(p: NonNullable<TimelineEvent['primingBolus']>): void {
    this.motor.flush(); // strokes done so far pushed the path before the prime
    const before = this.events.length;
    this.controller.command({
      type: 'cmd.primingBolus',
      confirm: p.confirm,
      ...(p.rate === undefined ? {} : { rateNlPerDay: p.rate }),
      ...(p.margin === undefined ? {} : { marginNl: p.margin }),
    });
    const started = this.events
      .slice(before)
      .find((e) => e.type === 'bolusStarted' && e.kind === 'priming');
    if (started && started.type === 'bolusStarted' && this.drugPath) {
      const zone = this.scenario.catheter;
      this.drugPath.primed(this.clock.nowMs(), started.volumeNl, this.trueMixture ?? [], {
        mixingZoneVolumePpm: zone.mixingZone,
        mixingZoneSegmentCount: zone.mixingZoneSegments,
      });
    }
  }

  apply(e: TimelineEvent): void {
    const c = this.controller;
    const telemetry =
      e.program ??
      e.refill ??
      e.clinicianBolus ??
      e.primingBolus ??
      e.stop ??
      e.resume ??
      e.clearAlarms ??
      e.setClock;
    if (telemetry !== undefined) this.battery.consume({ kind: 'telemetry' }); // a programmer session
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
    else if (e.primingBolus) this.prime(e.primingBolus);
    else if (e.stop) c.command({ type: 'cmd.stop' });
    else if (e.resume) c.command({ type: 'cmd.resume' });
    else if (e.clearAlarms) c.command({ type: 'cmd.clearAlarms' });
    else if (e.setClock) {
      const rtc = this.simClock.rtcMs();
      const to =
        e.setClock.to !== undefined
          ? Date.parse(e.setClock.to)
          : rtc + (e.setClock.shift ?? 0) - (e.setClock.back ?? 0);
      c.command({ type: 'cmd.setClock', rtcMs: to });
    } else if (e.motorStall)
      this.motor.injectStall(this.clock.nowMs(), this.clock.nowMs() + e.motorStall.for);
    else if (e.strokeVolumeError !== undefined)
      this.motor.strokeVolumeErrorPpm = e.strokeVolumeError;
    else if (e.reset) {
      if (e.reset.duringWrite !== undefined)
        this.nvm.cutPowerAt(e.reset.duringWrite, e.reset.atByte ?? 0);
      else this.restart();
    } else if (e.corruptMemory) this.corrupt(e.corruptMemory.record);
    else if (e.batteryLevel) this.battery.drainTo(e.batteryLevel);
  }

  /** Flip a bit in both copies of a state record (retention loss), to be found at the next boot. */
  corrupt(record: 'prescription' | 'ledger' | 'reservoir' | 'alarms' | 'clock'): void {
    const layout = DEFAULT_LAYOUT;
    for (const slot of [0, 1] as const)
      this.nvm.inner.flipBit(stateSlotOffset(layout, record, slot) + RECORD_HEADER_BYTES, 0);
  }

  /** Breakthrough-pain episodes: Poisson arrivals, each a burst of presses. */
  scheduleDemand(): void {
    const demand = this.scenario.demand;
    if (!demand || demand.episodesPerDay <= 0) return;
    const random = this.prng.fork('demand');
    const meanGapMs = DAY_MS / demand.episodesPerDay;
    for (
      let t = random.exponential(meanGapMs);
      t < this.scenario.duration;
      t += random.exponential(meanGapMs)
    ) {
      const presses = random.int(
        demand.pressesPerEpisode[0],
        Math.max(demand.pressesPerEpisode[0], demand.pressesPerEpisode[1]),
      );
      for (let i = 0; i < presses; i++) {
        const at = Math.floor(t) + i * demand.pressSpacing;
        if (at < this.scenario.duration)
          this.clock.schedule(at, () => this.guarded(() => this.button.press()));
      }
    }
  }

  run(options: RunOptions = {}): void {
    const every = this.start(options);
    for (let t = every; t <= this.scenario.duration; t += every) this.runTo(t, options);
    this.finish();
  }

  /**
   * The same run, yielding to the event loop after every simulated day, so that a signal can
   * interrupt it: once `signal` is aborted the pump is stopped as a clinician would stop it, the
   * running batch is accounted, and the run ends there. Returns the time it ended at.
   */
  async runInterruptible(options: RunOptions & { signal: AbortSignal }): Promise<number> {
    const every = this.start(options);
    for (let t = every; t <= this.scenario.duration; t += every) {
      if (t % DAY_MS < every) await new Promise((resolve) => setImmediate(resolve));
      if (options.signal.aborted) return this.interrupt();
      this.runTo(t, options);
    }
    this.finish();
    return this.scenario.duration;
  }

  /**
   * Set up, schedule the timeline and the demand, take the first sample; returns the period.
   * `start`, `runTo`, `applyTimed`, `finish` and `endAt` are public for `itpump live`
   * (sim/live/session.ts), which runs the same steps paced against the wall clock.
   */
  start(options: RunOptions): number {
    const duration = this.scenario.duration;
    this.setUp();
    this.scenario.timeline.forEach((e, index) => {
      if (e.at <= duration)
        this.clock.schedule(e.at, () => this.guarded(() => this.applyTimed(e, index)));
      else this.droppedTimeline.push({ index, atMs: e.at });
    });
    this.scheduleDemand();
    this.sample();
    return options.traceEveryMs ?? HOUR_MS;
  }

  /** The timeline commands the pump refused, in the scenario's words (`timeline[3].refill.…`). */
  readonly timelineRefusals: TimelineRefusal[] = [];

  /** Timeline events after the scenario's end: never run. */
  readonly droppedTimeline: { index: number; atMs: number }[] = [];

  /** Apply a timeline event, and note what the pump refused of it under its YAML path. */
  applyTimed(e: TimelineEvent, index: number): void {
    const before = this.events.length;
    try {
      this.apply(e);
    } finally {
      this.timelineRefusals.push(...timelineRefusalsOf(e, index, this.events.slice(before)));
    }
  }

  runTo(t: number, options: RunOptions): void {
    this.clock.runUntil(t);
    this.sample();
    if (options.onProgress && t % DAY_MS === 0) options.onProgress(t / this.scenario.duration);
  }

  finish(): void {
    const duration = this.scenario.duration;
    this.clock.runUntil(duration);
    this.motor.flush();
    if (this.trace.at(-1)?.timeMs !== duration) this.sample();
    this.closeMixturePeriod(this.controller.context.mixture);
  }

  /**
   * End the run at `atMs` as if the scenario lasted that long (a live session ended early): the
   * timeline events after it are listed as after the end, then the run finishes as `run` does.
   * The caller stands the clock at `atMs` with nothing left due up to it.
   */
  endAt(atMs: number): void {
    this.scenario = { ...this.scenario, duration: atMs };
    this.scenario.timeline.forEach((e, index) => {
      if (e.at > atMs) this.droppedTimeline.push({ index, atMs: e.at });
    });
    this.finish();
  }

  /** Stop the pump now (if it infuses), let the motor report its stop, and end the run here. */
  private interrupt(): number {
    const nowMs = this.clock.nowMs();
    this.guarded(() => this.controller.command({ type: 'cmd.stop' }));
    this.clock.runUntil(nowMs);
    this.motor.flush();
    if (this.trace.at(-1)?.timeMs !== nowMs) this.sample();
    this.closeMixturePeriod(this.controller.context.mixture);
    this.interruptedAtMs = nowMs;
    return nowMs;
  }

  /** Where an interrupted run ended (undefined when it ran its whole duration). */
  interruptedAtMs: number | undefined;

  programmedDosesPg(): Map<string, number> {
    return this.programmed.pg;
  }

  /** Settings derived from the scenario, printed first so a run can be replayed. */
  settings(): Record<string, unknown> {
    const s = this.scenario;
    const config = pumpConfigOf(s);
    const steps = rateSteps(toPrescription(s.prescription), toMixture(s.initialFill.mixture));
    return {
      scenario: s.name,
      seed: this.seed,
      durationMs: s.duration,
      startRtc: s.startRtc,
      pump: config,
      initialBasalRatesNlPerDay: steps.ratesNlPerDay,
      motor: {
        strokeVolumeErrorPpm: s.motor.strokeVolumeError,
        strokeVolumeNoisePpm: s.motor.strokeVolumeNoise,
      },
      battery: this.battery.options,
      demand: s.demand ?? null,
      drugLibrary: drugLibraryOf(s).name,
    };
  }
}

export function runScenario(scenario: Scenario, options: RunOptions = {}): RunResult {
  const seed = options.seed ?? scenario.seed;
  const started = performance.now();
  const sim = new Simulation(scenario, seed, { persist: options.persist ?? true });
  sim.run(options);
  return resultOf(sim, seed, performance.now() - started);
}

/**
 * `runScenario` that a signal can interrupt (the CLI's Ctrl-C): the pump is stopped safely at the
 * virtual time reached, the running batch accounted, and the result covers the run up to there
 * (`summary.interruptedAtMs`).
 */
export async function runScenarioInterruptible(
  scenario: Scenario,
  options: RunOptions & { signal: AbortSignal },
): Promise<RunResult> {
  const seed = options.seed ?? scenario.seed;
  const started = performance.now();
  const sim = new Simulation(scenario, seed, { persist: options.persist ?? true });
  await sim.runInterruptible(options);
  return resultOf(sim, seed, performance.now() - started);
}

/** A finished simulation's result (`wallTimeMs`: what it took on the wall clock). */
export function resultOf(sim: Simulation, seed: number, wallTimeMs: number): RunResult {
  const battery = sim.trace.map((r) => ({
    timeMs: r.timeMs,
    remainingUah: r.batteryRemainingUah ?? 0,
  }));
  return {
    scenario: sim.scenario,
    seed,
    summary: buildSummary(sim, wallTimeMs),
    events: sim.events,
    trace: sim.trace,
    battery,
    settings: sim.settings(),
  };
}

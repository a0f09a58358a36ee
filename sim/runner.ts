/**
 * The simulation runner: one scenario, one seed, in virtual time.
 *
 * It wires the controller to the simulated drivers, schedules the scenario's timeline and the
 * patient-demand model on the virtual clock, runs to the scenario's end, and collects the pump's
 * event log, a trace of reservoir estimate and truth and cumulative dose per drug, and a summary.
 * Same scenario and seed give identical results (wall time aside).
 */
import { performance } from 'node:perf_hooks';
import type { Hal } from '../hal/index.js';
import { SimClock } from '../hal/sim/simClock.js';
import { SimMotor, type StrokeRecord } from '../hal/sim/simMotor.js';
import { SimAnnunciator, SimBattery, SimButton, batteryDefaults } from '../hal/sim/simPeripherals.js';
import type { NvmPort } from '../hal/nvm.js';
import { HalError } from '../hal/halError.js';
import { SimNvm } from '../hal/sim/simNvm.js';
import { Controller } from '../src/controller.js';
import { FINE_PER_NL, programmedFine, strokesBy } from '../src/dosing/delivery.js';
import { rateSteps } from '../src/dosing/rates.js';
import type { LogRecord } from '../src/eventLog.js';
import { programmeOf } from '../src/pump/decide.js';
import type { Mixture } from '../src/therapy/schema.js';
import { DAY_MS, HOUR_MS, dosePg } from '../src/units.js';
import { Prng } from './prng.js';
import { InputError, drugLibraryOf, pumpConfigOf, toMixture, toPrescription, toPtm, type Scenario, type TimelineEvent } from './scenario.js';
import { VirtualClock } from './virtualClock.js';
import { DEFAULT_LAYOUT, stateSlotOffset } from '../src/persistence/layout.js';
import { RECORD_HEADER_BYTES } from '../src/persistence/recordCodec.js';
import { buildSummary, type Summary } from './summary.js';

export interface TraceRow {
  timeMs: number;
  reservoirEstimateNl: number;
  reservoirTrueNl: number;
  /** Per drug, cumulative pg that left the pump by the pump's own accounting (strokes × nominal). */
  deliveredPg: Record<string, number>;
  /** Per drug, cumulative pg that truly left the pump (true stroke volumes). */
  trueDeliveredPg: Record<string, number>;
  therapy: string;
}

export interface RunOptions {
  seed?: number;
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
      throw new PowerLoss(`power cut during NVM write ${this.writes} after ${a.byte} of ${bytes.length} bytes`);
    }
    this.inner.write(offset, bytes);
  }
  cutPowerAt(writeIndex: number, byte: number): void {
    this.armed = { writesLeft: writeIndex, byte };
  }
}

/** The scenario field behind a firmware field of a set-up command, for messages about the file. */
export function scenarioFieldOf(command: string, field: string): string {
  if (command === 'cmd.refill') {
    if (field === 'addedNl') return 'initialFill.volume';
    const m = /^mixture\[(\d+)\]\.(drug|concentrationUgPerMl)/.exec(field);
    if (m) return `initialFill.mixture[${m[1]}].${m[2] === 'drug' ? 'drug' : 'concentration'}`;
    return `initialFill (${field})`;
  }
  const names: Record<string, string> = {
    'prescription.doseNgPerDay': 'prescription.dose',
    'ptm.bolusDoseNg': 'ptm.bolusDose',
    'ptm.bolusesPer24hMax': 'ptm.maxPer24h',
    'ptm.bolusDurationMs': 'ptm.bolusDuration',
    'ptm.lockoutMs': 'ptm.lockout',
  };
  const m = /^mixture\[(\d+)\]\.(drug|concentrationUgPerMl)/.exec(field);
  if (m) return `initialFill.mixture[${m[1]}].${m[2] === 'drug' ? 'drug' : 'concentration'}`;
  return names[field] ?? field;
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
  private readonly programmedPg = new Map<string, number>();
  private programmedNlAtMixtureStart = 0;
  private mixtureOfPeriod: Mixture | undefined;
  private trueMixture: Mixture | undefined;

  constructor(readonly scenario: Scenario, readonly seed: number) {
    this.prng = new Prng(seed);
    this.simClock = new SimClock(this.clock, Date.parse(scenario.startRtc));
    const config = pumpConfigOf(scenario);
    this.motor = new SimMotor(this.clock, { strokeVolumeNl: config.strokeVolumeNl, strokeVolumeErrorPpm: scenario.motor.strokeVolumeError, strokeVolumeNoisePpm: scenario.motor.strokeVolumeNoise, stallWindows: [] }, this.prng.fork('motor'));
    this.annunciator = new SimAnnunciator(this.clock);
    this.battery = new SimBattery(this.clock, batteryDefaults);
    this.nvm = new PowerCutNvm(new SimNvm());
    this.hal = { clock: this.simClock, motor: this.motor, nvm: this.nvm, annunciator: this.annunciator, battery: this.battery, button: this.button };
    this.motor.onStrokes = (r) => this.onStrokes(r);
    this.controller = this.newController();
    this.clock.trap = (run) => this.guarded(run);
  }

  private newController(): Controller {
    return new Controller({ hal: this.hal, config: pumpConfigOf(this.scenario), library: drugLibraryOf(this.scenario), onLog: (r) => this.onLog(r) });
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
    const c = this.controller.context;
    const pending = programmedFine(programmeOf(c), c.settledAtMs, Math.max(c.settledAtMs, this.clock.nowMs()));
    return c.deliveredStrokes * c.config.strokeVolumeNl + Math.floor((c.owedFine + c.missedFine + pending) / FINE_PER_NL);
  }

  private onLog(record: LogRecord): void {
    this.events.push(record);
    if (record.type === 'refill') this.closeMixturePeriod(this.controller.context.mixture);
  }

  private closeMixturePeriod(next: Mixture | undefined): void {
    const nowNl = this.programmedNl();
    const deltaNl = nowNl - this.programmedNlAtMixtureStart;
    for (const d of this.mixtureOfPeriod ?? []) this.programmedPg.set(d.drug, (this.programmedPg.get(d.drug) ?? 0) + dosePg(deltaNl, d.concentrationUgPerMl));
    this.programmedNlAtMixtureStart = nowNl;
    this.mixtureOfPeriod = next;
  }

  private onStrokes(r: StrokeRecord): void {
    const c = this.controller.context;
    const mixture = c.batch?.mixture ?? c.mixture ?? [];
    const nominalNl = r.strokes * c.config.strokeVolumeNl;
    for (const d of mixture) this.deliveredPg.set(d.drug, (this.deliveredPg.get(d.drug) ?? 0) + dosePg(nominalNl, d.concentrationUgPerMl));
    for (const d of this.trueMixture ?? mixture) this.trueDeliveredPg.set(d.drug, (this.trueDeliveredPg.get(d.drug) ?? 0) + dosePg(r.volumeNl, d.concentrationUgPerMl));
  }

  /** Strokes the pump has accounted plus those its running batch has done by now. */
  strokesNow(): number {
    const c = this.controller.context;
    const running = c.batch;
    return c.deliveredStrokes + (running ? strokesBy(running, running.count, this.clock.nowMs()) : 0);
  }

  /** The pump's reservoir estimate now, counting the strokes of a running batch done so far. */
  reservoirEstimateNl(): number {
    const c = this.controller.context;
    const running = c.batch;
    const inFlight = running ? strokesBy(running, running.count, this.clock.nowMs()) : 0;
    return Math.max(0, c.reservoirNl - inFlight * c.config.strokeVolumeNl);
  }

  sample(): void {
    const now = this.clock.nowMs();
    this.trace.push({
      timeMs: now,
      reservoirEstimateNl: this.reservoirEstimateNl(),
      reservoirTrueNl: this.motor.trueReservoirNl,
      deliveredPg: Object.fromEntries(this.deliveredPg),
      trueDeliveredPg: Object.fromEntries(this.trueDeliveredPg),
      therapy: this.controller.state.therapy,
    });
  }

  /** Initial fill, programming and start, at time 0. Refusals here make the scenario invalid. */
  setUp(): void {
    const s = this.scenario;
    this.controller.boot();
    const before = this.events.length;
    this.refill({ withdrawn: 0, added: s.initialFill.volume, mixture: s.initialFill.mixture, confirm: s.confirm });
    this.controller.command({ type: 'cmd.program', prescription: toPrescription(s.prescription), ptm: s.ptm ? toPtm(s.ptm) : undefined, confirm: s.confirm });
    const refused = this.events.slice(before).find((e) => e.type === 'refused');
    if (refused && refused.type === 'refused') {
      const field = scenarioFieldOf(refused.command, refused.field);
      throw new InputError(`${field}: ${refused.value}: refused by the pump: ${refused.message.replace(`${refused.field}: `, '')} (limit: ${refused.limit})`);
    }
    this.controller.command({ type: 'cmd.resume' });
  }

  private refill(r: { withdrawn: number | 'auto'; added: number; mixture?: Scenario['initialFill']['mixture'] | undefined; confirm: boolean }): void {
    this.motor.flush(); // strokes done so far came from the old contents
    const withdrawnNl = r.withdrawn === 'auto' ? this.motor.trueReservoirNl : r.withdrawn;
    const before = this.events.length;
    this.controller.command({ type: 'cmd.refill', withdrawnNl, addedNl: r.added, mixture: r.mixture ? toMixture(r.mixture) : undefined, confirm: r.confirm });
    if (this.events.slice(before).some((e) => e.type === 'refill')) {
      this.motor.trueReservoirNl = Math.max(0, this.motor.trueReservoirNl - withdrawnNl) + r.added;
      this.trueMixture = this.controller.context.mixture;
    }
  }

  apply(e: TimelineEvent): void {
    const c = this.controller;
    if (e.press) this.button.press();
    else if (e.program) c.command({ type: 'cmd.program', prescription: e.program.prescription ? toPrescription(e.program.prescription) : undefined, ptm: e.program.ptm === null ? null : e.program.ptm ? toPtm(e.program.ptm) : undefined, confirm: e.program.confirm });
    else if (e.refill) this.refill(e.refill);
    else if (e.clinicianBolus) c.command({ type: 'cmd.clinicianBolus', doseNg: e.clinicianBolus.dose, durationMs: e.clinicianBolus.duration, confirm: e.clinicianBolus.confirm });
    else if (e.stop) c.command({ type: 'cmd.stop' });
    else if (e.resume) c.command({ type: 'cmd.resume' });
    else if (e.clearAlarms) c.command({ type: 'cmd.clearAlarms' });
    else if (e.setClock) {
      const rtc = this.simClock.rtcMs();
      const to = e.setClock.to !== undefined ? Date.parse(e.setClock.to) : rtc + (e.setClock.shift ?? 0) - (e.setClock.back ?? 0);
      c.command({ type: 'cmd.setClock', rtcMs: to });
    } else if (e.motorStall) this.motor.injectStall(this.clock.nowMs(), this.clock.nowMs() + e.motorStall.for);
    else if (e.strokeVolumeError !== undefined) this.motor.strokeVolumeErrorPpm = e.strokeVolumeError;
    else if (e.reset) {
      if (e.reset.duringWrite !== undefined) this.nvm.cutPowerAt(e.reset.duringWrite, e.reset.atByte ?? 0);
      else this.restart();
    } else if (e.corruptMemory) this.corrupt(e.corruptMemory.record);
  }

  /** Flip a bit in both copies of a state record (retention loss), to be found at the next boot. */
  corrupt(record: 'prescription' | 'ledger' | 'reservoir' | 'alarms' | 'clock'): void {
    const layout = DEFAULT_LAYOUT;
    for (const slot of [0, 1] as const) this.nvm.inner.flipBit(stateSlotOffset(layout, record, slot) + RECORD_HEADER_BYTES, 0);
  }

  /** Breakthrough-pain episodes: Poisson arrivals, each a burst of presses. */
  scheduleDemand(): void {
    const demand = this.scenario.demand;
    if (!demand || demand.episodesPerDay <= 0) return;
    const random = this.prng.fork('demand');
    const meanGapMs = DAY_MS / demand.episodesPerDay;
    for (let t = random.exponential(meanGapMs); t < this.scenario.duration; t += random.exponential(meanGapMs)) {
      const presses = random.int(demand.pressesPerEpisode[0], Math.max(demand.pressesPerEpisode[0], demand.pressesPerEpisode[1]));
      for (let i = 0; i < presses; i++) {
        const at = Math.floor(t) + i * demand.pressSpacing;
        if (at < this.scenario.duration) this.clock.schedule(at, () => this.guarded(() => this.button.press()));
      }
    }
  }

  run(options: RunOptions = {}): void {
    const duration = this.scenario.duration;
    this.setUp();
    for (const e of this.scenario.timeline) if (e.at <= duration) this.clock.schedule(e.at, () => this.guarded(() => this.apply(e)));
    this.scheduleDemand();
    const every = options.traceEveryMs ?? HOUR_MS;
    this.sample();
    for (let t = every; t <= duration; t += every) {
      this.clock.runUntil(t);
      this.sample();
      if (options.onProgress && t % DAY_MS === 0) options.onProgress(t / duration);
    }
    this.clock.runUntil(duration);
    this.motor.flush();
    if (this.trace.at(-1)?.timeMs !== duration) this.sample();
    this.closeMixturePeriod(this.controller.context.mixture);
  }

  programmedDosesPg(): Map<string, number> {
    return this.programmedPg;
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
      motor: { strokeVolumeErrorPpm: s.motor.strokeVolumeError, strokeVolumeNoisePpm: s.motor.strokeVolumeNoise },
      battery: this.battery.options,
      demand: s.demand ?? null,
      drugLibrary: drugLibraryOf(s).name,
    };
  }
}

export function runScenario(scenario: Scenario, options: RunOptions = {}): RunResult {
  const seed = options.seed ?? scenario.seed;
  const started = performance.now();
  const sim = new Simulation(scenario, seed);
  sim.run(options);
  const wallTimeMs = performance.now() - started;
  return { scenario, seed, summary: buildSummary(sim, wallTimeMs), events: sim.events, trace: sim.trace, settings: sim.settings() };
}

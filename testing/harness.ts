/**
 * The QA harness: the real controller (src/controller.ts) on the simulated drivers, in virtual time.
 *
 * A `PumpRig` owns a virtual clock and one of each simulated driver (clock, motor, button,
 * annunciator, battery, NVM), wires them to a `Controller` exactly as sim/runner.ts does, boots it,
 * and records what a test needs to judge the pump from the outside:
 * - every event-log record (unbounded, unlike the pump's own ring);
 * - every motor batch the controller commanded, with the mixture that was in the reservoir when it
 *   started, how it ended and how many strokes truly happened (from `SimMotor.onStrokes`); stroke j
 *   of a batch happens at start + lead + (j − 1) × interval;
 * - the mixture in the reservoir, from the refill records the pump logged (not from its context).
 * Hooks given in `onStep` run after every event the controller handles: that is where invariant
 * checks see every intermediate state. A hook that throws stops the run with its message.
 *
 * Time is monotonic milliseconds since the rig was built (0 = start), printed as "2d 08:10:00".
 * The rig must not know the invariants or the reference model; it only drives and observes.
 */
import type { Hal, MotorEvent, MotorPort, StrokeBatch, TonePattern } from '../hal/index.js';
import { SimClock } from '../hal/sim/simClock.js';
import { SimMotor, type StrokeRecord } from '../hal/sim/simMotor.js';
import { SimNvm } from '../hal/sim/simNvm.js';
import {
  SimAnnunciator,
  SimBattery,
  SimButton,
  batteryDefaults,
} from '../hal/sim/simPeripherals.js';
import { Prng } from '../sim/prng.js';
import { VirtualClock } from '../sim/virtualClock.js';
import { Controller } from '../src/controller.js';
import {
  createDrugPath,
  push,
  pushVolumeNlMax,
  sameMixture,
  type DrugPath,
  type TipOutflow,
} from '../src/dosing/catheter.js';
import { FINE_PER_NL, programmedFine } from '../src/dosing/delivery.js';
import { strokeLeavesAtMs, strokesLeftBy } from '../hal/sim/strokeClock.js';
import { ProgrammedVolume } from './programmedVolume.js';
import type { LogBody, LogRecord } from '../src/eventLog.js';
import { programmeOf } from '../src/pump/decide.js';
import type { CommandEvent, RestoredState } from '../src/pump/types.js';
import { tipMixtureWorstCase } from './model.js';
import type { DoneStroke } from './dailyCap.js';
import { defaultDrugLibrary } from '../src/therapy/drugLibrary.js';
import {
  deadVolumeNlOf,
  type DrugLibrary,
  type Mixture,
  type PumpConfig,
} from '../src/therapy/schema.js';
import { DAY_MS, MINUTE_MS, NL_PER_ML, dosePg, formatTimeMs } from '../src/units.js';

/** The 20 mL pump of the default scenario (sim/scenarios/default.yaml). */
export const defaultPumpConfig: PumpConfig = {
  model: '20 mL',
  reservoirCapacityNl: 20 * NL_PER_ML,
  strokeVolumeNl: 500,
  lowReservoirNl: 2 * NL_PER_ML,
  emptyReservoirNl: NL_PER_ML / 2,
  safeMinimumRateNlPerDay: 48_000,
  stallRetryMs: 10 * MINUTE_MS,
  stallAttemptsMax: 3,
  refillDiscrepancyPercentMax: 20,
};

/**
 * Every stroke of a batch falls within this long after its start: the lead is under a day and a
 * batch runs at most `batchDurationMsMax` (a day). Lets the observers skip old batches.
 */
const batchSpanMs = 2 * DAY_MS;

/** Events one `advance` may run: days of alarm tones, stall retries and batches fit many times over. */
export const eventsPerAdvanceMax = 200_000;

/** 2025-01-06T00:00:00Z, a Monday at midnight: the default scenario's start. */
export const defaultStartRtcMs = Date.UTC(2025, 0, 6);

export interface PumpRigOptions {
  config?: PumpConfig;
  library?: DrugLibrary;
  /** The real-time clock at the start (ms since 1970). */
  startRtcMs?: number;
  /** Seeds the motor's noise stream (only used with `strokeVolumeNoisePpm`). */
  seed?: number;
  /** A systematic stroke-volume error in ppm; 0 (the default) is an ideal motor. */
  strokeVolumeErrorPpm?: number;
  strokeVolumeNoisePpm?: number;
  /** Checks run after every event the controller handles. */
  onStep?: ((rig: PumpRig) => void)[];
  /** Leave the controller in its start-up state (default: boot at time 0). */
  noBoot?: boolean;
  /**
   * What a recorded catheter holds before the first fill: drug-free fluid (a new implant, to be
   * primed) or, by default, the first mixture filled (an established catheter).
   */
  catheterFill?: 'saline' | 'firstMixture';
}

/** A motor batch as commanded, and what truly came of it. */
export interface BatchRecord extends StrokeBatch {
  startMs: number;
  /** The mixture in the reservoir when the batch started (the harness's own record of refills). */
  mixture: Mixture;
  /**
   * The mixture the pump must count the batch's strokes as: the reservoir's, or during a bridge
   * the worst the path may push (`tipMixtureWorstCase` from the pump's bridge records, REQ-LIM-7).
   */
  countedMixture: Mixture;
  /** When the controller stopped it, if it did. */
  stoppedAtMs: number | undefined;
  /** Strokes that truly happened, once the batch has ended (or power was cut under it). */
  strokesDone: number | undefined;
  /** Strokes the motor has accounted so far (it may account a running batch early, at a power cut). */
  strokesMoved: number;
  endReason: MotorEvent['reason'] | undefined;
  /** Strokes before the first one that falls in a stall window known when it started (or was cut). */
  stallCap: number;
  /** The drug path before this batch pushed into it (a recorded catheter only). */
  pathBefore: DrugPath | undefined;
  /**
   * What left the catheter tip as this batch pushed, oldest first: for all its planned strokes
   * while it runs (a prefix of the pushed volume leaves as the same prefix of this), for the strokes
   * it did once it ended.
   */
  tipOut: readonly TipOutflow[] | undefined;
}

/** Adds, per drug, what left the tip while the batch's pushed volume went from `fromNl` to `toNl`. */
function addTipDoses(
  into: Map<string, number>,
  tipOut: readonly TipOutflow[],
  fromNl: number,
  toNl: number,
): void {
  let start = 0;
  for (const out of tipOut) {
    const end = start + out.volumeNl;
    const overlap = Math.min(end, toNl) - Math.max(start, fromNl);
    if (overlap > 0)
      for (const [drug, pg] of out.dosePg)
        into.set(drug, (into.get(drug) ?? 0) + (pg * overlap) / out.volumeNl);
    if (end >= toNl) break;
    start = end;
  }
}

/**
 * 1-based index of the first stroke of a batch inside a stall window, minus one: the strokes the
 * mechanism completes. The simulated motor decides this when a batch starts or a stall is injected.
 */
export function strokesBeforeStall(
  b: StrokeBatch & { startMs: number },
  windows: readonly { fromMs: number; toMs: number }[],
): number {
  let cap = b.count;
  const first = strokeLeavesAtMs(b, 1);
  for (const w of windows) {
    if (w.toMs <= first) continue;
    const j = w.fromMs <= first ? 1 : Math.ceil((w.fromMs - first) / b.intervalMs) + 1;
    if (j <= b.count && strokeLeavesAtMs(b, j) < w.toMs) cap = Math.min(cap, j - 1);
  }
  return cap;
}

/** What one clinician command or press did, as the log shows it. */
export interface Outcome {
  atMs: number;
  records: LogRecord[];
  refused: Extract<LogRecord, { type: 'refused' }>[];
  /** The tone patterns sounded meanwhile, in order. */
  tones: TonePattern[];
}

/**
 * A motor port in front of the simulated motor that records each commanded batch. It forwards
 * every call unchanged, so the controller sees the simulated motor exactly.
 */
class RecordingMotor implements MotorPort {
  constructor(
    private readonly rig: PumpRig,
    private readonly motor: SimMotor,
  ) {}

  deliver(batch: StrokeBatch): void {
    this.motor.deliver(batch);
    const startMs = this.rig.nowMs;
    const stallCap = strokesBeforeStall({ ...batch, startMs }, this.rig.stallWindows);
    const mixture = this.rig.reservoirMixture;
    const countedMixture =
      mixture.length === 0 ? mixture : tipMixtureWorstCase(mixture, this.rig.log);
    this.rig.recordBatch({
      ...batch,
      startMs,
      mixture,
      countedMixture,
      stoppedAtMs: undefined,
      strokesDone: undefined,
      endReason: undefined,
      stallCap,
      strokesMoved: 0,
      pathBefore: undefined,
      tipOut: undefined,
    });
  }

  stop(): void {
    const running = this.rig.runningBatch();
    if (running && running.stoppedAtMs === undefined) running.stoppedAtMs = this.rig.nowMs;
    this.motor.stop();
  }

  listen(listener: (event: MotorEvent) => void): void {
    this.motor.listen((e) => {
      const b = this.rig.batchById(e.batchId);
      if (b && b.strokesDone === undefined) {
        b.endReason = e.reason;
        this.rig.batchEnded(b, e.strokesDone);
      }
      listener(e);
    });
  }
}

export class PumpRig {
  readonly clock = new VirtualClock(0);
  readonly config: PumpConfig;
  readonly library: DrugLibrary;
  readonly simClock: SimClock;
  readonly motor: SimMotor;
  readonly button = new SimButton();
  readonly annunciator: SimAnnunciator;
  readonly battery: SimBattery;
  readonly nvm = new SimNvm();
  readonly hal: Hal;
  controller: Controller;
  /** Every log record, in order (the pump's ring may have dropped old ones). */
  readonly log: LogRecord[] = [];
  /** Every batch the controller commanded, in order. */
  readonly batches: BatchRecord[] = [];
  /** The batches that moved drug or may still (the running one): what the observers add up. */
  private readonly counted: BatchRecord[] = [];
  /** The mixture in the reservoir, as set by accepted refills (empty before the first fill). */
  reservoirMixture: Mixture = [];
  /** Monotonic times of the accepted refills. */
  readonly refillsMs: number[] = [];
  /** Stall windows the test injected. */
  readonly stallWindows: { fromMs: number; toMs: number }[] = [];
  readonly onStep: ((rig: PumpRig) => void)[];
  /** INV-4's oracle: the programmed volume by the kit's arithmetic, fed after every step. */
  private readonly programme: ProgrammedVolume;
  /** Controller steps handled so far (counts across restarts). */
  steps = 0;
  /** Strokes of the batches that have ended (kept so "delivered so far" costs nothing per step). */
  endedStrokes = 0;
  /** The drug path from the reservoir outlet to the catheter tip, when the catheter is recorded. */
  path: DrugPath | undefined;
  private readonly deadVolumeNl: number;
  private readonly motorErrorFree: boolean;
  private readonly catheterFill: 'saline' | 'firstMixture';

  constructor(options: PumpRigOptions = {}) {
    this.config = options.config ?? defaultPumpConfig;
    this.deadVolumeNl = deadVolumeNlOf(this.config) ?? 0;
    this.catheterFill = options.catheterFill ?? 'firstMixture';
    if (this.deadVolumeNl > 0 && this.catheterFill === 'saline')
      this.path = createDrugPath({ deadVolumeNl: this.deadVolumeNl, fill: [], label: 'saline' });
    this.library = options.library ?? defaultDrugLibrary;
    this.onStep = [...(options.onStep ?? [])];
    this.simClock = new SimClock(this.clock, options.startRtcMs ?? defaultStartRtcMs);
    this.motor = new SimMotor(
      this.clock,
      {
        strokeVolumeNl: this.config.strokeVolumeNl,
        strokeVolumeErrorPpm: options.strokeVolumeErrorPpm ?? 0,
        strokeVolumeNoisePpm: options.strokeVolumeNoisePpm ?? 0,
        stallWindows: [],
      },
      new Prng(options.seed ?? 1).fork('motor'),
    );
    this.motor.onStrokes = (r) => this.recordStrokes(r);
    this.motorErrorFree =
      (options.strokeVolumeErrorPpm ?? 0) === 0 && (options.strokeVolumeNoisePpm ?? 0) === 0;
    this.annunciator = new SimAnnunciator(this.clock);
    // A cell that lasts decades: battery depletion is not what these tests are about.
    this.battery = new SimBattery(this.clock, { ...batteryDefaults, capacityUah: 1e12 });
    this.hal = {
      clock: this.simClock,
      motor: new RecordingMotor(this, this.motor),
      nvm: this.nvm,
      annunciator: this.annunciator,
      battery: this.battery,
      button: this.button,
    };
    this.programme = new ProgrammedVolume(this.config, this.library, this.clock.nowMs());
    this.controller = this.newController();
    if (!options.noBoot) this.controller.boot();
  }

  private newController(): Controller {
    return new Controller({
      hal: this.hal,
      config: this.config,
      library: this.library,
      onLog: (r) => this.logged(r),
      onStep: () => {
        this.steps++;
        this.observeProgramme();
        for (const hook of this.onStep) hook(this);
      },
    });
  }

  /**
   * Power loss and restart (between two controller steps): the motor drive is cut where it is (no
   * report: the controller that asked is gone), and a new controller boots on the same drivers,
   * the same NVM and the same monotonic clock, recovering what it persisted. `restored` overrides
   * the recovery (for tests of the boot path itself).
   */
  powerCycle(restored?: RestoredState): void {
    const running = this.runningBatch();
    this.motor.powerCut();
    if (running) this.batchEnded(running, running.strokesMoved);
    this.controller.stop();
    this.controller = this.newController();
    this.restarts++;
    this.controller.boot(restored);
  }

  /** Feed the kit's programmed-volume oracle what the pump now holds (after every step). */
  private observeProgramme(): void {
    const c = this.controller.context;
    this.programme.observe({
      nowMs: this.nowMs,
      therapyState: this.controller.state.therapy,
      prescription: c.prescription,
      mixture: c.mixture,
      rtcOffsetMs: c.rtcOffsetMs,
      bolus: c.bolus,
      bridge: c.bridge,
    });
  }

  /** Power cycles so far. */
  restarts = 0;

  /** An ideal motor: every stroke moves exactly the nominal volume. */
  get idealMotor(): boolean {
    return this.motorErrorFree;
  }

  get nowMs(): number {
    return this.clock.nowMs();
  }

  /** "2d 08:10:00": the time since the start of the run. */
  get at(): string {
    return formatTimeMs(this.nowMs);
  }

  /**
   * Let time pass, running everything that falls due (and stand at the end). More than
   * `eventsPerAdvanceMax` events in one advance is a livelock (a wake re-armed every millisecond,
   * say): the virtual clock then fails with an assertion instead of spinning.
   */
  advance(ms: number): void {
    this.clock.runUntil(this.nowMs + ms, eventsPerAdvanceMax);
  }

  /**
   * Run what is already due at this millisecond (a motor's report of a stop, say) before the next
   * action: hardware answers within microseconds, a person does not.
   */
  catchUp(): void {
    this.clock.runUntil(this.nowMs);
  }

  /** The patient presses the button now. */
  press(): Outcome {
    this.catchUp();
    return this.observe(() => this.button.press());
  }

  /** Send a clinician command now. */
  command(cmd: CommandEvent): Outcome {
    this.catchUp();
    return this.observe(() => this.controller.command(cmd));
  }

  /**
   * Every log record as the pump appends it. An accepted refill changes what is in the reservoir
   * at once: the log record is committed before the step's motor commands, so a batch the refill
   * starts is recorded with the new mixture.
   */
  private logged(r: LogRecord): void {
    this.log.push(r);
    if (r.type === 'refill') {
      // The clinician empties the reservoir (whatever volume they report withdrawn) and fills it.
      // The strokes a running batch has done so far came out of the old contents.
      this.motor.flush();
      this.motor.trueReservoirNl = r.addedNl;
      this.reservoirMixture = structuredClone(r.mixture as Mixture);
      if (this.deadVolumeNl > 0 && this.path === undefined)
        this.path = createDrugPath({
          deadVolumeNl: this.deadVolumeNl,
          fill: this.reservoirMixture,
          label: 'first fill',
        });
      this.refillsMs.push(this.nowMs);
    }
  }

  /** The motor cannot turn from now for `forMs` (a stall the pump must detect). */
  injectStall(forMs: number): void {
    this.catchUp();
    const w = { fromMs: this.nowMs, toMs: this.nowMs + forMs };
    this.stallWindows.push(w);
    const running = this.runningBatch();
    if (running) running.stallCap = Math.min(running.stallCap, strokesBeforeStall(running, [w]));
    this.motor.injectStall(w.fromMs, w.toMs);
  }

  /** Every injected stall ends now (the mechanism frees itself). */
  clearStalls(): void {
    this.catchUp();
    const now = this.nowMs;
    for (const w of this.stallWindows) if (w.toMs > now) w.toMs = Math.max(w.fromMs, now);
    this.motor.clearStalls();
    // A running batch cut by a stall still to come now runs on, as the motor re-plans it.
    const running = this.runningBatch();
    if (running) running.stallCap = strokesBeforeStall(running, this.stallWindows);
  }

  private observe(act: () => void): Outcome {
    const before = this.log.length;
    const tones = this.annunciator.tones.length;
    act();
    const records = this.log.slice(before);
    return {
      atMs: this.nowMs,
      records,
      refused: records.filter(
        (r): r is Extract<LogRecord, { type: 'refused' }> => r.type === 'refused',
      ),
      tones: this.annunciator.tones.slice(tones).map((t) => t.pattern),
    };
  }

  private recordStrokes(r: StrokeRecord): void {
    const b = this.batchById(r.batchId);
    if (b) b.strokesMoved += r.strokes;
  }

  // -------------------------------------------------------------------------------------------
  // Observations: what truly left the pump, from the motor's side.

  /** Called by the motor tap when the controller commands a batch. */
  recordBatch(b: BatchRecord): void {
    if (this.path) {
      b.pathBefore = this.path;
      b.tipOut = push(
        this.path,
        Math.min(b.count * this.config.strokeVolumeNl, pushVolumeNlMax),
        b.mixture,
      ).leftTip;
    }
    this.batches.push(b);
    this.counted.push(b);
  }

  /** A batch ended (reported, or cut by a power loss) having truly done `strokes`. */
  batchEnded(b: BatchRecord, strokes: number): void {
    b.strokesDone = strokes;
    this.endedStrokes += strokes;
    if (b.pathBefore) {
      const pushed = push(b.pathBefore, strokes * this.config.strokeVolumeNl, b.mixture);
      this.path = pushed.path;
      b.tipOut = pushed.leftTip;
    }
    // A batch that moved nothing (a stalled retry, say) never counts again: drop it from the sums.
    if (strokes === 0 && this.counted.at(-1) === b) this.counted.pop();
  }

  /** The latest batch with this id (ids are unique per controller; a restart may reuse them). */
  batchById(batchId: number): BatchRecord | undefined {
    for (let i = this.batches.length - 1; i >= 0; i--)
      if (this.batches[i]!.batchId === batchId) return this.batches[i];
    return undefined;
  }

  /** Batches that moved drug (or may: the running one), oldest first. */
  countedBatches(): readonly BatchRecord[] {
    return this.counted;
  }

  /** The batch the motor is running, if any. */
  runningBatch(): BatchRecord | undefined {
    const last = this.batches.at(-1);
    return last && last.strokesDone === undefined ? last : undefined;
  }

  /** How many strokes of a batch truly happen by `t` (stops and injected stalls included). */
  strokesOfBatchBy(b: BatchRecord, t: number, assumeNoStall = false): number {
    const cap = b.strokesDone ?? this.plannedStrokes(b, assumeNoStall);
    return strokesLeftBy(b, Math.max(0, cap), t);
  }

  /**
   * Strokes a running batch will complete: its count, cut by a stop and by a stall window (unless
   * `assumeNoStall`: the strokes the controller believes in until the motor reports the stall).
   */
  private plannedStrokes(b: BatchRecord, assumeNoStall: boolean): number {
    let cap = assumeNoStall ? b.count : Math.min(b.count, b.stallCap);
    if (b.stoppedAtMs !== undefined) cap = Math.min(cap, strokesLeftBy(b, b.count, b.stoppedAtMs));
    return cap;
  }

  /** Strokes that truly happened in (fromMs, toMs]. */
  strokesBetween(fromMs: number, toMs: number): number {
    let n = 0;
    for (let i = this.counted.length - 1; i >= 0; i--) {
      const b = this.counted[i]!;
      if (b.startMs + batchSpanMs <= fromMs) break; // every stroke of it and of earlier batches is before
      if (b.startMs > toMs) continue;
      n += this.strokesOfBatchBy(b, toMs) - this.strokesOfBatchBy(b, fromMs);
    }
    return n;
  }

  /**
   * Every stroke that truly happened in (t − window, t] (as planned, a stall not yet reported, with
   * `assumeNoStall`), with the mixture the pump must count it as (`BatchRecord.countedMixture`).
   */
  strokesDone(t: number, windowMs: number, assumeNoStall = false): DoneStroke[] {
    const out: DoneStroke[] = [];
    for (let i = this.counted.length - 1; i >= 0; i--) {
      const b = this.counted[i]!;
      if (b.startMs + batchSpanMs <= t - windowMs) break;
      if (b.startMs > t) continue;
      const from = this.strokesOfBatchBy(b, t - windowMs, assumeNoStall);
      const to = this.strokesOfBatchBy(b, t, assumeNoStall);
      for (let j = from + 1; j <= to; j++)
        out.push({ atMs: strokeLeavesAtMs(b, j), mixture: b.countedMixture });
    }
    return out;
  }

  /** Volume that truly left the pump by `t` (nominal stroke volume; ideal-motor terms). */
  deliveredNlBy(t = this.nowMs): number {
    if (t < this.nowMs)
      return this.strokesBetween(Number.NEGATIVE_INFINITY, t) * this.config.strokeVolumeNl;
    const running = this.runningBatch();
    return (
      (this.endedStrokes + (running ? this.strokesOfBatchBy(running, t) : 0)) *
      this.config.strokeVolumeNl
    );
  }

  /**
   * Per drug, picograms delivered in (t − window, t]: at the catheter `tip` (what the patient
   * receives: the drug path pushed by the true strokes, plug flow; the outlet when no catheter is
   * recorded) or at the pump's `outlet` as the pump must count it (strokes × the reservoir's
   * mixture, or during a bridge the worst the path may push: `BatchRecord.countedMixture`).
   */
  dosePgInWindow(
    t = this.nowMs,
    windowMs = DAY_MS,
    assumeNoStall = false,
    at: 'tip' | 'outlet' = 'tip',
  ): Map<string, number> {
    const byDrug = new Map<string, number>();
    const s = this.config.strokeVolumeNl;
    for (let i = this.counted.length - 1; i >= 0; i--) {
      const b = this.counted[i]!;
      if (b.startMs + batchSpanMs <= t - windowMs) break;
      if (b.startMs > t) continue;
      const from = this.strokesOfBatchBy(b, t - windowMs, assumeNoStall);
      const to = this.strokesOfBatchBy(b, t, assumeNoStall);
      if (to === from) continue;
      if (at === 'tip' && b.tipOut) {
        addTipDoses(byDrug, b.tipOut, from * s, to * s);
        continue;
      }
      for (const d of at === 'tip' ? b.mixture : b.countedMixture)
        byDrug.set(
          d.drug,
          (byDrug.get(d.drug) ?? 0) + dosePg((to - from) * s, d.concentrationUgPerMl),
        );
    }
    return byDrug;
  }

  /**
   * Did everything that reached the tip (the outlet without a catheter) in (t − window, t] come from
   * `mixture`? The programmed worst case of a therapy is judged only over such windows.
   */
  tipUniformInWindow(mixture: Mixture, t = this.nowMs, windowMs = DAY_MS): boolean {
    const s = this.config.strokeVolumeNl;
    for (let i = this.counted.length - 1; i >= 0; i--) {
      const b = this.counted[i]!;
      if (b.startMs + batchSpanMs <= t - windowMs) break;
      if (b.startMs > t) continue;
      const fromNl = this.strokesOfBatchBy(b, t - windowMs) * s;
      const toNl = this.strokesOfBatchBy(b, t) * s;
      if (toNl === fromNl) continue;
      if (!b.tipOut) {
        if (!sameMixture(b.mixture, mixture)) return false;
        continue;
      }
      let start = 0;
      for (const out of b.tipOut) {
        const end = start + out.volumeNl;
        if (Math.min(end, toNl) > Math.max(start, fromNl) && !sameMixture(out.mixture, mixture))
          return false;
        if (end >= toNl) break;
        start = end;
      }
    }
    return true;
  }

  /**
   * The programmed cumulative volume by the kit's own arithmetic (testing/programmedVolume.ts), in
   * nL: INV-4's oracle, computed apart from the firmware's account.
   */
  kitProgrammedNl(t = this.nowMs): number {
    return this.programme.programmedNl(t);
  }

  /**
   * The programmed cumulative volume by the controller's own account (what INV-4 holds equal to
   * `kitProgrammedNl`), in nL (exact fraction):
   * delivered strokes + owed + missed, settled up to `t` with the programme in force.
   */
  programmedNl(t = this.nowMs): number {
    const c = this.controller.context;
    const pending = programmedFine(programmeOf(c), c.settledAtMs, Math.max(c.settledAtMs, t));
    return (
      c.deliveredStrokes * c.config.strokeVolumeNl +
      (c.owedFine + c.missedFine + pending) / FINE_PER_NL
    );
  }

  /** Log records of one type. */
  records<T extends LogBody['type']>(type: T): Extract<LogRecord, { type: T }>[] {
    return this.log.filter((r): r is Extract<LogRecord, { type: T }> => r.type === type);
  }
}

/**
 * Model-based commands (`fc.Command`) that drive the real controller and judge it after each step.
 *
 * Each command acts on a `QaRun` (the rig, the reference model, the step monitor and a journal),
 * then checks what the requirements say about the outcome: a press against the deny reasons and
 * lockouts (INV-1, 2, 7), a refusal against the state before it (INV-6), a programming command
 * against the drug library (REQ-LIM), a wait against the delivered volume and the 24-hour doses
 * (INV-3, 4, 5). Every command prints itself in clinical terms ("press at 2d 08:10:00",
 * "set clock -12 h at 1d 03:00:00"), which is what fast-check shows for a shrunk counterexample.
 *
 * Doses are placed at run time against the library and the mixture then in the reservoir, so a
 * generated "reprogram between soft and hard" means that whatever was refilled before it.
 */
import fc from 'fast-check';
import type { DrugLibrary, Mixture, PtmSettings, Prescription } from '../src/therapy/schema.js';
import {
  DAY_MS,
  MINUTE_MS,
  PG_PER_NG,
  formatDoseNg,
  formatDurationMs,
  formatMl,
  formatTimeMs,
  formatConcentration,
} from '../src/units.js';
import {
  clockShiftMsArb,
  invalidMixtureArb,
  invalidPrescriptionArb,
  invalidPtmArb,
  mixtureArb,
  placeTherapy,
  therapyShapeArb,
  waitMsArb,
  type LimitBand,
  type TherapyShape,
} from './arbitraries.js';
import type { AlarmCode } from '../src/alarms.js';
import type { Outcome, PumpRig } from './harness.js';
import {
  InvariantViolation,
  checkCount24h,
  checkDose24h,
  capWouldExceed,
  checkLockout,
  checkPress,
  checkRefusal,
  checkVolume,
  doseWindowEnds,
  isRefusal,
  pressFacts,
  scheduledNl,
  snapshotPump,
  type InvariantInfo,
  type InvariantMonitor,
} from './invariants.js';
import {
  bolusFlowNlPerDay,
  tipMixtureWorstCase,
  dailyVolumesNl,
  judgeLimits,
  type Expectation,
  type ReferenceModel,
} from './model.js';
import { rateNlPerDayMax } from '../src/constants.js';
import { withNewBolus } from '../src/pump/decide.js';

/** Requirements judged by the commands beyond the seven invariants. */
export const COMMAND_CHECKS = {
  limits: {
    id: 'LIM',
    requirements: ['REQ-LIM-1', 'REQ-LIM-2', 'REQ-LIM-3', 'REQ-LIM-4'],
    title:
      'programming, refills and clinician boluses are accepted or refused as the drug library says',
  },
  state: {
    id: 'CMD',
    requirements: ['REQ-CMD-2'],
    title: 'stop, resume and clinician boluses are accepted only in the states that allow them',
  },
  basal: {
    id: 'INV-4b',
    requirements: ['REQ-DOS-2'],
    title: 'a steady basal delivers the scheduled volume, within two strokes',
  },
  refill: {
    id: 'RES',
    requirements: ['REQ-RES-2'],
    title:
      'a refill logs the estimate it replaced and flags a reported withdrawal that differs from it',
  },
  alarmClear: {
    id: 'ALM-CLEAR',
    requirements: ['REQ-ALM-1'],
    title:
      'a clear removes exactly the alarms whose condition has gone, and logs a refusal for each it keeps',
  },
} as const satisfies Record<string, InvariantInfo>;

/** Everything a model-based run acts on. */
export interface QaRun {
  rig: PumpRig;
  monitor: InvariantMonitor;
  /** One clinical line per command, printed with a failure. */
  journal: string[];
  /** Dose windows ending up to here have been judged. */
  doseCheckedUntilMs: number;
}

export type PumpCommand = fc.Command<ReferenceModel, QaRun>;

/** A command that prints what it did (once run) in clinical terms and clones fresh for each run. */
abstract class ClinicalCommand implements PumpCommand {
  protected ran: string | undefined;

  check(): boolean {
    return true;
  }

  /** Let what is due at this millisecond happen first (a motor's stop report), then act. */
  run(model: ReferenceModel, run: QaRun): void {
    run.rig.catchUp();
    this.act(model, run);
  }

  protected abstract act(model: ReferenceModel, run: QaRun): void;
  /** What the command is before it runs (its generated parameters). */
  protected abstract planned(): string;
  protected abstract fresh(): ClinicalCommand;

  toString(): string {
    return this.ran ?? this.planned();
  }

  [fc.cloneMethod](): ClinicalCommand {
    return this.fresh();
  }

  protected note(run: QaRun, line: string): void {
    this.ran = line;
    run.journal.push(line);
  }
}

function expectOutcome(
  check: InvariantInfo,
  expected: Expectation,
  accepted: boolean,
  what: string,
  outcome: Outcome,
): void {
  if (expected === 'unsure' || (expected === 'accept') === accepted) return;
  const why = outcome.refused.map((r) => r.message).join('; ');
  throw new InvariantViolation(
    check,
    `${what} was ${accepted ? 'accepted' : `refused (${why})`} but the drug library and state say it should be ${expected === 'accept' ? 'accepted' : 'refused'}`,
  );
}

const describeTherapy = (p: Prescription, ptm: PtmSettings | undefined): string => {
  const basal =
    p.mode === 'continuous'
      ? `${formatDoseNg(p.doseNgPerDay)}/day`
      : `flex ${p.steps.map((s) => `${String(Math.floor(s.startMinute / 60)).padStart(2, '0')}:${String(s.startMinute % 60).padStart(2, '0')} ${formatDoseNg(s.doseNgPerDay)}/day`).join(', ')}`;
  const bolus = ptm
    ? `PTM ${formatDoseNg(ptm.bolusDoseNg)} over ${formatDurationMs(ptm.bolusDurationMs)}, lockout ${formatDurationMs(ptm.lockoutMs)}, ${ptm.bolusesPer24hMax}/24 h`
    : 'no PTM';
  return `${basal}, ${bolus}`;
};

const describeMixture = (m: Mixture): string =>
  m.map((d) => `${d.drug} ${formatConcentration(d.concentrationUgPerMl)}`).join(' + ');

// ---------------------------------------------------------------------------------------------

export class PressCommand extends ClinicalCommand {
  protected planned(): string {
    return 'press';
  }
  protected fresh(): PressCommand {
    return new PressCommand();
  }
  protected act(model: ReferenceModel, run: QaRun): void {
    const { rig } = run;
    const facts = pressFacts(rig, model);
    const outcome = rig.press();
    const denied = outcome.records.find((r) => r.type === 'pressDenied');
    const granted = outcome.records.some((r) => r.type === 'pressGranted');
    this.note(
      run,
      `press at ${rig.at} (${granted ? 'granted' : denied ? `denied: ${denied.reason}` : 'no outcome logged'})`,
    );
    const result = checkPress(rig, facts, outcome);
    if (result === 'granted') {
      // The bolus granted is the PTM dose's volume over the PTM duration (REQ-PTM-1).
      const started = outcome.records.find((r) => r.type === 'bolusStarted');
      const expectedBolus = {
        kind: 'patient',
        volumeNl: model.bolusVolumeNl(),
        durationMs: model.ptm?.bolusDurationMs,
      };
      if (
        !started ||
        started.type !== 'bolusStarted' ||
        started.kind !== expectedBolus.kind ||
        started.volumeNl !== expectedBolus.volumeNl ||
        started.durationMs !== expectedBolus.durationMs
      ) {
        throw new InvariantViolation(
          COMMAND_CHECKS.limits,
          `press at ${rig.at} started ${JSON.stringify(started)}; the PTM settings give ${JSON.stringify(expectedBolus)}`,
        );
      }
      model.granted(rig.nowMs);
      checkLockout(model, rig.nowMs);
      checkCount24h(model, rig.nowMs);
    }
  }
}

/** A breakthrough-pain episode: the patient presses `count` times, `gapMs` apart. */
export class PressBurstCommand extends ClinicalCommand {
  constructor(
    readonly count: number,
    readonly gapMs: number,
  ) {
    super();
  }
  protected planned(): string {
    return `${this.count} presses every ${formatDurationMs(this.gapMs)}`;
  }
  protected fresh(): PressBurstCommand {
    return new PressBurstCommand(this.count, this.gapMs);
  }
  protected act(model: ReferenceModel, run: QaRun): void {
    const from = run.rig.at;
    const outcomes: string[] = [];
    for (let i = 0; i < this.count; i++) {
      if (i > 0) new WaitCommand(this.gapMs).run(model, run);
      const press = new PressCommand();
      press.run(model, run);
      outcomes.push(String(press).replace(/^press at .* \((.*)\)$/, '$1'));
    }
    this.ran = `${this.count} presses every ${formatDurationMs(this.gapMs)} from ${from} (${outcomes.join(', ')})`;
  }
}

export class WaitCommand extends ClinicalCommand {
  constructor(readonly ms: number) {
    super();
  }
  protected planned(): string {
    return `wait ${formatDurationMs(this.ms)}`;
  }
  protected fresh(): WaitCommand {
    return new WaitCommand(this.ms);
  }
  protected act(model: ReferenceModel, run: QaRun): void {
    const { rig, monitor } = run;
    const from = rig.nowMs;
    const steady = steadyBasal(rig, model);
    const disturbancesBefore = monitor.disturbances;
    const deliveredBefore = rig.deliveredNlBy(from);
    this.note(
      run,
      `wait ${formatDurationMs(this.ms)} (${formatTimeMs(from)} → ${formatTimeMs(from + this.ms)})`,
    );
    rig.advance(this.ms);
    // Judged at an arbitrary moment, usually between strokes and between controller steps.
    checkVolume(rig, model);
    monitor.checkCriticalRate();
    monitor.checkAlarmTones();
    for (const end of doseWindowEnds(rig, run.doseCheckedUntilMs, rig.nowMs))
      checkDose24h(rig, model, end);
    run.doseCheckedUntilMs = rig.nowMs;
    if (steady && monitor.disturbances === disturbancesBefore && !model.deliveryEverBlocked) {
      const expectedNl = scheduledNl(
        steady.prescription,
        steady.primaryConcentrationUgPerMl,
        steady.rtcMs,
        this.ms,
      );
      const deliveredNl = rig.deliveredNlBy() - deliveredBefore;
      const tolerance = 2 * rig.config.strokeVolumeNl;
      if (Math.abs(deliveredNl - expectedNl) > tolerance) {
        throw new InvariantViolation(
          COMMAND_CHECKS.basal,
          `from ${formatTimeMs(from)} to ${rig.at} the basal delivered ${deliveredNl} nL; the prescription schedules ${expectedNl.toFixed(1)} nL (±${tolerance} nL)`,
        );
      }
    }
  }
}

function steadyBasal(
  rig: PumpRig,
  model: ReferenceModel,
): { prescription: Prescription; primaryConcentrationUgPerMl: number; rtcMs: number } | undefined {
  const c = rig.controller.context;
  if (
    rig.controller.state.therapy !== 'infusing.basal' ||
    c.alarms.length > 0 ||
    c.bridge !== undefined ||
    !model.prescription ||
    !model.mixture
  )
    return undefined;
  return {
    prescription: model.prescription,
    primaryConcentrationUgPerMl: model.mixture[0]!.concentrationUgPerMl,
    rtcMs: rig.simClock.rtcMs(),
  };
}

/**
 * A wait that ends at an edge where a limit changes its verdict, found at run time: the end of the
 * lockout, the last minute of the 24-hour count window of the oldest grant in it, a bolus's end
 * (its last stroke), or the last millisecond the oldest stroke of the last day counts for the
 * daily cap; `offsetMs` before or after it. Where the edge is gone or past, a wait of a second.
 */
export class EdgeWaitCommand extends ClinicalCommand {
  constructor(
    readonly edge: 'lockoutEnd' | 'windowExit' | 'bolusEnd' | 'strokeExit',
    readonly offsetMs: number,
  ) {
    super();
  }
  protected planned(): string {
    return `wait until ${this.edge} ${this.offsetMs >= 0 ? '+' : ''}${this.offsetMs} ms`;
  }
  protected fresh(): EdgeWaitCommand {
    return new EdgeWaitCommand(this.edge, this.offsetMs);
  }
  private edgeMs(model: ReferenceModel, rig: PumpRig): number | undefined {
    const now = rig.nowMs;
    switch (this.edge) {
      case 'lockoutEnd': {
        const until = model.lockoutUntilMs();
        return Number.isFinite(until) ? until : undefined;
      }
      case 'windowExit':
        return model.grants.find((g) => g.atMs > now - DAY_MS)?.atMs ?? undefined;
      case 'bolusEnd':
        return rig.controller.context.bolus?.endMs;
      case 'strokeExit': {
        const strokes = rig.strokesDone(now, DAY_MS);
        return strokes.length === 0
          ? undefined
          : Math.min(...strokes.map((s) => s.atMs)) + DAY_MS - 1;
      }
    }
  }
  protected act(model: ReferenceModel, run: QaRun): void {
    const { rig } = run;
    const edge = this.edgeMs(model, rig);
    const target =
      edge === undefined
        ? undefined
        : edge + (this.edge === 'windowExit' ? DAY_MS : 0) + this.offsetMs;
    const ms = target !== undefined && target > rig.nowMs ? target - rig.nowMs : 1_000;
    const wait = new WaitCommand(ms);
    wait.run(model, run);
    this.ran = `${this.planned()}: ${String(wait)}`;
  }
}

export class ReprogramCommand extends ClinicalCommand {
  constructor(
    readonly shape: TherapyShape,
    readonly confirm: boolean,
  ) {
    super();
  }
  protected planned(): string {
    return `reprogram (${this.shape.band}${this.confirm ? ', confirmed' : ''})`;
  }
  protected fresh(): ReprogramCommand {
    return new ReprogramCommand(this.shape, this.confirm);
  }
  protected act(model: ReferenceModel, run: QaRun): void {
    const { rig } = run;
    const placed = model.mixture
      ? placeTherapy(this.shape, model.library, model.mixture, model.config.strokeVolumeNl)
      : undefined;
    if (!placed) {
      this.note(run, `reprogram at ${rig.at}: nothing to place (${this.shape.band})`);
      return;
    }
    this.note(
      run,
      programJudged(model, run, placed.prescription, placed.ptm, this.confirm, this.shape.band),
    );
  }
}

/**
 * A reprogramming the drug library accepts is still refused when its basal would take a 24-hour
 * window past a hard maximum that the pump without it stays within (REQ-LIM-6): the last day's
 * boluses count against the new basal. Judged by the kit's own stroke walk; unsure within a
 * stroke of the limit on either side of the stall question.
 */
function programCapExpectation(
  rig: PumpRig,
  model: ReferenceModel,
  prescription: Prescription,
  library: Expectation,
): Expectation {
  if (library !== 'accept' || !model.mixture) return library;
  const c = rig.controller.context;
  // A bridge (running or paused) shapes the programme in ways the kit does not model.
  if (c.bridge !== undefined) return 'unsure';
  const mixture = tipMixtureWorstCase(model.mixture, rig.log);
  const exceeds = (p: Prescription | undefined, assumeNoStall: boolean) =>
    p !== undefined &&
    capWouldExceed(rig, model, { prescription: p, mixture, assumeNoStall }, () => ({
      ...c,
      steps: c.steps && {
        ...c.steps,
        ...rateStepsOf(p, model.mixture![0]!.concentrationUgPerMl),
      },
    })) !== undefined;
  const judge = (assumeNoStall: boolean): Expectation =>
    exceeds(prescription, assumeNoStall) && !exceeds(model.prescription, assumeNoStall)
      ? 'refuse'
      : 'accept';
  const truth = judge(false);
  return truth === judge(true) ? truth : 'unsure';
}

/** Start times and rates of a prescription's steps, by the requirement's arithmetic. */
function rateStepsOf(p: Prescription, c1: number): { startsMs: number[]; ratesNlPerDay: number[] } {
  const doses =
    p.mode === 'continuous' ? [{ startMinute: 0, doseNgPerDay: p.doseNgPerDay }] : p.steps;
  return {
    startsMs: doses.map((s) => s.startMinute * MINUTE_MS),
    ratesNlPerDay: doses.map((s) => Math.floor((s.doseNgPerDay * PG_PER_NG) / c1)),
  };
}

/** Program a therapy, judge the outcome against the drug-library oracle (LIM), and return the journal line. */
function programJudged(
  model: ReferenceModel,
  run: QaRun,
  prescription: Prescription,
  ptm: PtmSettings | undefined,
  confirm: boolean,
  label: string,
): string {
  const { rig } = run;
  const expected = programCapExpectation(
    rig,
    model,
    prescription,
    model.expectProgram(prescription, ptm, confirm),
  );
  const before = snapshotPump(rig);
  const outcome = rig.command({ type: 'cmd.program', prescription, ptm: ptm ?? null, confirm });
  const accepted = outcome.records.some((r) => r.type === 'programmed');
  if (!accepted) checkRefusal(rig, before, outcome, 'reprogram');
  expectOutcome(COMMAND_CHECKS.limits, expected, accepted, 'reprogramming', outcome);
  if (accepted) model.programmed(rig.nowMs, prescription, ptm);
  return `reprogram at ${rig.at}: ${describeTherapy(prescription, ptm)} [${label}${confirm ? ', confirmed' : ''}] → ${accepted ? 'accepted' : `refused: ${outcome.refused[0]?.message ?? '?'}`}`;
}

/**
 * Program this exact therapy (not a shape placed in a band), judged like any reprogramming: for a
 * property that needs a therapy of its own making, e.g. a day of basal near the daily maximum
 * followed by PTM boluses that must meet the daily cap.
 */
export class ProgramTherapyCommand extends ClinicalCommand {
  constructor(
    readonly prescription: Prescription,
    readonly ptm: PtmSettings | undefined,
    readonly confirm: boolean,
  ) {
    super();
  }
  protected planned(): string {
    return `reprogram ${describeTherapy(this.prescription, this.ptm)}${this.confirm ? ' (confirmed)' : ''}`;
  }
  protected fresh(): ProgramTherapyCommand {
    return new ProgramTherapyCommand(this.prescription, this.ptm, this.confirm);
  }
  protected act(model: ReferenceModel, run: QaRun): void {
    this.note(run, programJudged(model, run, this.prescription, this.ptm, this.confirm, 'given'));
  }
}

export class InvalidReprogramCommand extends ClinicalCommand {
  constructor(
    readonly bad: { prescription?: unknown; ptm?: unknown; way: string },
    readonly confirm: boolean,
  ) {
    super();
  }
  protected planned(): string {
    return `reprogram with ${this.bad.way}`;
  }
  protected fresh(): InvalidReprogramCommand {
    return new InvalidReprogramCommand(this.bad, this.confirm);
  }
  protected act(_model: ReferenceModel, run: QaRun): void {
    const { rig } = run;
    const before = snapshotPump(rig);
    const outcome = rig.command({
      type: 'cmd.program',
      prescription: this.bad.prescription,
      ptm: this.bad.ptm,
      confirm: this.confirm,
    });
    const accepted = !isRefusal(outcome);
    this.note(
      run,
      `reprogram at ${rig.at} with ${this.bad.way} → ${accepted ? 'accepted' : `refused: ${outcome.refused[0]?.message ?? '?'}`}`,
    );
    if (accepted)
      throw new InvariantViolation(
        COMMAND_CHECKS.limits,
        `a prescription or PTM with ${this.bad.way} was accepted: ${JSON.stringify(this.bad)}`,
      );
    checkRefusal(rig, before, outcome, 'reprogram');
  }
}

export class ClinicianBolusCommand extends ClinicalCommand {
  constructor(
    readonly band: LimitBand | 'invalid',
    readonly position: number,
    readonly durationMs: number,
    readonly confirm: boolean,
  ) {
    super();
  }
  protected planned(): string {
    return `clinician bolus (${this.band}) over ${formatDurationMs(this.durationMs)}`;
  }
  protected fresh(): ClinicianBolusCommand {
    return new ClinicianBolusCommand(this.band, this.position, this.durationMs, this.confirm);
  }
  protected act(model: ReferenceModel, run: QaRun): void {
    const { rig } = run;
    const mixture = model.mixture;
    if (!mixture) return this.note(run, `clinician bolus at ${rig.at}: no mixture`);
    const c1 = mixture[0]!.concentrationUgPerMl;
    // The dose whose largest bolus-to-soft-maximum ratio over the drugs is the band's.
    const ratios = mixture.map((d) => {
      const lim = model.library.drugs.find((x) => x.drug === d.drug)!;
      return { d, lim, perNg: d.concentrationUgPerMl / c1 };
    });
    const worstSoft = Math.max(
      ...ratios.map((r) =>
        r.lim.bolusDoseNgSoftMax === 0
          ? Number.POSITIVE_INFINITY
          : r.perNg / r.lim.bolusDoseNgSoftMax,
      ),
    );
    const worstHard = Math.max(
      ...ratios.map((r) =>
        r.lim.bolusDoseNgHardMax === 0
          ? Number.POSITIVE_INFINITY
          : r.perNg / r.lim.bolusDoseNgHardMax,
      ),
    );
    const softToHard = worstSoft / worstHard;
    const target =
      this.band === 'withinSoft'
        ? 0.05 + 0.85 * this.position
        : this.band === 'softToHard'
          ? softToHard > 1.25
            ? 1.1 + (softToHard * 0.9 - 1.1) * this.position
            : 1.1
          : softToHard * (1.1 + this.position);
    const doseNg =
      this.band === 'invalid'
        ? 0
        : Number.isFinite(worstSoft)
          ? Math.max(1, Math.round(target / worstSoft))
          : 1000;
    const volumeNl = Math.floor((doseNg * PG_PER_NG) / c1);
    // Judged on the path's mixtures too while a bridge runs (REQ-LIM-7).
    const judged = tipMixtureWorstCase(mixture, rig.log).map((d) => ({
      d,
      lim: model.library.drugs.find((x) => x.drug === d.drug)!,
      perNg: d.concentrationUgPerMl / c1,
    }));
    const expected = this.expectation(model, rig, doseNg, volumeNl, judged);
    const before = snapshotPump(rig);
    const outcome = rig.command({
      type: 'cmd.clinicianBolus',
      doseNg,
      durationMs: this.durationMs,
      confirm: this.confirm,
    });
    const accepted = outcome.records.some(
      (r) => r.type === 'bolusStarted' && r.kind === 'clinician',
    );
    this.note(
      run,
      `clinician bolus at ${rig.at}: ${formatDoseNg(doseNg)} (${formatMl(volumeNl)}) over ${formatDurationMs(this.durationMs)} [${this.band}${this.confirm ? ', confirmed' : ''}] → ${accepted ? 'started' : `refused: ${outcome.refused[0]?.message ?? '?'}`}`,
    );
    if (!accepted) checkRefusal(rig, before, outcome, 'clinician bolus');
    expectOutcome(COMMAND_CHECKS.limits, expected, accepted, 'the clinician bolus', outcome);
    if (accepted) {
      const started = outcome.records.find((r) => r.type === 'bolusStarted');
      if (
        !started ||
        started.type !== 'bolusStarted' ||
        started.volumeNl !== volumeNl ||
        started.durationMs !== this.durationMs
      ) {
        throw new InvariantViolation(
          COMMAND_CHECKS.limits,
          `the clinician bolus started as ${JSON.stringify(started)}; asked for ${volumeNl} nL over ${this.durationMs} ms`,
        );
      }
      model.clinicianBolusStarted(rig.nowMs, volumeNl);
      checkDose24h(rig, model, rig.nowMs);
    }
  }

  private expectation(
    model: ReferenceModel,
    rig: PumpRig,
    doseNg: number,
    volumeNl: number,
    ratios: { d: Mixture[number]; lim: DrugLibrary['drugs'][number]; perNg: number }[],
  ): Expectation {
    if (this.band === 'invalid' || doseNg <= 0) return 'refuse';
    const c = rig.controller.context;
    if (rig.controller.state.therapy !== 'infusing.basal') return 'refuse';
    if (volumeNl <= 0 || c.reservoirNl - volumeNl < rig.config.emptyReservoirNl) return 'refuse';
    // The flow during the bolus (on top of the basal peak) within the pump's highest flow (REQ-DOS-3).
    const peakNl =
      model.prescription && model.mixture
        ? dailyVolumesNl(model.prescription, model.mixture[0]!.concentrationUgPerMl).peakNl
        : 0;
    const flow = {
      what: 'flow during the bolus',
      value: bolusFlowNlPerDay(volumeNl, this.durationMs) + peakNl,
      soft: rateNlPerDayMax,
      hard: rateNlPerDayMax,
    };
    const limits = judgeLimits(
      [
        flow,
        ...ratios.map((r) => ({
          what: `${r.d.drug} clinician bolus`,
          value: (volumeNl * r.d.concentrationUgPerMl) / PG_PER_NG,
          soft: r.lim.bolusDoseNgSoftMax,
          hard: r.lim.bolusDoseNgHardMax,
        })),
      ],
      this.confirm,
    );
    if (limits !== 'accept') return limits;
    // The forward daily cap with this bolus running (REQ-LIM-6), by the kit's own stroke walk.
    const bolus = {
      startMs: rig.nowMs,
      volumeNl,
      rateNlPerDay: Math.max(1, Math.floor((volumeNl * DAY_MS) / this.durationMs)),
    };
    const mixture = ratios.map((r) => r.d);
    const exceeds = (assumeNoStall: boolean) =>
      capWouldExceed(
        rig,
        model,
        { prescription: model.prescription, bolus, mixture, assumeNoStall },
        () => withNewBolus(c, rig.nowMs, 'clinician', volumeNl, this.durationMs),
      ) !== undefined;
    const truth = exceeds(false);
    return truth === exceeds(true) ? (truth ? 'refuse' : 'accept') : 'unsure';
  }
}

export class RefillCommand extends ClinicalCommand {
  constructor(
    readonly addedShare: number,
    readonly mixture: Mixture | undefined,
    readonly confirm: boolean,
    /** How the withdrawn volume is reported, in per mille of what was truly withdrawn (1000: exactly). */
    readonly reportedPermille = 1000,
  ) {
    super();
  }
  protected planned(): string {
    return `refill ${Math.round(this.addedShare * 100)} % of capacity${this.mixture ? ` with ${describeMixture(this.mixture)}` : ''}`;
  }
  protected fresh(): RefillCommand {
    return new RefillCommand(this.addedShare, this.mixture, this.confirm, this.reportedPermille);
  }
  protected act(model: ReferenceModel, run: QaRun): void {
    const { rig } = run;
    const addedNl = Math.floor(rig.config.reservoirCapacityNl * this.addedShare);
    // What is truly in the reservoir now: the motor moves a batch's strokes when it reports them.
    const running = rig.runningBatch();
    const inFlight = running ? rig.strokesOfBatchBy(running, rig.nowMs) - running.strokesMoved : 0;
    const trulyWithdrawnNl = Math.max(
      0,
      rig.motor.trueReservoirNl - inFlight * rig.config.strokeVolumeNl,
    );
    const withdrawnNl = Math.round((trulyWithdrawnNl * this.reportedPermille) / 1000);
    const bolusRunning =
      rig.controller.state.therapy.startsWith('infusing.') &&
      rig.controller.state.therapy !== 'infusing.basal';
    const expected = model.expectRefill(
      withdrawnNl,
      addedNl,
      this.mixture,
      this.confirm,
      bolusRunning,
    );
    const before = snapshotPump(rig);
    const outcome = rig.command({
      type: 'cmd.refill',
      withdrawnNl,
      addedNl,
      mixture: this.mixture,
      confirm: this.confirm,
    });
    const accepted = outcome.records.some((r) => r.type === 'refill');
    this.note(
      run,
      `refill at ${rig.at}: ${formatMl(addedNl)}${this.mixture ? ` of ${describeMixture(this.mixture)}` : ' of the same mixture'}${this.confirm ? ' (confirmed)' : ''} → ${accepted ? 'accepted' : `refused: ${outcome.refused[0]?.message ?? '?'}`}`,
    );
    if (!accepted) checkRefusal(rig, before, outcome, 'refill');
    // A new mixture's forward daily cap (REQ-LIM-6) depends on the bridge it starts, which the kit
    // does not model: a refusal naming the 24-hour dose is not judged here (INV-3 judges the doses).
    const capRefused = outcome.refused.some(
      (r) => r.field === 'mixture' && r.message.includes(' in the 24 h '),
    );
    expectOutcome(
      COMMAND_CHECKS.limits,
      capRefused ? 'unsure' : expected,
      accepted,
      'the refill',
      outcome,
    );
    if (accepted) {
      model.refilled(rig.nowMs, this.mixture);
      // REQ-RES-2: the estimate before the refill is what was truly there (ideal motor), and a
      // reported withdrawal that differs from it by more than the configured share is flagged.
      const record = outcome.records.find((r) => r.type === 'refill');
      if (rig.idealMotor && record?.type === 'refill') {
        const before = trulyWithdrawnNl;
        const flag =
          Math.abs(withdrawnNl - before) * 100 >
            rig.config.refillDiscrepancyPercentMax * Math.max(before, 1) && before > 0;
        if (
          record.estimateBeforeNl !== before ||
          record.discrepancyNl !== withdrawnNl - before ||
          record.discrepancyFlagged !== flag
        ) {
          throw new InvariantViolation(
            COMMAND_CHECKS.refill,
            `refill at ${rig.at}: logged estimate ${record.estimateBeforeNl} nL, discrepancy ${record.discrepancyNl} nL, flagged ${record.discrepancyFlagged}; truly ${before} nL there, ${withdrawnNl} nL reported, so flagged ${flag}`,
          );
        }
      }
    }
  }
}

export class InvalidRefillCommand extends ClinicalCommand {
  constructor(
    readonly bad: { addedNl?: number; withdrawnNl?: number; mixture?: unknown; way: string },
  ) {
    super();
  }
  protected planned(): string {
    return `refill with ${this.bad.way}`;
  }
  protected fresh(): InvalidRefillCommand {
    return new InvalidRefillCommand(this.bad);
  }
  protected act(_model: ReferenceModel, run: QaRun): void {
    const { rig } = run;
    const before = snapshotPump(rig);
    const outcome = rig.command({
      type: 'cmd.refill',
      withdrawnNl: this.bad.withdrawnNl ?? 0,
      addedNl: this.bad.addedNl ?? rig.config.lowReservoirNl * 2,
      mixture: this.bad.mixture,
      confirm: true,
    });
    const accepted = outcome.records.some((r) => r.type === 'refill');
    this.note(
      run,
      `refill at ${rig.at} with ${this.bad.way} → ${accepted ? 'accepted' : `refused: ${outcome.refused[0]?.message ?? '?'}`}`,
    );
    if (accepted)
      throw new InvariantViolation(
        COMMAND_CHECKS.limits,
        `a refill with ${this.bad.way} was accepted: ${JSON.stringify(this.bad)}`,
      );
    checkRefusal(rig, before, outcome, 'refill');
  }
}

/** Stop, resume and clear alarms: commands without parameters, judged on refusal. */
export class SimpleCommand extends ClinicalCommand {
  constructor(readonly kind: 'stop' | 'resume' | 'clearAlarms') {
    super();
  }
  protected planned(): string {
    return this.kind === 'clearAlarms' ? 'clear alarms' : this.kind;
  }
  protected fresh(): SimpleCommand {
    return new SimpleCommand(this.kind);
  }
  protected act(model: ReferenceModel, run: QaRun): void {
    const { rig } = run;
    const therapy = rig.controller.state.therapy;
    const before = snapshotPump(rig);
    const type =
      this.kind === 'stop' ? 'cmd.stop' : this.kind === 'resume' ? 'cmd.resume' : 'cmd.clearAlarms';
    const conditions =
      this.kind === 'clearAlarms'
        ? rig.controller.context.alarms.map(
            (a) => [a.code, alarmConditionByRule(rig, a.code)] as const,
          )
        : [];
    const outcome = rig.command({ type });
    const refused = isRefusal(outcome);
    this.note(
      run,
      `${this.planned()} at ${rig.at}${refused ? ` → refused: ${outcome.refused.map((r) => r.message).join('; ')}` : ''}`,
    );
    if (refused) checkRefusal(rig, before, outcome, this.planned());
    checkAlarmClear(rig, conditions, outcome);
    if (this.kind === 'stop') {
      const expected: Expectation =
        therapy.startsWith('infusing') || therapy === 'minimumRate' ? 'accept' : 'refuse';
      expectOutcome(
        COMMAND_CHECKS.state,
        expected,
        outcome.records.some((r) => r.type === 'stopped'),
        'stop',
        outcome,
      );
    }
    if (this.kind === 'resume') {
      const expected: Expectation =
        therapy === 'stopped' && model.prescription && model.mixture ? 'accept' : 'refuse';
      expectOutcome(
        COMMAND_CHECKS.state,
        expected,
        outcome.records.some((r) => r.type === 'resumed'),
        'resume',
        outcome,
      );
    }
  }
}

/**
 * Whether an alarm's condition holds, by the requirements' table rather than the controller's code
 * (REQ-ALM-1, docs/requirements.md): the reservoir estimate at or below the alarm's threshold; a
 * stall holds while the motor's last attempt stalled and has gone once a stroke completed after
 * it; a brown-out reset never holds (the restart itself ended it).
 * Undefined where the kit cannot tell: the battery and memory faults it never injects, and a stall
 * after a power cycle (the attempts before it belong to another boot).
 */
export function alarmConditionByRule(rig: PumpRig, code: AlarmCode): boolean | undefined {
  const { reservoirNl } = rig.controller.context;
  switch (code) {
    case 'lowReservoir':
      return reservoirNl <= rig.config.lowReservoirNl;
    case 'emptyReservoir':
      return reservoirNl <= rig.config.emptyReservoirNl;
    case 'motorStall': {
      if (rig.restarts > 0) return undefined;
      // A stall window coming after the last attempt is not known to the pump until it tries again.
      const last = rig.batches
        .filter(
          (b) =>
            b.endReason === 'stalled' || (b.endReason === 'completed' && (b.strokesDone ?? 0) > 0),
        )
        .at(-1);
      return last === undefined ? undefined : last.endReason === 'stalled';
    }
    case 'lowBatteryReset':
      return false;
    default:
      return undefined;
  }
}

/** ALM-CLEAR: an alarm whose condition held is kept, with a refusal naming it; one whose condition had gone is cleared and logged. */
export function checkAlarmClear(
  rig: PumpRig,
  conditions: readonly (readonly [AlarmCode, boolean | undefined])[],
  outcome: Outcome,
): void {
  const after = new Set(rig.controller.context.alarms.map((a) => a.code));
  const cleared = new Set(
    outcome.records.flatMap((r) => (r.type === 'alarmCleared' ? [r.code] : [])),
  );
  const refusedFields = new Set(outcome.refused.map((r) => r.field));
  for (const [code, holds] of conditions) {
    if (holds === true && (!after.has(code) || !refusedFields.has(`alarms.${code}`))) {
      throw new InvariantViolation(
        COMMAND_CHECKS.alarmClear,
        `${code} at ${rig.at}: its condition holds, yet it was ${after.has(code) ? 'kept without a refusal naming it' : 'cleared'}`,
      );
    }
    if (holds === false && (after.has(code) || !cleared.has(code))) {
      throw new InvariantViolation(
        COMMAND_CHECKS.alarmClear,
        `${code} at ${rig.at}: its condition has gone, yet it was ${after.has(code) ? 'kept' : 'removed without an alarmCleared record'}`,
      );
    }
  }
}

export class SetClockCommand extends ClinicalCommand {
  /** `shiftMs` moves the clock from its reading; `toRtcMs` sets an absolute (possibly invalid) time. */
  constructor(readonly change: { shiftMs: number } | { toRtcMs: number }) {
    super();
  }
  protected planned(): string {
    return 'shiftMs' in this.change
      ? `set clock ${this.change.shiftMs < 0 ? '-' : '+'}${formatDurationMs(Math.abs(this.change.shiftMs))}`
      : `set clock to ${this.change.toRtcMs} ms`;
  }
  protected fresh(): SetClockCommand {
    return new SetClockCommand(this.change);
  }
  protected act(model: ReferenceModel, run: QaRun): void {
    const { rig } = run;
    const rtcMs =
      'shiftMs' in this.change ? rig.simClock.rtcMs() + this.change.shiftMs : this.change.toRtcMs;
    const before = snapshotPump(rig);
    const outcome = rig.command({ type: 'cmd.setClock', rtcMs });
    const accepted = outcome.records.some((r) => r.type === 'clockSet');
    this.note(
      run,
      `${this.planned()} at ${rig.at}${accepted ? '' : ` → refused: ${outcome.refused[0]?.message ?? '?'}`}`,
    );
    if (!accepted) checkRefusal(rig, before, outcome, 'set clock');
    const expected: Expectation = Number.isSafeInteger(rtcMs) && rtcMs >= 0 ? 'accept' : 'refuse';
    expectOutcome(COMMAND_CHECKS.state, expected, accepted, 'setting the clock', outcome);
    if (accepted) model.clockSet(rig.nowMs);
  }
}

export class MotorStallCommand extends ClinicalCommand {
  /** `forMs` undefined clears every stall now. */
  constructor(readonly forMs: number | undefined) {
    super();
  }
  protected planned(): string {
    return this.forMs === undefined
      ? 'motor stall cleared'
      : `motor stall for ${formatDurationMs(this.forMs)}`;
  }
  protected fresh(): MotorStallCommand {
    return new MotorStallCommand(this.forMs);
  }
  protected act(model: ReferenceModel, run: QaRun): void {
    const { rig } = run;
    if (this.forMs === undefined) rig.clearStalls();
    else {
      rig.injectStall(this.forMs);
      model.stallInjected = true;
      model.deliveryEverBlocked = true;
    }
    this.note(run, `${this.planned()} at ${rig.at}`);
  }
}

/**
 * A priming bolus as a clinician may wrongly ask for it on an established catheter: without the
 * confirmation that the catheter holds no drug, or with an impossible rate or margin. The pump must
 * refuse it and change nothing (INV-6). (A confirmed priming of a new, saline-filled catheter is
 * part of the set-up.)
 */
export class PrimingBolusCommand extends ClinicalCommand {
  constructor(readonly variant: { rateNlPerDay?: number; marginNl?: number; way: string }) {
    super();
  }
  protected planned(): string {
    return `priming bolus (${this.variant.way})`;
  }
  protected fresh(): PrimingBolusCommand {
    return new PrimingBolusCommand(this.variant);
  }
  protected act(_model: ReferenceModel, run: QaRun): void {
    const { rig } = run;
    const before = snapshotPump(rig);
    const { way: _way, ...fields } = this.variant;
    const outcome = rig.command({ type: 'cmd.primingBolus', ...fields });
    const accepted = !isRefusal(outcome);
    this.note(
      run,
      `priming bolus at ${rig.at} (${this.variant.way}) → ${accepted ? 'started' : `refused: ${outcome.refused[0]?.message ?? '?'}`}`,
    );
    if (accepted)
      throw new InvariantViolation(
        COMMAND_CHECKS.state,
        `a priming bolus ${this.variant.way} was started`,
      );
    checkRefusal(rig, before, outcome, 'priming bolus');
  }
}

/**
 * Power loss and restart between two steps: the motor drive is cut, a new controller boots from
 * what it persisted (src/pump/persist.ts). The model is not told anything: lockouts, grants,
 * boluses and limits must survive, so every invariant keeps being judged across the restart.
 */
export class PowerCycleCommand extends ClinicalCommand {
  protected planned(): string {
    return 'power loss and restart';
  }
  protected fresh(): PowerCycleCommand {
    return new PowerCycleCommand();
  }
  protected act(_model: ReferenceModel, run: QaRun): void {
    const before = run.rig.controller.state.therapy;
    run.rig.powerCycle();
    this.note(
      run,
      `power loss and restart at ${run.rig.at} (${before} → ${run.rig.controller.state.therapy})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The command set.

/** The kinds of command a set can draw, each with a relative weight. */
export type CommandKind =
  | 'press'
  | 'pressBurst'
  | 'wait'
  | 'edgeWait'
  | 'reprogram'
  | 'invalidReprogram'
  | 'clinicianBolus'
  | 'refill'
  | 'invalidRefill'
  | 'stopResumeClear'
  | 'setClock'
  | 'stall'
  | 'powerCycle'
  | 'primingBolus';

/** The default mix; stalls and power cycles are off unless asked for. */
export const defaultCommandWeights: Readonly<Record<CommandKind, number>> = {
  press: 4,
  pressBurst: 2,
  wait: 5,
  edgeWait: 3,
  reprogram: 2,
  invalidReprogram: 1,
  clinicianBolus: 2,
  refill: 2,
  invalidRefill: 1,
  stopResumeClear: 3,
  setClock: 2,
  stall: 0,
  powerCycle: 0,
  primingBolus: 1,
};

export interface CommandSetOptions {
  /** Include motor stalls (weight 2 unless `weights.stall` says otherwise). */
  stalls?: boolean;
  /** Include power loss and restart between commands (weight 1 unless `weights.powerCycle` says otherwise). */
  restarts?: boolean;
  /** Override the relative weights; 0 leaves a kind out. */
  weights?: Partial<Record<CommandKind, number>>;
  /** Further command arbitraries, each at weight 1 (the extension point of docs/testing.md). */
  extra?: fc.Arbitrary<PumpCommand>[];
}

/** Arbitraries of the commands, for a given drug library (mixtures are drawn from it). */
export function commandArbitraries(
  library: DrugLibrary,
  options: CommandSetOptions = {},
): fc.Arbitrary<PumpCommand>[] {
  const weights: Record<CommandKind, number> = {
    ...defaultCommandWeights,
    stall: options.stalls ? 2 : 0,
    powerCycle: options.restarts ? 1 : 0,
    ...options.weights,
  };
  const position = fc.integer({ min: 0, max: 100 }).map((p) => p / 100);
  const byKind: Record<CommandKind, () => fc.Arbitrary<PumpCommand>> = {
    press: () => fc.constant(null).map(() => new PressCommand()),
    pressBurst: () =>
      fc
        .tuple(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 1_000, max: 90 * 60_000 }))
        .map(([n, gapMs]) => new PressBurstCommand(n, gapMs)),
    wait: () => waitMsArb().map((ms) => new WaitCommand(ms)),
    edgeWait: () =>
      fc.oneof(
        fc.integer({ min: -1_500, max: 1_500 }).map((o) => new EdgeWaitCommand('lockoutEnd', o)),
        fc.integer({ min: -60_000, max: 1_000 }).map((o) => new EdgeWaitCommand('windowExit', o)),
        fc.integer({ min: -1_000, max: 1_000 }).map((o) => new EdgeWaitCommand('bolusEnd', o)),
        fc.integer({ min: -2_000, max: 2_000 }).map((o) => new EdgeWaitCommand('strokeExit', o)),
      ),
    reprogram: () =>
      fc
        .tuple(therapyShapeArb(), fc.boolean())
        .map(([s, confirm]) => new ReprogramCommand(s, confirm)),
    invalidReprogram: () =>
      fc
        .oneof(
          invalidPrescriptionArb().map((b) => ({ prescription: b.prescription, way: b.way })),
          invalidPtmArb().map((b) => ({
            prescription: { mode: 'continuous', doseNgPerDay: 1 },
            ptm: b.ptm,
            way: b.way,
          })),
        )
        .chain((bad) => fc.boolean().map((confirm) => new InvalidReprogramCommand(bad, confirm))),
    clinicianBolus: () =>
      fc
        .tuple(
          fc.constantFrom<LimitBand | 'invalid'>(
            'withinSoft',
            'withinSoft',
            'softToHard',
            'aboveHard',
            'invalid',
          ),
          position,
          fc.constantFrom(60_000, 600_000, 3_600_000),
          fc.boolean(),
        )
        .map(([band, p, d, confirm]) => new ClinicianBolusCommand(band, p, d, confirm)),
    refill: () =>
      fc
        .tuple(
          fc.oneof(
            { arbitrary: fc.double({ min: 0.01, max: 1, noNaN: true }), weight: 4 },
            // Just above the empty threshold of the default pump (0.5 of 20 mL), and about it.
            fc.double({ min: 0.024, max: 0.03, noNaN: true }),
          ),
          fc.option(mixtureArb(library), { freq: 3, nil: undefined }),
          fc.boolean(),
          fc.oneof(
            { arbitrary: fc.constant(1000), weight: 3 },
            { arbitrary: fc.integer({ min: 500, max: 1500 }), weight: 1 },
          ),
        )
        .map(
          ([share, mixture, confirm, reported]) =>
            new RefillCommand(share, mixture, confirm, reported),
        ),
    invalidRefill: () =>
      fc
        .oneof(
          invalidMixtureArb(library).map((b) => ({ mixture: b.mixture, way: b.way })),
          fc.constant({ addedNl: -1, way: 'a negative volume' }),
          fc.constant({ addedNl: 1.5, way: 'a fractional volume' }),
          fc.integer({ min: 1, max: 1_000_000 }).map((extra) => ({
            addedNl: 40_000_000 + extra,
            way: 'more than the reservoir holds',
          })),
        )
        .map((bad) => new InvalidRefillCommand(bad)),
    stopResumeClear: () =>
      fc
        .constantFrom<'stop' | 'resume' | 'clearAlarms'>('stop', 'resume', 'resume', 'clearAlarms')
        .map((k) => new SimpleCommand(k)),
    setClock: () =>
      fc.oneof(
        {
          arbitrary: clockShiftMsArb().map(
            (shiftMs): PumpCommand => new SetClockCommand({ shiftMs }),
          ),
          weight: 5,
        },
        {
          arbitrary: fc.constant(null).map((): PumpCommand => new SetClockCommand({ toRtcMs: -1 })),
          weight: 1,
        },
      ),
    stall: () =>
      fc
        .option(fc.integer({ min: 1_000, max: 2 * DAY_MS }), { freq: 3, nil: undefined })
        .map((ms) => new MotorStallCommand(ms)),
    powerCycle: () => fc.constant(null).map(() => new PowerCycleCommand()),
    primingBolus: () =>
      fc
        .oneof(
          fc.constant({ way: 'without confirmation' }),
          fc
            .integer({ min: 24 * 1_000_000 + 1, max: 100 * 1_000_000 })
            .map((rateNlPerDay) => ({ rateNlPerDay, way: 'above the highest flow, unconfirmed' })),
          fc.constant({ marginNl: -1, way: 'with a negative margin, unconfirmed' }),
        )
        .map((v) => new PrimingBolusCommand(v)),
  };
  const picked = (Object.keys(byKind) as CommandKind[])
    .filter((k) => weights[k] > 0)
    .map((k) => ({ arbitrary: byKind[k](), weight: weights[k] }));
  return [
    fc.oneof(...picked, ...(options.extra ?? []).map((arbitrary) => ({ arbitrary, weight: 1 }))),
  ];
}

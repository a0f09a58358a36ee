/**
 * The reference model: a deliberately small description of what the pump has been told and has
 * done, against which the real controller is judged.
 *
 * It is not a second controller. It holds a few numbers and lists, each fed by what a test did or
 * saw from the outside (commands sent, accepted or refused, presses granted, times in the
 * safe-minimum-rate state):
 * - the therapy in force (prescription, PTM settings, mixture) and when it last changed;
 * - the start times of granted patient boluses with the settings they were granted under, and of
 *   clinician boluses (each starts a lockout);
 * - when the real-time clock was set, whether a motor stall was ever injected, and when the pump
 *   was at the safe minimum rate.
 * From these it answers questions with the requirement text's own arithmetic (docs/requirements.md):
 * until when the lockout runs, how many boluses the sliding 24 hours holds, whether a therapy is
 * within the drug library's soft and hard maxima, and the worst case a therapy allows in 24 hours.
 * It deliberately does not plan strokes, settle accounting or compute rates per millisecond.
 */
import type {
  DrugLibrary,
  Mixture,
  Prescription,
  PtmSettings,
  PumpConfig,
} from '../src/therapy/schema.js';
import { rateNlPerDayMax } from '../src/constants.js';
import { DAY_MS, PG_PER_NG } from '../src/units.js';

export interface Grant {
  atMs: number;
  lockoutMs: number;
  bolusesPer24hMax: number;
}

export interface LockoutStart {
  atMs: number;
  lockoutMs: number;
  kind: 'patient' | 'clinician';
}

export type Expectation = 'accept' | 'refuse' | 'unsure';

/** One figure (a dose in ng, or a flow in nL/day) checked against a soft and a hard maximum. */
export interface LimitCheck {
  what: string;
  value: number;
  soft: number;
  hard: number;
}

/** Within 2 % (and 2 ng) of a limit the firmware's rounding decides; the model does not guess. */
function side(value: number, limit: number): 'below' | 'edge' | 'above' {
  if (value <= limit * 0.98 - 2) return 'below';
  if (value >= limit * 1.02 + 2) return 'above';
  return 'edge';
}

/** The flow during a bolus of `volumeNl` over `durationMs`, rounded up (nL/day). */
export function bolusFlowNlPerDay(volumeNl: number, durationMs: number): number {
  return Math.ceil((volumeNl * DAY_MS) / durationMs);
}

/** Accept, refuse or unsure for a set of limit checks and whether the command was confirmed. */
/**
 * The mixture the pump must assume reaches the patient (REQ-LIM-7): the reservoir's and, while the
 * pump says a bridge runs (its last bridge record is a start), per drug the highest concentration
 * of the path's mixtures that record names. A bolus pushes the path's old contents to the patient
 * first; boluses are judged on it and strokes during the bridge are counted as it.
 */
export function tipMixtureWorstCase(
  mixture: Mixture,
  log: readonly { type: string; pathMixture?: unknown }[],
): Mixture {
  let last: { type: string; pathMixture?: unknown } | undefined;
  for (let i = log.length - 1; i >= 0 && last === undefined; i--)
    if (log[i]!.type.startsWith('bridge') && log[i]!.type !== 'bridgeAdjusted') last = log[i];
  if (last?.type !== 'bridgeStarted') return mixture;
  const worst = new Map<string, number>();
  for (const d of [...mixture, ...(last.pathMixture as Mixture)])
    worst.set(d.drug, Math.max(worst.get(d.drug) ?? 0, d.concentrationUgPerMl));
  return [...worst].map(([drug, concentrationUgPerMl]) => ({ drug, concentrationUgPerMl }));
}

export function judgeLimits(checks: readonly LimitCheck[], confirmed: boolean): Expectation {
  const hard = checks.map((c) => side(c.value, c.hard));
  if (hard.includes('above')) return 'refuse';
  if (hard.includes('edge')) return 'unsure';
  const soft = checks.map((c) => side(c.value, c.soft));
  if (soft.every((s) => s === 'below')) return 'accept';
  if (soft.includes('edge')) return 'unsure';
  return confirmed ? 'accept' : 'refuse';
}

/** Volume of one patient bolus: the solution holding the PTM dose of the primary drug, rounded down. */
export function bolusVolumeNl(ptm: PtmSettings | undefined, mixture: Mixture | undefined): number {
  const primary = mixture?.[0];
  if (!ptm || !primary) return 0;
  return Math.floor((ptm.bolusDoseNg * PG_PER_NG) / primary.concentrationUgPerMl);
}

/** Is every drug of the mixture in the library, at no more than its maximum concentration? */
export function mixtureAllowed(library: DrugLibrary, mixture: Mixture): boolean {
  return mixture.every((d) => {
    const lim = library.drugs.find((x) => x.drug === d.drug);
    return lim !== undefined && d.concentrationUgPerMl <= lim.concentrationUgPerMlMax;
  });
}

/** The flow that delivers a primary-drug dose per day, rounded down (nL/day): the pump never rounds up. */
export function rateNlPerDay(doseNgPerDay: number, primaryConcentrationUgPerMl: number): number {
  return Math.floor((doseNgPerDay * PG_PER_NG) / primaryConcentrationUgPerMl);
}

/** The schedule's peak and day-averaged flow (nL/day). */
export function dailyVolumesNl(
  p: Prescription,
  primaryConcentrationUgPerMl: number,
): { peakNl: number; averageNl: number } {
  const steps =
    p.mode === 'continuous' ? [{ startMinute: 0, doseNgPerDay: p.doseNgPerDay }] : p.steps;
  let sum = 0;
  let peak = 0;
  for (const [i, s] of steps.entries()) {
    const rate = rateNlPerDay(s.doseNgPerDay, primaryConcentrationUgPerMl);
    peak = Math.max(peak, rate);
    sum += rate * ((steps[i + 1]?.startMinute ?? 1440) - s.startMinute);
  }
  return { peakNl: peak, averageNl: sum / 1440 };
}

/**
 * The checks a therapy must pass (REQ-LIM-2..4, REQ-DOS-3), per drug: the peak daily dose, and
 * with one stroke more against the hard maximum (delivery runs within a stroke of the programme);
 * one patient bolus; the worst case (a day of basal plus every bolus the PTM allows, plus a
 * stroke) against the daily maxima. And the pump's highest flow, for the basal peak and for the
 * basal peak plus a patient bolus. Volumes follow from the primary drug's dose, rounded down;
 * each drug's dose is volume × its concentration (1 nL of 1 µg/mL is 1 pg).
 */
export function therapyChecks(
  library: DrugLibrary,
  mixture: Mixture,
  prescription: Prescription,
  ptm: PtmSettings | undefined,
  strokeVolumeNl = 0,
): LimitCheck[] {
  const c1 = mixture[0]!.concentrationUgPerMl;
  const { peakNl, averageNl } = dailyVolumesNl(prescription, c1);
  const bolusNl = bolusVolumeNl(ptm, mixture);
  const checks: LimitCheck[] = [
    { what: 'basal flow', value: peakNl, soft: rateNlPerDayMax, hard: rateNlPerDayMax },
  ];
  if (ptm)
    checks.push({
      what: 'flow during a patient bolus',
      value: peakNl + bolusFlowNlPerDay(bolusNl, ptm.bolusDurationMs),
      soft: rateNlPerDayMax,
      hard: rateNlPerDayMax,
    });
  for (const d of mixture) {
    const lim = library.drugs.find((x) => x.drug === d.drug)!;
    const ng = (volumeNl: number) => (volumeNl * d.concentrationUgPerMl) / PG_PER_NG;
    checks.push({
      what: `${d.drug} daily`,
      value: ng(peakNl),
      soft: lim.dailyDoseNgSoftMax,
      hard: lim.dailyDoseNgHardMax,
    });
    checks.push({
      what: `${d.drug} daily and a stroke`,
      value: ng(peakNl + strokeVolumeNl),
      soft: lim.dailyDoseNgHardMax,
      hard: lim.dailyDoseNgHardMax,
    });
    if (ptm) {
      checks.push({
        what: `${d.drug} bolus`,
        value: ng(bolusNl),
        soft: lim.bolusDoseNgSoftMax,
        hard: lim.bolusDoseNgHardMax,
      });
      checks.push({
        what: `${d.drug} worst case`,
        value: ng(averageNl + ptm.bolusesPer24hMax * bolusNl + strokeVolumeNl),
        soft: lim.dailyDoseNgSoftMax,
        hard: lim.dailyDoseNgHardMax,
      });
    }
  }
  return checks;
}

export class ReferenceModel {
  mixture: Mixture | undefined;
  prescription: Prescription | undefined;
  ptm: PtmSettings | undefined;
  /** When the prescription, the PTM settings or the mixture's concentrations last changed. */
  therapySinceMs = 0;
  readonly grants: Grant[] = [];
  readonly lockoutStarts: LockoutStart[] = [];
  readonly clinicianBoluses: { atMs: number; volumeNl: number }[] = [];
  readonly clockSetsMs: number[] = [];
  /** Spans the pump spent at the safe minimum rate, as observed ([from, to], to open while there). */
  readonly minimumRateSpans: { fromMs: number; toMs: number | undefined }[] = [];
  /** True once a motor stall was injected: the ideal-motor properties no longer apply. */
  stallInjected = false;
  /**
   * True once the pump could not deliver what was programmed (a stall, or a reservoir estimate
   * below one stroke): from then on the missed volume is dropped, not caught up (REQ-MOT-2).
   */
  deliveryEverBlocked = false;

  constructor(
    readonly config: PumpConfig,
    readonly library: DrugLibrary,
  ) {}

  // -------------------------------------------------------------------------------------------
  // What happened (fed by the commands).

  programmed(atMs: number, prescription: Prescription, ptm: PtmSettings | undefined): void {
    this.prescription = prescription;
    this.ptm = ptm;
    this.therapySinceMs = atMs;
  }

  refilled(atMs: number, mixture: Mixture | undefined): void {
    if (mixture === undefined) return;
    const changed = JSON.stringify(mixture) !== JSON.stringify(this.mixture);
    this.mixture = mixture;
    if (changed) this.therapySinceMs = atMs;
  }

  granted(atMs: number): void {
    const ptm = this.ptm!;
    this.grants.push({ atMs, lockoutMs: ptm.lockoutMs, bolusesPer24hMax: ptm.bolusesPer24hMax });
    this.lockoutStarts.push({ atMs, lockoutMs: ptm.lockoutMs, kind: 'patient' });
  }

  clinicianBolusStarted(atMs: number, volumeNl: number): void {
    this.clinicianBoluses.push({ atMs, volumeNl });
    if (this.ptm)
      this.lockoutStarts.push({ atMs, lockoutMs: this.ptm.lockoutMs, kind: 'clinician' });
  }

  clockSet(atMs: number): void {
    this.clockSetsMs.push(atMs);
  }

  /** Called after every controller step with whether the pump is at the safe minimum rate. */
  observeMinimumRate(atMs: number, atMinimum: boolean): void {
    const open = this.minimumRateSpans.at(-1);
    if (atMinimum && (open === undefined || open.toMs !== undefined))
      this.minimumRateSpans.push({ fromMs: atMs, toMs: undefined });
    if (!atMinimum && open && open.toMs === undefined) open.toMs = atMs;
  }

  // -------------------------------------------------------------------------------------------
  // What the requirements say follows.

  /** No patient bolus may start before this (REQ-PTM-1, REQ-PTM-2). */
  lockoutUntilMs(): number {
    let until = Number.NEGATIVE_INFINITY;
    for (const s of this.lockoutStarts) until = Math.max(until, s.atMs + s.lockoutMs);
    return until;
  }

  /** Patient boluses granted in (t − 24 h, t] (REQ-PTM-4). */
  grantsInWindow(t: number): number {
    return this.grants.filter((g) => g.atMs > t - DAY_MS).length;
  }

  bolusVolumeNl(): number {
    return bolusVolumeNl(this.ptm, this.mixture);
  }

  /** Would programming this be accepted (REQ-LIM-1..5)? */
  expectProgram(
    prescription: Prescription,
    ptm: PtmSettings | undefined,
    confirmed: boolean,
  ): Expectation {
    if (!this.mixture) return 'refuse';
    return judgeLimits(
      therapyChecks(this.library, this.mixture, prescription, ptm, this.config.strokeVolumeNl),
      confirmed,
    );
  }

  /**
   * Would this refill be accepted? A new mixture is checked in full against the therapy, and is
   * refused while a bolus runs (a bolus keeps its volume: a new concentration would change its dose).
   */
  expectRefill(
    withdrawnNl: number,
    addedNl: number,
    mixture: Mixture | undefined,
    confirmed: boolean,
    bolusRunning = false,
  ): Expectation {
    for (const v of [withdrawnNl, addedNl]) if (!Number.isSafeInteger(v) || v < 0) return 'refuse';
    if (addedNl > this.config.reservoirCapacityNl) return 'refuse';
    const next = mixture ?? this.mixture;
    if (!next) return 'refuse';
    if (!mixtureAllowed(this.library, next)) return 'refuse';
    const same = JSON.stringify(next) === JSON.stringify(this.mixture);
    if (bolusRunning && !same) return 'refuse';
    // With no therapy yet, one stroke of the mixture must still fit every drug's hard daily maximum.
    if (!this.prescription)
      return judgeLimits(
        therapyChecks(
          this.library,
          next,
          { mode: 'continuous', doseNgPerDay: 0 },
          undefined,
          this.config.strokeVolumeNl,
        ),
        true,
      );
    return judgeLimits(
      therapyChecks(this.library, next, this.prescription, this.ptm, this.config.strokeVolumeNl),
      confirmed || same,
    );
  }

  /**
   * The worst case the therapy in force allows in the 24 hours ending at `t`, per drug in pg, or
   * undefined when the therapy changed too recently for a window to lie within it (a bolus of
   * the previous therapy may still be running up to 24 h into the window's start).
   *
   * A day of basal (at the peak step if the clock was set inside the window, since a clock set back
   * repeats steps), every patient bolus the PTM allows, the clinician boluses that may overlap the
   * window, a day at the safe minimum rate if the pump was there in the window, and two strokes:
   * delivery runs within one stroke of the programme at both ends of the window (REQ-DOS-1).
   */
  worstCasePg(t: number): Map<string, number> | undefined {
    const { mixture, prescription, ptm } = this;
    if (!mixture || !prescription || this.therapySinceMs > t - 2 * DAY_MS) return undefined;
    const { peakNl, averageNl } = dailyVolumesNl(prescription, mixture[0]!.concentrationUgPerMl);
    const clockMoved = this.clockSetsMs.some((s) => s > t - DAY_MS && s <= t);
    const basalNl = clockMoved ? peakNl : averageNl;
    const bolusesNl = (ptm?.bolusesPer24hMax ?? 0) * this.bolusVolumeNl();
    const clinicianNl = this.clinicianBoluses
      .filter((b) => b.atMs > t - 2 * DAY_MS && b.atMs <= t)
      .reduce((s, b) => s + b.volumeNl, 0);
    const atMinimum = this.minimumRateSpans.some(
      (s) => s.fromMs <= t && (s.toMs ?? t) > t - DAY_MS,
    );
    const minimumNl = atMinimum ? this.config.safeMinimumRateNlPerDay : 0;
    const strokesNl = 2 * this.config.strokeVolumeNl;
    const totalNl = basalNl + bolusesNl + clinicianNl + minimumNl + strokesNl;
    return new Map(mixture.map((d) => [d.drug, totalNl * d.concentrationUgPerMl]));
  }
}

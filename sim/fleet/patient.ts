/**
 * One virtual patient of a fleet: the scenario run with the patient's own seed, reduced to a few
 * scalars (`PatientOutcome`) that the fleet merges into its sketches.
 *
 * What differs between patients comes from the seed (seed = base seed + patient index):
 * - the breakthrough-pain demand and the motor's per-batch stroke-volume noise, as in any run of
 *   the scenario (sim/runner.ts draws them from the seed);
 * - the patient's systematic stroke-volume error, drawn once from a normal distribution around the
 *   scenario's value (`motorErrorSdPpm`), so the fleet has pumps that over- and under-infuse;
 * - motor-stall faults: Poisson arrivals at `stallsPerYear`, each lasting `stallDurationMs`,
 *   added to the timeline as `motorStall` events, each followed `clinicResponseMs` after it ends
 *   by a clinician clearing the alarms (the patient goes to the clinic). Without that visit a
 *   latched critical alarm would repeat every 10 minutes for the rest of the run: unrealistic,
 *   and 144 extra controller events a day that would dominate the fleet's run time. The default
 *   response is two days because the pump refuses the clear until it has seen the motor work
 *   again, which it learns at the end of its first good batch: at the safe minimum rate that
 *   batch can run a day.
 * Each draw uses its own PRNG stream forked from the seed, so the runner's own draws are untouched
 * and a patient with no variation runs exactly as `itpump run --seed S` does.
 *
 * Memory per patient is bounded: the trace is not kept. The simulation is sampled every
 * `sampleEveryMs` (1 h), the in-flight strokes flushed so the true delivery is current, and the
 * highest 24-h true dose per drug is kept with a sliding window of one day of samples. At a few
 * hundred evenly spaced points (`band`), the true reservoir and the 24-h dose are kept too, for the
 * fleet's percentile bands over time.
 */
import { alarmCodes, type AlarmCode } from '../../src/alarms.js';
import { denyReasons, type DenyReason } from '../../src/pump/types.js';
import { DAY_MS, HOUR_MS } from '../../src/units.js';
import { Prng } from '../prng.js';
import { Simulation } from '../runner.js';
import type { Scenario, TimelineEvent } from '../scenario.js';

/** How patients differ beyond the scenario's own seeded demand and noise. */
export interface FleetVariation {
  /** Standard deviation of the per-patient systematic stroke-volume error (ppm). */
  motorErrorSdPpm: number;
  /** Mean number of motor-stall faults per patient-year (Poisson). */
  stallsPerYear: number;
  /** How long each injected stall lasts. */
  stallDurationMs: number;
  /** From the end of a stall to the clinician clearing the alarms. */
  clinicResponseMs: number;
}

/**
 * Defaults, all placeholders to be tuned per study (docs/fleet.md): a 2.5 % spread of pump bias
 * (the order of the per-refill mean error measured for the SynchroMed II, +2.5 %, Wesemann 2014 via
 * docs/sources.md S2; the spread itself is UNCONFIRMED), and a rare intermittent stall (UNCONFIRMED rate).
 */
export const DEFAULT_VARIATION: FleetVariation = {
  motorErrorSdPpm: 25_000,
  stallsPerYear: 0.1,
  stallDurationMs: 2 * HOUR_MS,
  clinicResponseMs: 2 * DAY_MS,
};

export const YEAR_MS = 365 * DAY_MS;

/** The stroke-volume error the motor accepts is bounded; a draw is clamped to ±50 %. */
const MOTOR_ERROR_LIMIT_PPM = 500_000;

export interface PatientDraw {
  strokeVolumeErrorPpm: number;
  stallStartsMs: number[];
}

/** The patient's own motor error and stall times, from its seed. */
export function drawPatient(
  scenario: Scenario,
  seed: number,
  variation: FleetVariation,
): PatientDraw {
  const random = new Prng(seed);
  const motor = random.fork('fleet-motor-error');
  const base = scenario.motor.strokeVolumeError;
  const drawn =
    variation.motorErrorSdPpm > 0
      ? Math.round(motor.normal(base, variation.motorErrorSdPpm))
      : base;
  const strokeVolumeErrorPpm = Math.max(
    -MOTOR_ERROR_LIMIT_PPM,
    Math.min(MOTOR_ERROR_LIMIT_PPM, drawn),
  );
  const stallStartsMs: number[] = [];
  if (variation.stallsPerYear > 0) {
    const stalls = random.fork('fleet-stalls');
    const meanGapMs = YEAR_MS / variation.stallsPerYear;
    for (
      let t = stalls.exponential(meanGapMs);
      t < scenario.duration;
      t += stalls.exponential(meanGapMs)
    )
      stallStartsMs.push(Math.floor(t));
  }
  return { strokeVolumeErrorPpm, stallStartsMs };
}

/** The scenario as this patient lives it: its motor error, its stalls in the timeline. */
export function patientScenario(
  scenario: Scenario,
  draw: PatientDraw,
  variation: FleetVariation,
): Scenario {
  const stalls: TimelineEvent[] = draw.stallStartsMs.flatMap((at) => [
    { at, motorStall: { for: variation.stallDurationMs } } as TimelineEvent,
    {
      at: at + variation.stallDurationMs + variation.clinicResponseMs,
      clearAlarms: {},
    } as TimelineEvent,
  ]);
  const timeline =
    stalls.length === 0
      ? scenario.timeline
      : [...scenario.timeline, ...stalls].sort((a, b) => a.at - b.at);
  return {
    ...scenario,
    motor: { ...scenario.motor, strokeVolumeError: draw.strokeVolumeErrorPpm },
    timeline,
  };
}

/** What the fleet keeps of one patient: plain numbers, cheap to post between threads. */
export interface PatientOutcome {
  index: number;
  seed: number;
  simulatedMs: number;
  controllerEvents: number;
  strokeVolumeErrorPpm: number;
  stalls: number;
  firstLowReservoirAlarmMs: number | null;
  firstEmptyReservoirAlarmMs: number | null;
  trueReservoirDryAtMs: number | null;
  pressesRequested: number;
  deniedByReason: Record<DenyReason, number>;
  alarmsRaised: Record<AlarmCode, number>;
  /** Per drug of the fleet (in the fleet's drug order), the highest true dose in any 24 h (pg). */
  highest24hPg: number[];
  /**
   * The patient over time, at points k · bandStepMs (k = 0, 1, … below bandPoints): the true
   * reservoir volume, and per drug the true dose of the 24 h ending there (less from the start).
   * Bounded by bandPoints (runFleet keeps it at most BAND_POINTS_MAX), whatever the run's length.
   */
  series: { reservoirNl: number[]; dailyDosePg: number[][] };
}

/** A simulation that keeps no trace: it samples the true delivery into a one-day sliding window. */
class PatientSimulation extends Simulation {
  private readonly windowTimes: number[] = [];
  private readonly windowDoses: number[][] = [];
  private head = 0;
  readonly highestPg: number[];
  readonly series: PatientOutcome['series'];

  constructor(
    scenario: Scenario,
    seed: number,
    private readonly drugs: readonly string[],
    private readonly windowMs: number,
    private readonly band: { stepMs: number; points: number },
  ) {
    // No resets are injected into fleet patients, so nothing needs the NVM: about 40 % faster.
    super(scenario, seed, { persist: false });
    this.highestPg = drugs.map(() => 0);
    this.series = { reservoirNl: [], dailyDosePg: drugs.map(() => []) };
  }

  /** Step semantics as sim/analysis/rolling.ts: dose in (t − W, t] = C(t) − C(last sample ≤ t − W). */
  override sample(): void {
    this.motor.flush(); // book the strokes of the running batch done so far, so the truth is current
    const now = this.clock.nowMs();
    const doses = this.drugs.map((d) => this.trueDeliveredPg.get(d) ?? 0);
    this.windowTimes.push(now);
    this.windowDoses.push(doses);
    // Keep exactly one sample at or before now − W (the base), drop older ones.
    while (
      this.head + 1 < this.windowTimes.length &&
      this.windowTimes[this.head + 1]! <= now - this.windowMs
    )
      this.head++;
    const baseIsOld = this.windowTimes[this.head]! <= now - this.windowMs;
    const base = baseIsOld ? this.windowDoses[this.head]! : undefined;
    // The next band point, once (the run samples its end twice).
    const point = this.series.reservoirNl.length;
    const onPoint = point < this.band.points && now >= point * this.band.stepMs;
    if (onPoint) this.series.reservoirNl.push(this.motor.trueReservoirNl);
    doses.forEach((dose, k) => {
      const sum = dose - (base?.[k] ?? 0);
      if (sum > this.highestPg[k]!) this.highestPg[k] = sum;
      if (onPoint) this.series.dailyDosePg[k]!.push(sum);
    });
    if (this.head > 256) {
      this.windowTimes.splice(0, this.head);
      this.windowDoses.splice(0, this.head);
      this.head = 0;
    }
  }
}

export interface PatientRunOptions {
  variation: FleetVariation;
  /** The fleet's drugs, in its order. */
  drugs: readonly string[];
  /** Sampling of the true delivery (default 1 h). */
  sampleEveryMs?: number;
  /** The points of the patient's series: every `stepMs` (a multiple of the sampling), `points` of them (default: none). */
  band?: { stepMs: number; points: number };
}

/** Runs patient `index` (seed `seed`) and reduces it to its outcome. */
export function runPatient(
  scenario: Scenario,
  index: number,
  seed: number,
  options: PatientRunOptions,
): PatientOutcome {
  const draw = drawPatient(scenario, seed, options.variation);
  const sim = new PatientSimulation(
    patientScenario(scenario, draw, options.variation),
    seed,
    options.drugs,
    DAY_MS,
    options.band ?? { stepMs: options.sampleEveryMs ?? HOUR_MS, points: 0 },
  );
  sim.run({ traceEveryMs: options.sampleEveryMs ?? HOUR_MS });
  const deniedByReason = Object.fromEntries(denyReasons.map((r) => [r, 0])) as Record<
    DenyReason,
    number
  >;
  const alarmsRaised = Object.fromEntries(alarmCodes.map((c) => [c, 0])) as Record<
    AlarmCode,
    number
  >;
  let granted = 0;
  let firstLow: number | null = null;
  let firstEmpty: number | null = null;
  for (const e of sim.events) {
    if (e.type === 'pressGranted') granted++;
    else if (e.type === 'pressDenied') deniedByReason[e.reason]++;
    else if (e.type === 'alarmRaised') {
      alarmsRaised[e.code]++;
      if (e.code === 'lowReservoir' && firstLow === null) firstLow = e.atMs;
      if (e.code === 'emptyReservoir' && firstEmpty === null) firstEmpty = e.atMs;
    }
  }
  const denied = Object.values(deniedByReason).reduce((a, b) => a + b, 0);
  return {
    index,
    seed,
    simulatedMs: sim.clock.nowMs(),
    controllerEvents: sim.controller.handled,
    strokeVolumeErrorPpm: draw.strokeVolumeErrorPpm,
    stalls: draw.stallStartsMs.length,
    firstLowReservoirAlarmMs: firstLow,
    firstEmptyReservoirAlarmMs: firstEmpty,
    trueReservoirDryAtMs: sim.motor.ranDryAtMs ?? null,
    pressesRequested: granted + denied,
    deniedByReason,
    alarmsRaised,
    highest24hPg: sim.highestPg,
    series: sim.series,
  };
}

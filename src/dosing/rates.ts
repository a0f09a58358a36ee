/**
 * Flow rates from doses, and doses from volumes.
 *
 * One flow rate serves every drug of the mixture: the prescription names the daily dose of the
 * primary drug (the first of the mixture), the rate follows from its concentration, and every other
 * drug's dose follows from the rate. Rates round down, so the pump never delivers more than the
 * prescribed dose because of rounding. Pure functions; no XState, HAL or time source.
 */
import { assert } from '../assert.js';
import type { Mixture, Prescription } from '../therapy/schema.js';
import { DAY_MS, MINUTE_MS, PG_PER_NG, dosePg } from '../units.js';

export function primaryDrug(mixture: Mixture): Mixture[number] {
  const primary = mixture[0];
  assert(primary !== undefined, 'a mixture has at least one drug');
  return primary;
}

/** nL/day that delivers `doseNgPerDay` of a drug at `concentrationUgPerMl` (rounded down). */
export function rateNlPerDayForDose(doseNgPerDay: number, concentrationUgPerMl: number): number {
  assert(concentrationUgPerMl > 0, 'concentration must be positive');
  return Math.floor((doseNgPerDay * PG_PER_NG) / concentrationUgPerMl);
}

/** A flex or continuous prescription as step rates: `[startMs of day, rateNlPerDay]`, sorted. */
export interface RateSteps {
  readonly startsMs: readonly number[];
  readonly ratesNlPerDay: readonly number[];
}

export function rateSteps(prescription: Prescription, mixture: Mixture): RateSteps {
  const concentration = primaryDrug(mixture).concentrationUgPerMl;
  if (prescription.mode === 'continuous') {
    return {
      startsMs: [0],
      ratesNlPerDay: [rateNlPerDayForDose(prescription.doseNgPerDay, concentration)],
    };
  }
  return {
    startsMs: prescription.steps.map((s) => s.startMinute * MINUTE_MS),
    ratesNlPerDay: prescription.steps.map((s) =>
      rateNlPerDayForDose(s.doseNgPerDay, concentration),
    ),
  };
}

/** Index of the step in force at a time of day (0 ≤ timeOfDayMs < DAY_MS). */
export function stepIndexAt(steps: RateSteps, timeOfDayMs: number): number {
  // The first step starts at 00:00, so the step in force is the one before the first that starts later.
  const next = steps.startsMs.findIndex((startMs) => startMs > timeOfDayMs);
  return next === -1 ? steps.startsMs.length - 1 : next - 1;
}

/** Time of day (ms since midnight) of a real-time clock reading. */
export function timeOfDayMs(rtcMs: number): number {
  return ((rtcMs % DAY_MS) + DAY_MS) % DAY_MS;
}

/** The volume one full day of the schedule delivers (exact: steps are whole minutes). */
export function dailyVolumeNl(steps: RateSteps): number {
  let fine = 0;
  for (let i = 0; i < steps.startsMs.length; i++) {
    const end = steps.startsMs[i + 1] ?? DAY_MS;
    fine += steps.ratesNlPerDay[i]! * (end - steps.startsMs[i]!);
  }
  return Math.ceil(fine / DAY_MS);
}

export function highestRateNlPerDay(steps: RateSteps): number {
  return Math.max(...steps.ratesNlPerDay);
}

/** Per drug, the picograms in a volume of the mixture. */
export function dosesPg(mixture: Mixture, volumeNl: number): Map<string, number> {
  return new Map(mixture.map((d) => [d.drug, dosePg(volumeNl, d.concentrationUgPerMl)]));
}

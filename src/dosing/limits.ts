/**
 * Programming checks against the drug library, for every drug of the mixture.
 *
 * Rules (docs/requirements.md, REQ-LIM-*):
 * - every drug of the mixture must be in the library, at no more than its maximum concentration;
 * - a daily dose or a bolus dose beyond a hard maximum is refused;
 * - beyond a soft maximum it is refused unless the command carries an explicit confirmation;
 * - the worst case, the basal schedule's daily volume plus every patient bolus the PTM settings
 *   allow in 24 hours, must stay within each drug's hard daily maximum.
 * A refusal names the field, the value and the limit. Pure functions.
 */
import type {
  DrugLibrary,
  DrugLimits,
  Mixture,
  Prescription,
  PtmSettings,
} from '../therapy/schema.js';
import { rateNlPerDayMax } from '../constants.js';
import {
  DAY_MS,
  formatConcentration,
  formatDoseNg,
  formatDosePgExact,
  formatMl,
  formatTimeMs,
  PG_PER_NG,
  dosePg,
  volumeNlForDoseNg,
} from '../units.js';
import { dailyVolumeNl, highestRateNlPerDay, primaryDrug, rateSteps } from './rates.js';
import type { CapExcess } from './dailyCap.js';

export type LimitRule = 'unknownDrug' | 'concentration' | 'hard' | 'soft' | 'worstCase' | 'state';

export interface Refusal {
  rule: LimitRule;
  /** Path of the offending field, e.g. `ptm.bolusDoseNg` or `mixture[1].concentrationUgPerMl`. */
  field: string;
  value: string;
  limit: string;
  message: string;
}

export function refusal(
  rule: LimitRule,
  field: string,
  value: string,
  limit: string,
  what: string,
): Refusal {
  return { rule, field, value, limit, message: `${field}: ${what} ${value} exceeds the ${limit}` };
}

function limitsFor(library: DrugLibrary, drug: string): DrugLimits | undefined {
  return library.drugs.find((d) => d.drug === drug);
}

/** Dose in ng (rounded up, so a check never passes by rounding) of a volume of one drug. */
function doseNg(volumeNl: number, concentrationUgPerMl: number): number {
  return Math.ceil(dosePg(volumeNl, concentrationUgPerMl) / PG_PER_NG);
}

export function checkMixture(library: DrugLibrary, mixture: Mixture): Refusal | undefined {
  for (const [i, { drug, concentrationUgPerMl }] of mixture.entries()) {
    const limits = limitsFor(library, drug);
    if (limits === undefined) {
      return {
        rule: 'unknownDrug',
        field: `mixture[${i}].drug`,
        value: drug,
        limit: `drug library "${library.name}"`,
        message: `mixture[${i}].drug: "${drug}" is not in the drug library "${library.name}"`,
      };
    }
    if (concentrationUgPerMl > limits.concentrationUgPerMlMax) {
      return refusal(
        'concentration',
        `mixture[${i}].concentrationUgPerMl`,
        formatConcentration(concentrationUgPerMl),
        `maximum concentration of ${drug}, ${formatConcentration(limits.concentrationUgPerMlMax)}`,
        `${drug} concentration`,
      );
    }
  }
  return undefined;
}

interface DoseCheck {
  field: string;
  what: string;
  doseNg: number;
  soft: number;
  hard: number;
  kind: 'daily' | 'bolus';
}

function checkDose(check: DoseCheck, drug: string, confirmed: boolean): Refusal | undefined {
  const value = formatDoseNg(check.doseNg);
  if (check.doseNg > check.hard) {
    return refusal(
      'hard',
      check.field,
      value,
      `hard maximum ${check.kind} dose of ${drug}, ${formatDoseNg(check.hard)}`,
      check.what,
    );
  }
  if (check.doseNg > check.soft && !confirmed) {
    const r = refusal(
      'soft',
      check.field,
      value,
      `soft maximum ${check.kind} dose of ${drug}, ${formatDoseNg(check.soft)}`,
      check.what,
    );
    return { ...r, message: `${r.message}; repeat the command with confirmation to accept it` };
  }
  return undefined;
}

export interface TherapyToCheck {
  library: DrugLibrary;
  mixture: Mixture;
  prescription: Prescription;
  ptm: PtmSettings | undefined;
  confirmed: boolean;
  /**
   * The pump's stroke volume. Delivery runs within one stroke of the programme, so a rolling
   * 24 hours may hold one stroke more than the daily volume: the hard checks count it.
   */
  strokeVolumeNl?: number;
}

/** The highest flow the mechanism delivers: basal plus a bolus must stay below it. */
function checkFlow(t: TherapyToCheck, peakNlPerDay: number, bolusNl: number): Refusal | undefined {
  if (peakNlPerDay > rateNlPerDayMax) {
    return refusal(
      'hard',
      'prescription.doseNgPerDay',
      formatMl(peakNlPerDay) + '/day',
      `pump's highest flow, ${formatMl(rateNlPerDayMax)}/day`,
      'basal flow',
    );
  }
  if (t.ptm) {
    const bolusNlPerDay = Math.ceil((bolusNl * DAY_MS) / t.ptm.bolusDurationMs);
    if (peakNlPerDay + bolusNlPerDay > rateNlPerDayMax) {
      return refusal(
        'hard',
        'ptm.bolusDurationMs',
        formatMl(peakNlPerDay + bolusNlPerDay) + '/day',
        `pump's highest flow, ${formatMl(rateNlPerDayMax)}/day`,
        'flow during a patient bolus',
      );
    }
  }
  return undefined;
}

/**
 * The first reason to refuse a therapy, or undefined when every drug is within its limits. Hard
 * limits (of any drug, then the flow) are reported before soft ones: a soft limit asks for a
 * confirmation that would only lead to the hard refusal.
 */
export function checkTherapy(t: TherapyToCheck): Refusal | undefined {
  const mixtureRefusal = checkMixture(t.library, t.mixture);
  if (mixtureRefusal) return mixtureRefusal;
  const { refusals, peakDailyNl, bolusNl } = doseRefusals(t);
  // Every limit that refuses anyway comes before one a confirmation would lift, whichever drug:
  // the doses' hard limits, then the mechanism's flow, then the soft limits.
  return (
    refusals.find((r) => r.rule !== 'soft') ?? checkFlow(t, peakDailyNl, bolusNl) ?? refusals[0]
  );
}

/**
 * The soft maxima a therapy passes, as the refusals they would give unconfirmed: what a confirmed
 * command overrides (logged with the accepted programme). The mixture must be known to the library.
 */
export function softLimitsPassed(t: TherapyToCheck): Refusal[] {
  return doseRefusals({ ...t, confirmed: false }).refusals.filter((r) => r.rule === 'soft');
}

/** Every dose limit the therapy passes, per drug in mixture order. */
function doseRefusals(t: TherapyToCheck): {
  refusals: Refusal[];
  peakDailyNl: number;
  bolusNl: number;
} {
  const steps = rateSteps(t.prescription, t.mixture);
  const basalDailyNl = dailyVolumeNl(steps);
  const peakDailyNl = Math.ceil(highestRateNlPerDay(steps));
  const bolusNl = t.ptm
    ? volumeNlForDoseNg(t.ptm.bolusDoseNg, primaryDrug(t.mixture).concentrationUgPerMl)
    : 0;
  const bolusesMax = t.ptm?.bolusesPer24hMax ?? 0;
  const strokeNl = t.strokeVolumeNl ?? 0;
  const checks: [DoseCheck, string][] = [];
  for (const { drug, concentrationUgPerMl: c } of t.mixture) {
    const limits = limitsFor(t.library, drug)!;
    const drugChecks: DoseCheck[] = [
      {
        field: 'prescription.doseNgPerDay',
        what: `${drug} daily dose`,
        doseNg: doseNg(peakDailyNl, c),
        soft: limits.dailyDoseNgSoftMax,
        hard: limits.dailyDoseNgHardMax,
        kind: 'daily',
      },
      // Whole strokes: one stroke of the mixture must itself fit the hard daily maximum.
      {
        field: 'prescription.doseNgPerDay',
        what: `${drug} daily dose plus one stroke`,
        doseNg: doseNg(peakDailyNl + strokeNl, c),
        soft: limits.dailyDoseNgHardMax,
        hard: limits.dailyDoseNgHardMax,
        kind: 'daily',
      },
    ];
    if (t.ptm) {
      drugChecks.push({
        field: 'ptm.bolusDoseNg',
        what: `${drug} patient bolus`,
        doseNg: doseNg(bolusNl, c),
        soft: limits.bolusDoseNgSoftMax,
        hard: limits.bolusDoseNgHardMax,
        kind: 'bolus',
      });
      drugChecks.push({
        field: 'ptm.bolusesPer24hMax',
        what: `${drug} worst-case daily dose (basal + ${bolusesMax} bolus${bolusesMax === 1 ? '' : 'es'})`,
        doseNg: doseNg(basalDailyNl + bolusesMax * bolusNl + strokeNl, c),
        soft: limits.dailyDoseNgSoftMax,
        hard: limits.dailyDoseNgHardMax,
        kind: 'daily',
      });
    }
    for (const check of drugChecks) checks.push([check, drug]);
  }
  const refusals = checks.flatMap(([check, drug]) => {
    const r = checkDose(check, drug, t.confirmed);
    if (r === undefined) return [];
    return check.field === 'ptm.bolusesPer24hMax' && r.rule === 'hard'
      ? [{ ...r, rule: 'worstCase' as const }]
      : [r];
  });
  return { refusals, peakDailyNl, bolusNl };
}

/** A clinician bolus: per drug against the bolus maxima. */
export function checkBolusDose(
  library: DrugLibrary,
  mixture: Mixture,
  volumeNl: number,
  field: string,
  confirmed: boolean,
): Refusal | undefined {
  const refusals: Refusal[] = [];
  for (const { drug, concentrationUgPerMl: c } of mixture) {
    const limits = limitsFor(library, drug);
    if (!limits) return checkMixture(library, mixture);
    const r = checkDose(
      {
        field,
        what: `${drug} clinician bolus`,
        doseNg: doseNg(volumeNl, c),
        soft: limits.bolusDoseNgSoftMax,
        hard: limits.bolusDoseNgHardMax,
        kind: 'bolus',
      },
      drug,
      confirmed,
    );
    if (r) refusals.push(r);
  }
  // A hard limit of any drug first: confirming a soft one would only lead to it.
  return refusals.find((r) => r.rule === 'hard') ?? refusals[0];
}

/**
 * The refusal for a window the forward daily cap found past a hard maximum (REQ-LIM-6): the drug,
 * the dose the window would hold and the limit, exact to the picogram, and when the window ends.
 */
export function capRefusal(excess: CapExcess, nowMs: number, field: string, what: string): Refusal {
  const inMs = excess.windowEndMs - nowMs;
  const when = inMs === 0 ? 'ending now' : `ending in ${formatTimeMs(inMs)}`;
  const value = formatDosePgExact(excess.dosePg, excess.limitPg);
  const limit = `hard maximum daily dose of ${excess.drug}, ${formatDosePgExact(excess.limitPg)}`;
  return {
    rule: 'hard',
    field,
    value,
    limit,
    message: `${field}: ${excess.drug} dose in the 24 h ${when} ${what} would be ${value}, above the ${limit}`,
  };
}

/**
 * Per drug, the highest concentration among `mixtures` (drugs in order of first appearance): what
 * a bolus is judged on while the drug path may still hold an earlier mixture, since the bolus
 * pushes whatever the path holds to the patient first.
 */
export function worstCaseMixture(...mixtures: readonly (Mixture | undefined)[]): Mixture {
  const byDrug = new Map<string, number>();
  for (const m of mixtures)
    for (const { drug, concentrationUgPerMl: c } of m ?? [])
      byDrug.set(drug, Math.max(byDrug.get(drug) ?? 0, c));
  return [...byDrug].map(([drug, concentrationUgPerMl]) => ({ drug, concentrationUgPerMl }));
}

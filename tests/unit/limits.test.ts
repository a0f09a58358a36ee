/**
 * Rates and drug-library limits (src/dosing/rates.ts, src/dosing/limits.ts), for every drug of a
 * mixture: hard limits refuse, soft limits refuse unless confirmed, the worst case (basal + every
 * allowed patient bolus) must stay within each hard daily maximum. Values computed by hand.
 */
import { describe, expect, it } from 'vitest';
import { checkDailyCap, checkTherapy } from '../../src/dosing/limits.js';
import { dailyVolumeNl, rateNlPerDayForDose, rateSteps, stepIndexAt, timeOfDayMs } from '../../src/dosing/rates.js';
import { defaultDrugLibrary } from '../../src/therapy/drugLibrary.js';
import type { Mixture, PtmSettings } from '../../src/therapy/schema.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/units.js';

const phase2: Mixture = [
  { drug: 'morphine', concentrationUgPerMl: 4000 },
  { drug: 'bupivacaine', concentrationUgPerMl: 30_000 },
  { drug: 'clonidine', concentrationUgPerMl: 100 },
];
const ptm: PtmSettings = { bolusDoseNg: 100_000, bolusDurationMs: 10 * MINUTE_MS, lockoutMs: 3 * HOUR_MS, bolusesPer24hMax: 4 };
const base = { library: defaultDrugLibrary, mixture: phase2, ptm, confirmed: false };

describe('rates', () => {
  it('derives the flow from the primary drug, rounding down', () => {
    expect(rateNlPerDayForDose(2_600_000, 4000)).toBe(650_000); // 2.6 mg/day at 4 mg/mL = 0.65 mL/day
    expect(rateNlPerDayForDose(1_000_000, 3000)).toBe(333_333); // never more than prescribed
  });

  it('turns a flex schedule into step rates and a daily volume', () => {
    const steps = rateSteps({ mode: 'flex', steps: [{ startMinute: 0, doseNgPerDay: 1_000_000 }, { startMinute: 12 * 60, doseNgPerDay: 3_000_000 }] }, [{ drug: 'morphine', concentrationUgPerMl: 2000 }]);
    expect(steps.ratesNlPerDay).toEqual([500_000, 1_500_000]);
    expect(dailyVolumeNl(steps)).toBe(1_000_000); // 12 h at 0.5 + 12 h at 1.5 mL/day
    expect(stepIndexAt(steps, 11 * HOUR_MS)).toBe(0);
    expect(stepIndexAt(steps, 12 * HOUR_MS)).toBe(1);
    expect(timeOfDayMs(-HOUR_MS)).toBe(DAY_MS - HOUR_MS);
  });
});

describe('checkTherapy', () => {
  it('accepts the default scenario therapy once its soft bupivacaine worst case is confirmed', () => {
    // Worst case bupivacaine: 0.65 mL/day + 4 × 25 µL = 0.75 mL/day × 30 mg/mL = 22.5 mg > soft 20 mg.
    const r = checkTherapy({ ...base, prescription: { mode: 'continuous', doseNgPerDay: 2_600_000 } });
    expect(r).toMatchObject({ rule: 'soft', field: 'ptm.bolusesPer24hMax', value: '22.500 mg' });
    expect(r?.limit).toContain('20.000 mg');
    expect(checkTherapy({ ...base, prescription: { mode: 'continuous', doseNgPerDay: 2_600_000 }, confirmed: true })).toBeUndefined();
  });

  it('refuses a daily dose over the hard maximum even when confirmed', () => {
    const r = checkTherapy({ ...base, ptm: undefined, confirmed: true, prescription: { mode: 'continuous', doseNgPerDay: 21_000_000 } });
    // 21 mg/day morphine; but bupivacaine at 5.25 mL/day × 30 mg/mL = 157.5 mg is checked after morphine.
    expect(r).toMatchObject({ rule: 'hard', field: 'prescription.doseNgPerDay', value: '21.000 mg' });
    expect(r?.message).toContain('hard maximum daily dose of morphine, 20.000 mg');
  });

  it('checks every drug of the mixture, not only the primary', () => {
    // 4 mg/day morphine is fine, but bupivacaine follows at 1 mL/day × 30 mg/mL = 30 mg: the soft limit.
    const r = checkTherapy({ ...base, ptm: undefined, prescription: { mode: 'continuous', doseNgPerDay: 4_000_000 } });
    expect(r).toMatchObject({ rule: 'soft', value: '30.000 mg' });
    expect(r?.limit).toContain('bupivacaine');
  });

  it('refuses a worst case beyond a hard daily maximum', () => {
    // 2.6 mg/day + 48 boluses of 25 µL: bupivacaine (0.65 + 1.2) mL × 30 mg/mL = 55.5 mg > 30 mg.
    const r = checkTherapy({ ...base, confirmed: true, ptm: { ...ptm, bolusesPer24hMax: 48 }, prescription: { mode: 'continuous', doseNgPerDay: 2_600_000 } });
    expect(r).toMatchObject({ rule: 'worstCase', field: 'ptm.bolusesPer24hMax' });
  });

  it('refuses a bolus with a drug whose bolus maximum is zero (ziconotide)', () => {
    const r = checkTherapy({ ...base, mixture: [{ drug: 'ziconotide', concentrationUgPerMl: 25 }], ptm: { ...ptm, bolusDoseNg: 500 }, prescription: { mode: 'continuous', doseNgPerDay: 2400 } });
    expect(r).toMatchObject({ rule: 'hard', field: 'ptm.bolusDoseNg' });
  });

  it('refuses an unknown drug and an over-concentrated one, naming the mixture entry', () => {
    expect(checkTherapy({ ...base, mixture: [{ drug: 'ketamine', concentrationUgPerMl: 1000 }], prescription: { mode: 'continuous', doseNgPerDay: 1 } })).toMatchObject({ rule: 'unknownDrug', field: 'mixture[0].drug' });
    expect(checkTherapy({ ...base, mixture: [{ drug: 'morphine', concentrationUgPerMl: 30_000 }], prescription: { mode: 'continuous', doseNgPerDay: 1 } })).toMatchObject({ rule: 'concentration', field: 'mixture[0].concentrationUgPerMl', value: '30 mg/mL' });
  });

  it('checks the peak step of a flex schedule against the daily maximum', () => {
    const flex = { mode: 'flex' as const, steps: [{ startMinute: 0, doseNgPerDay: 1_000_000 }, { startMinute: 600, doseNgPerDay: 25_000_000 }] };
    expect(checkTherapy({ ...base, mixture: [{ drug: 'morphine', concentrationUgPerMl: 25_000 }], ptm: undefined, confirmed: true, prescription: flex })).toMatchObject({ rule: 'hard', value: '25.000 mg' });
  });
});

describe('checkDailyCap', () => {
  it('refuses the bolus that would take a drug past its hard daily maximum in 24 h', () => {
    const delivered = new Map([['morphine', 19_950_000_000]]); // 19.95 mg in pg
    const mixture: Mixture = [{ drug: 'morphine', concentrationUgPerMl: 2000 }];
    expect(checkDailyCap(defaultDrugLibrary, delivered, mixture, 25_000)).toBeUndefined(); // +0.05 mg = 20 mg exactly
    expect(checkDailyCap(defaultDrugLibrary, delivered, mixture, 25_001)).toMatchObject({ field: 'dailyDoseCap' });
  });
});

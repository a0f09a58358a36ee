/**
 * Rates and drug-library limits (src/dosing/rates.ts, src/dosing/limits.ts), for every drug of a
 * mixture: hard limits refuse, soft limits refuse unless confirmed, the worst case (basal + every
 * allowed patient bolus) must stay within each hard daily maximum. Every limit is also checked at
 * its exact value (accepted) and just beyond it (refused). Values computed by hand.
 */
import { describe, expect, it } from 'vitest';
import {
  capRefusal,
  checkBolusDose,
  checkTherapy,
  worstCaseMixture,
} from '../../src/dosing/limits.js';
import {
  dailyVolumeNl,
  rateNlPerDayForDose,
  rateSteps,
  stepIndexAt,
  timeOfDayMs,
} from '../../src/dosing/rates.js';
import { defaultDrugLibrary } from '../../src/therapy/drugLibrary.js';
import type { Mixture, PtmSettings } from '../../src/therapy/schema.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/units.js';

const phase2: Mixture = [
  { drug: 'morphine', concentrationUgPerMl: 4000 },
  { drug: 'bupivacaine', concentrationUgPerMl: 30_000 },
  { drug: 'clonidine', concentrationUgPerMl: 100 },
];
const ptm: PtmSettings = {
  bolusDoseNg: 100_000,
  bolusDurationMs: 10 * MINUTE_MS,
  lockoutMs: 3 * HOUR_MS,
  bolusesPer24hMax: 4,
};
const base = { library: defaultDrugLibrary, mixture: phase2, ptm, confirmed: false };

describe('rates', () => {
  it('derives the flow from the primary drug, rounding down', () => {
    expect(rateNlPerDayForDose(2_600_000, 4000)).toBe(650_000); // 2.6 mg/day at 4 mg/mL = 0.65 mL/day
    expect(rateNlPerDayForDose(1_000_000, 3000)).toBe(333_333); // never more than prescribed
  });

  it('turns a flex schedule into step rates and a daily volume', () => {
    const steps = rateSteps(
      {
        mode: 'flex',
        steps: [
          { startMinute: 0, doseNgPerDay: 1_000_000 },
          { startMinute: 12 * 60, doseNgPerDay: 3_000_000 },
        ],
      },
      [{ drug: 'morphine', concentrationUgPerMl: 2000 }],
    );
    expect(steps.ratesNlPerDay).toEqual([500_000, 1_500_000]);
    expect(dailyVolumeNl(steps)).toBe(1_000_000); // 12 h at 0.5 + 12 h at 1.5 mL/day
    expect(stepIndexAt(steps, 11 * HOUR_MS)).toBe(0);
    expect(stepIndexAt(steps, 12 * HOUR_MS)).toBe(1);
    expect(timeOfDayMs(-HOUR_MS)).toBe(DAY_MS - HOUR_MS);
  });
});

describe('checkTherapy', () => {
  it('reports a hard limit of a later drug before a soft limit of an earlier one (issue 14)', () => {
    // 1.2 mL/day of morphine 10 mg/mL + clonidine 1 mg/mL: morphine 12 mg/day is past its soft
    // 10 mg (hard 20 mg); clonidine 1.2 mg/day is past its hard 1 mg. Asking to confirm the
    // morphine would only lead to a refusal of the clonidine.
    const t = {
      library: defaultDrugLibrary,
      mixture: [
        { drug: 'morphine', concentrationUgPerMl: 10_000 },
        { drug: 'clonidine', concentrationUgPerMl: 1_000 },
      ],
      prescription: { mode: 'continuous', doseNgPerDay: 12_000_000 } as const,
      ptm: undefined,
    };
    // Each limit is reached on its own: confirmed, only the hard clonidine limit refuses.
    expect(checkTherapy({ ...t, confirmed: true })).toMatchObject({ rule: 'hard' });
    expect(checkTherapy({ ...t, confirmed: true })?.limit).toContain('clonidine');
    const r = checkTherapy({ ...t, confirmed: false });
    expect(r).toMatchObject({ rule: 'hard', field: 'prescription.doseNgPerDay' });
    expect(r?.limit).toContain('hard maximum daily dose of clonidine');
    expect(r?.message).not.toContain('confirmation');
  });

  it('reports a hard limit of a clinician bolus before a soft one of an earlier drug', () => {
    // 60 µL of morphine 10 mg/mL + clonidine 1.5 mg/mL: morphine 600 µg is past its soft 500 µg
    // (hard 1 mg), clonidine 90 µg past its hard 40 µg.
    const mixture = [
      { drug: 'morphine', concentrationUgPerMl: 10_000 },
      { drug: 'clonidine', concentrationUgPerMl: 1_500 },
    ];
    const r = checkBolusDose(defaultDrugLibrary, mixture, 60_000, 'clinicianBolus.doseNg', false);
    expect(checkBolusDose(defaultDrugLibrary, mixture, 60_000, 'x', true)).toMatchObject({
      rule: 'hard',
    });
    expect(r).toMatchObject({ rule: 'hard' });
    expect(r?.limit).toContain('clonidine');
  });

  it('accepts the default scenario therapy once its soft bupivacaine worst case is confirmed', () => {
    // Worst case bupivacaine: 0.65 mL/day + 4 × 25 µL = 0.75 mL/day × 30 mg/mL = 22.5 mg > soft 20 mg.
    const r = checkTherapy({
      ...base,
      prescription: { mode: 'continuous', doseNgPerDay: 2_600_000 },
    });
    expect(r).toMatchObject({ rule: 'soft', field: 'ptm.bolusesPer24hMax', value: '22.500 mg' });
    expect(r?.limit).toContain('20.000 mg');
    expect(
      checkTherapy({
        ...base,
        prescription: { mode: 'continuous', doseNgPerDay: 2_600_000 },
        confirmed: true,
      }),
    ).toBeUndefined();
  });

  it('refuses a daily dose over the hard maximum even when confirmed', () => {
    const r = checkTherapy({
      ...base,
      ptm: undefined,
      confirmed: true,
      prescription: { mode: 'continuous', doseNgPerDay: 21_000_000 },
    });
    // 21 mg/day morphine; but bupivacaine at 5.25 mL/day × 30 mg/mL = 157.5 mg is checked after morphine.
    expect(r).toMatchObject({
      rule: 'hard',
      field: 'prescription.doseNgPerDay',
      value: '21.000 mg',
    });
    expect(r?.message).toBe(
      'prescription.doseNgPerDay: morphine daily dose 21.000 mg exceeds the hard maximum daily dose of morphine, 20.000 mg',
    );
  });

  it('refuses a daily dose exactly at the hard maximum: the stroke in progress comes on top', () => {
    // 20 mg/day of morphine at 10 mg/mL, plus one 500 nL stroke (5 µg): 20.005 mg.
    const r = checkTherapy({
      ...base,
      mixture: [{ drug: 'morphine', concentrationUgPerMl: 10_000 }],
      ptm: undefined,
      confirmed: true,
      strokeVolumeNl: 500,
      prescription: { mode: 'continuous', doseNgPerDay: 20_000_000 },
    });
    expect(r?.message).toBe(
      'prescription.doseNgPerDay: morphine daily dose plus one stroke 20.005 mg exceeds the hard maximum daily dose of morphine, 20.000 mg',
    );
  });

  it('checks every drug of the mixture, not only the primary', () => {
    // 4 mg/day morphine is fine, but bupivacaine follows at 1 mL/day × 30 mg/mL = 30 mg: the soft limit.
    const r = checkTherapy({
      ...base,
      ptm: undefined,
      prescription: { mode: 'continuous', doseNgPerDay: 4_000_000 },
    });
    expect(r).toMatchObject({ rule: 'soft', value: '30.000 mg' });
    expect(r?.limit).toContain('bupivacaine');
  });

  it('refuses a worst case beyond a hard daily maximum', () => {
    // 2.6 mg/day + 48 boluses of 25 µL: bupivacaine (0.65 + 1.2) mL × 30 mg/mL = 55.5 mg > 30 mg.
    const r = checkTherapy({
      ...base,
      confirmed: true,
      ptm: { ...ptm, bolusesPer24hMax: 48 },
      prescription: { mode: 'continuous', doseNgPerDay: 2_600_000 },
    });
    expect(r).toMatchObject({ rule: 'worstCase', field: 'ptm.bolusesPer24hMax' });
    expect(r?.message).toContain(
      'ptm.bolusesPer24hMax: bupivacaine worst-case daily dose (basal + 48 boluses) ',
    );
  });

  it('says "1 bolus", not "1 boluses", in a worst case of one bolus a day', () => {
    // 3.96 mg/day of morphine at 4 mg/mL is 0.99 mL/day: 29.7 mg of bupivacaine, + one bolus of
    // 25 µL (0.75 mg) = 30.45 mg > 30 mg.
    const r = checkTherapy({
      ...base,
      confirmed: true,
      ptm: { ...ptm, bolusesPer24hMax: 1 },
      prescription: { mode: 'continuous', doseNgPerDay: 3_960_000 },
    });
    // The situation: refused on the worst case, with one bolus a day.
    expect(r).toMatchObject({ rule: 'worstCase', field: 'ptm.bolusesPer24hMax' });
    expect(r?.message).toContain('bupivacaine worst-case daily dose (basal + 1 bolus) ');
  });

  it('refuses a bolus with a drug whose bolus maximum is zero (ziconotide)', () => {
    const r = checkTherapy({
      ...base,
      mixture: [{ drug: 'ziconotide', concentrationUgPerMl: 25 }],
      ptm: { ...ptm, bolusDoseNg: 500 },
      prescription: { mode: 'continuous', doseNgPerDay: 2400 },
    });
    expect(r?.message).toBe(
      'ptm.bolusDoseNg: ziconotide patient bolus 0.5 µg exceeds the hard maximum bolus dose of ziconotide, 0.0 µg',
    );
  });

  it('refuses an unknown drug and an over-concentrated one, naming the mixture entry', () => {
    expect(
      checkTherapy({
        ...base,
        mixture: [{ drug: 'ketamine', concentrationUgPerMl: 1000 }],
        prescription: { mode: 'continuous', doseNgPerDay: 1 },
      }),
    ).toMatchObject({ rule: 'unknownDrug', field: 'mixture[0].drug' });
    expect(
      checkTherapy({
        ...base,
        mixture: [{ drug: 'morphine', concentrationUgPerMl: 30_000 }],
        prescription: { mode: 'continuous', doseNgPerDay: 1 },
      }),
    ).toMatchObject({
      rule: 'concentration',
      message:
        'mixture[0].concentrationUgPerMl: morphine concentration 30 mg/mL exceeds the maximum concentration of morphine, 25 mg/mL',
    });
  });

  it('checks the peak step of a flex schedule against the daily maximum', () => {
    const flex = {
      mode: 'flex' as const,
      steps: [
        { startMinute: 0, doseNgPerDay: 1_000_000 },
        { startMinute: 600, doseNgPerDay: 25_000_000 },
      ],
    };
    expect(
      checkTherapy({
        ...base,
        mixture: [{ drug: 'morphine', concentrationUgPerMl: 25_000 }],
        ptm: undefined,
        confirmed: true,
        prescription: flex,
      }),
    ).toMatchObject({ rule: 'hard', value: '25.000 mg' });
  });
});

describe('limits at their exact values', () => {
  const morphine = (concentrationUgPerMl: number): Mixture => [
    { drug: 'morphine', concentrationUgPerMl },
  ];

  it('the soft limit is confirmed only above it: a bolus exactly at the soft maximum needs no confirmation', () => {
    // 50 µL of 10 mg/mL morphine = 50,000 nL × 10,000 µg/mL = 500,000,000 pg = 0.5 mg: the soft bolus maximum.
    expect(
      checkBolusDose(defaultDrugLibrary, morphine(10_000), 50_000, 'volumeNl', false),
    ).toBeUndefined();
    // 1 nL more is 0.50001 mg: above it, so it needs the confirmation.
    expect(
      checkBolusDose(defaultDrugLibrary, morphine(10_000), 50_001, 'volumeNl', false),
    ).toMatchObject({ rule: 'soft', field: 'volumeNl' });
    expect(
      checkBolusDose(defaultDrugLibrary, morphine(10_000), 50_001, 'volumeNl', true),
    ).toBeUndefined();
  });

  it('a clinician bolus of a drug the library does not know is refused as an unknown drug, naming the entry', () => {
    const mixture: Mixture = [
      { drug: 'morphine', concentrationUgPerMl: 1000 },
      { drug: 'ketamine', concentrationUgPerMl: 1000 },
    ];
    expect(checkBolusDose(defaultDrugLibrary, mixture, 1_000, 'volumeNl', true)).toMatchObject({
      rule: 'unknownDrug',
      field: 'mixture[1].drug',
      value: 'ketamine',
    });
  });

  it("accepts a basal flow of exactly the pump's highest flow, 24 mL/day, and refuses 2 nL/day more", () => {
    // 9.6 mg/day of 0.4 mg/mL morphine = 9,600,000,000 pg / 400 = 24,000,000 nL/day (below the 10 mg soft maximum).
    const t = { ...base, mixture: morphine(400), ptm: undefined };
    expect(
      checkTherapy({ ...t, prescription: { mode: 'continuous', doseNgPerDay: 9_600_000 } }),
    ).toBeUndefined();
    // 1 ng/day more: floor(9,600,001,000 / 400) = 24,000,002 nL/day.
    const r = checkTherapy({ ...t, prescription: { mode: 'continuous', doseNgPerDay: 9_600_001 } });
    expect(r).toMatchObject({
      rule: 'hard',
      field: 'prescription.doseNgPerDay',
      value: '24.000 mL/day',
    });
    expect(r?.message).toContain('basal flow');
  });

  it('accepts a basal plus a patient bolus of exactly 24 mL/day, and refuses a bolus 1 ms shorter', () => {
    // 4.8 mg/day at 0.4 mg/mL = 12 mL/day basal; a 0.2 mg bolus = 0.5 mL, over 1 h = 0.5 × 24 = 12 mL/day.
    // Doses: 0.2 mg bolus (soft 0.5 mg), worst case 12.5 mL × 0.4 mg/mL = 5 mg/day (soft 10 mg).
    const t = {
      ...base,
      mixture: morphine(400),
      prescription: { mode: 'continuous' as const, doseNgPerDay: 4_800_000 },
    };
    const ptm1h: PtmSettings = {
      bolusDoseNg: 200_000,
      bolusDurationMs: HOUR_MS,
      lockoutMs: HOUR_MS,
      bolusesPer24hMax: 1,
    };
    expect(checkTherapy({ ...t, ptm: ptm1h })).toBeUndefined();
    // Over 3,599,999 ms: ceil(500,000 × 86,400,000 / 3,599,999) = 12,000,004 nL/day, 4 nL/day too many.
    expect(checkTherapy({ ...t, ptm: { ...ptm1h, bolusDurationMs: HOUR_MS - 1 } })).toMatchObject({
      rule: 'hard',
      field: 'ptm.bolusDurationMs',
    });
  });

  it('names the flow during a patient bolus as basal plus bolus', () => {
    // 12 mL/day basal + 0.5 mL over 30 min (24 mL/day) = 36 mL/day.
    const r = checkTherapy({
      ...base,
      mixture: morphine(400),
      prescription: { mode: 'continuous', doseNgPerDay: 4_800_000 },
      ptm: {
        bolusDoseNg: 200_000,
        bolusDurationMs: 30 * MINUTE_MS,
        lockoutMs: HOUR_MS,
        bolusesPer24hMax: 1,
      },
    });
    expect(r).toMatchObject({ rule: 'hard', field: 'ptm.bolusDurationMs', value: '36.000 mL/day' });
    expect(r?.message).toContain('flow during a patient bolus');
  });

  it('counts one stroke more in the worst case: a worst case exactly at the hard maximum fails with a stroke on top', () => {
    // 1 mg/mL morphine: 10 mL/day basal (10 mg, confirmed) + 20 boluses of 0.5 mL = 20 mL = 20 mg, the hard maximum.
    // The bolus flow is 0.5 mL/h = 12 mL/day: 22 mL/day in all, within the pump's 24.
    const t = {
      ...base,
      confirmed: true,
      mixture: morphine(1000),
      prescription: { mode: 'continuous' as const, doseNgPerDay: 10_000_000 },
      ptm: {
        bolusDoseNg: 500_000,
        bolusDurationMs: HOUR_MS,
        lockoutMs: HOUR_MS,
        bolusesPer24hMax: 20,
      },
    };
    expect(checkTherapy(t)).toBeUndefined();
    // A 250 nL stroke on top: 20,000,250 nL × 1,000 µg/mL = 20.00025 mg (shown as 20.000), over the hard maximum.
    expect(checkTherapy({ ...t, strokeVolumeNl: 250 })).toMatchObject({
      rule: 'worstCase',
      field: 'ptm.bolusesPer24hMax',
    });
  });
});

describe('worstCaseMixture', () => {
  it('takes per drug the highest concentration of the mixtures the path may hold, and a missing one adds nothing', () => {
    const old: Mixture = [
      { drug: 'morphine', concentrationUgPerMl: 4000 },
      { drug: 'clonidine', concentrationUgPerMl: 100 },
    ];
    const next: Mixture = [
      { drug: 'morphine', concentrationUgPerMl: 2000 },
      { drug: 'bupivacaine', concentrationUgPerMl: 30_000 },
      { drug: 'clonidine', concentrationUgPerMl: 150 },
    ];
    expect(worstCaseMixture(undefined, next)).toEqual(next);
    expect(worstCaseMixture(old, undefined, next)).toEqual([
      { drug: 'morphine', concentrationUgPerMl: 4000 },
      { drug: 'clonidine', concentrationUgPerMl: 150 },
      { drug: 'bupivacaine', concentrationUgPerMl: 30_000 },
    ]);
    expect(worstCaseMixture(undefined)).toEqual([]);
  });
});

describe('the refusal of the forward daily cap (capRefusal)', () => {
  const excess = {
    drug: 'morphine',
    windowEndMs: DAY_MS + 4 * HOUR_MS,
    dosePg: 20_000_000_001,
    limitPg: 20_000_000_000,
    futureStrokes: 3,
  };

  it('says when the window ends, counted from now, and the dose against the limit to the picogram', () => {
    const r = capRefusal(excess, DAY_MS, 'press', 'with this bolus');
    expect(r.rule).toBe('hard');
    // One picogram over 20 mg: the excess shows, which "20.0 mg above 20.0 mg" hid (issue 17).
    expect(r.message).toBe(
      'press: morphine dose in the 24 h ending in 0d 04:00:00 with this bolus would be 20.000000001 mg, above the hard maximum daily dose of morphine, 20 mg',
    );
  });

  it('a window that ends at this very millisecond is "ending now"', () => {
    const r = capRefusal({ ...excess, windowEndMs: DAY_MS }, DAY_MS, 'press', 'with this bolus');
    expect(r.message).toMatch(/^press: morphine dose in the 24 h ending now with this bolus/);
  });
});

/**
 * The bridge bolus and the refill dose-rate check.
 *
 * Method: the 0.26 mL path of tests/dosing/catheter.test.ts holds morphine 2 mg/mL + bupivacaine
 * 12 mg/mL at 0.65 mL/day. The clinician doubles the morphine concentration (4 mg/mL, with
 * bupivacaine 30 mg/mL and clonidine 100 µg/mL added) and halves the rate to 0.325 mL/day, so the
 * morphine dose (1.3 mg/day) is meant to stay the same. The plan is checked against hand
 * arithmetic, and then executed with push() in 6-minute steps to see that the tip really delivers
 * the old dose rate until the new mixture arrives, and the transient the plan predicts without it.
 */
import { describe, expect, it } from 'vitest';
import {
  createDrugPath,
  push,
  type DosesPg,
  type DrugPath,
  type PathMixture,
} from '../../src/dosing/catheter.js';
import {
  doseRateIncreaseFactor,
  drugsNeedingConfirmation,
  planBridge,
} from '../../src/dosing/bridge.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/units.js';

const oldMixture: PathMixture = [
  { drug: 'morphine', concentrationUgPerMl: 2_000 },
  { drug: 'bupivacaine', concentrationUgPerMl: 12_000 },
];
const newMixture: PathMixture = [
  { drug: 'morphine', concentrationUgPerMl: 4_000 },
  { drug: 'bupivacaine', concentrationUgPerMl: 30_000 },
  { drug: 'clonidine', concentrationUgPerMl: 100 },
];
const oldRateNlPerDay = 650_000;
const newRateNlPerDay = 325_000;
const path = createDrugPath({ deadVolumeNl: 260_000, fill: oldMixture, label: 'fill 1' });
const change = { path, oldMixture, oldRateNlPerDay, newMixture, newRateNlPerDay };
const stepMs = 6 * MINUTE_MS;
const pg = (doses: DosesPg, drug: string) => doses.get(drug) ?? 0;
const pushedByNl = (timeMs: number, rate: number) => Math.floor((rate * timeMs) / DAY_MS);

/** One 6-min step at a rate from `fromMs`; returns the step's volume and its tip output. */
function step(current: DrugPath, fromMs: number, rate: number) {
  const volumeNl = pushedByNl(fromMs + stepMs, rate) - pushedByNl(fromMs, rate);
  return { volumeNl, ...push(current, volumeNl, newMixture, 'fill 2') };
}

describe('planBridge()', () => {
  const plan = planBridge(change);

  it('keeps the old rate for the path volume: 0.26 mL at 0.65 mL/day = 0.4 day', () => {
    expect(plan.primaryDrug).toBe('morphine');
    expect(plan.bridgeVolumeNl).toBe(260_000);
    expect(plan.bridgeRateNlPerDay).toBe(650_000);
    expect(plan.bridgeDurationMs).toBe(9 * HOUR_MS + 36 * MINUTE_MS);
    expect(plan.newMixtureAtTipAfterMs).toBe(plan.bridgeDurationMs);
    // Without it, 0.26 mL at 0.325 mL/day = 0.8 day.
    expect(plan.newMixtureAtTipWithoutBridgeAfterMs).toBe(19 * HOUR_MS + 12 * MINUTE_MS);
    expect(plan.pathHoldsOnlyOldMixture).toBe(true);
  });

  it('reports the transient without a bridge: the old mixture at the new rate, against the new prescription', () => {
    const t = plan.transientWithoutBridge;
    // Delivered: the path content. Intended: the same 260 000 nL of the new mixture.
    expect(t.get('morphine')).toEqual({
      deliveredPg: 260_000 * 2_000,
      intendedPg: 260_000 * 4_000,
    }); // half: an underdose
    expect(t.get('bupivacaine')).toEqual({
      deliveredPg: 260_000 * 12_000,
      intendedPg: 260_000 * 30_000,
    });
    expect(t.get('clonidine')).toEqual({ deliveredPg: 0, intendedPg: 260_000 * 100 });
  });

  it('delivers the old primary dose rate exactly until the new mixture reaches the tip, then the new one', () => {
    let current = path;
    let morphinePg = 0;
    for (let t = 0; t < plan.bridgeDurationMs; t += stepMs) {
      const s = step(current, t, plan.bridgeRateNlPerDay);
      current = s.path;
      morphinePg += pg(s.leftPg, 'morphine');
      // Old mixture only, at the old flow: morphine at 2 mg/mL × 0.65 mL/day = 1.3 mg/day.
      expect(pg(s.leftPg, 'morphine')).toBe(s.volumeNl * 2_000);
      expect(pg(s.leftPg, 'clonidine')).toBe(0);
    }
    // 0.4 day × 1.3 mg/day = 0.52 mg, and the path now holds only the new mixture.
    expect(morphinePg).toBe(520_000_000);
    expect(current.segments).toEqual([{ volumeNl: 260_000, mixture: newMixture, label: 'fill 2' }]);
    // From here the new rate delivers the new mixture: 4 mg/mL × 0.325 mL/day = 1.3 mg/day again.
    for (let t = 0; t < 2 * HOUR_MS; t += stepMs) {
      const s = step(current, t, newRateNlPerDay);
      current = s.path;
      expect(pg(s.leftPg, 'morphine')).toBe(s.volumeNl * 4_000);
      expect(pg(s.leftPg, 'clonidine')).toBe(s.volumeNl * 100);
    }
  });

  it('matches push() when the new rate starts at once instead: half the morphine dose for 0.8 day', () => {
    let current = path;
    const left = new Map<string, number>();
    for (let t = 0; t < plan.newMixtureAtTipWithoutBridgeAfterMs; t += stepMs) {
      const s = step(current, t, newRateNlPerDay);
      current = s.path;
      for (const [drug, p] of s.leftPg) left.set(drug, pg(left, drug) + p);
    }
    for (const [drug, { deliveredPg }] of plan.transientWithoutBridge)
      expect(pg(left, drug)).toBe(deliveredPg);
    // Over 0.8 day the new prescription means 1.3 mg/day × 0.8 = 1.04 mg of morphine.
    expect(plan.transientWithoutBridge.get('morphine')!.intendedPg).toBe(1_040_000_000);
  });

  it('refuses a zero rate and a primary drug not in the old mixture, naming the field', () => {
    expect(() => planBridge({ ...change, oldRateNlPerDay: 0 })).toThrow(
      'oldRateNlPerDay = 0: must be an integer from 1 to 24000000',
    );
    expect(() => planBridge({ ...change, primaryDrug: 'clonidine' })).toThrow(
      /primaryDrug = "clonidine": must be a drug of the old mixture \(morphine, bupivacaine\)/,
    );
  });

  it('says when the path holds something besides the old mixture', () => {
    const mixed = push(path, 1_000, newMixture).path;
    const mixedPlan = planBridge({ ...change, path: mixed });
    expect(mixedPlan.pathHoldsOnlyOldMixture).toBe(false);
    expect(mixedPlan.transientWithoutBridge.get('clonidine')!.deliveredPg).toBe(1_000 * 100);
  });
});

describe('doseRateIncreaseFactor()', () => {
  const changes = doseRateIncreaseFactor(oldMixture, oldRateNlPerDay, newMixture, newRateNlPerDay);

  it('gives each drug its dose rate before and after, and the factor in ppm (null for a new drug)', () => {
    expect(changes).toEqual([
      // 0.65 mL/day × 2 mg/mL = 1.3 mg/day; 0.325 × 4 = 1.3 mg/day: factor 1.
      {
        drug: 'morphine',
        oldDoseRatePgPerDay: 1_300_000_000,
        newDoseRatePgPerDay: 1_300_000_000,
        increaseFactorPpm: 1_000_000,
      },
      // 0.65 × 12 = 7.8 mg/day; 0.325 × 30 = 9.75 mg/day: factor 1.25.
      {
        drug: 'bupivacaine',
        oldDoseRatePgPerDay: 7_800_000_000,
        newDoseRatePgPerDay: 9_750_000_000,
        increaseFactorPpm: 1_250_000,
      },
      {
        drug: 'clonidine',
        oldDoseRatePgPerDay: 0,
        newDoseRatePgPerDay: 32_500_000,
        increaseFactorPpm: null,
      },
    ]);
  });

  it('asks for confirmation above the factor (exactly at it passes) and always for a new drug', () => {
    expect(drugsNeedingConfirmation(changes, 1_200_000)).toEqual(['bupivacaine', 'clonidine']);
    expect(drugsNeedingConfirmation(changes, 1_250_000)).toEqual(['clonidine']);
    expect(() => drugsNeedingConfirmation(changes, 999_999)).toThrow(
      /increaseFactorPpmLimit = 999999/,
    );
  });

  it('rounds the factor up, so a threshold is never passed by rounding', () => {
    // 3 → 10 µg/mL at the same rate: 3.333… rounds up to 3 333 334 ppm.
    const [change] = doseRateIncreaseFactor(
      [{ drug: 'morphine', concentrationUgPerMl: 3 }],
      1_000,
      [{ drug: 'morphine', concentrationUgPerMl: 10 }],
      1_000,
    );
    expect(change!.increaseFactorPpm).toBe(3_333_334);
  });
});

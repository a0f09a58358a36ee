/**
 * Flow rates from doses and doses from volumes (src/dosing/rates.ts): the per-drug doses of a
 * volume of a mixture, and the preconditions the rate functions assert (our bugs, not the world's:
 * the schema refuses an empty mixture or a zero concentration long before). Values computed by hand.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssertionFailure } from '../../src/assert.js';
import { dosesPg, primaryDrug, rateNlPerDayForDose } from '../../src/dosing/rates.js';
import type { Mixture } from '../../src/therapy/schema.js';
import { PG_PER_NG } from '../../src/units.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 200);

const phase2: Mixture = [
  { drug: 'morphine', concentrationUgPerMl: 4000 },
  { drug: 'bupivacaine', concentrationUgPerMl: 30_000 },
  { drug: 'clonidine', concentrationUgPerMl: 100 },
];

describe('dosesPg', () => {
  it('gives every drug of the mixture its own dose of the same volume, in mixture order', () => {
    // 25 µL = 25,000 nL; nL × µg/mL = pg: morphine 25,000 × 4,000 = 100,000,000 pg = 0.1 mg,
    // bupivacaine 25,000 × 30,000 = 750,000,000 pg = 0.75 mg, clonidine 25,000 × 100 = 2,500,000 pg = 2.5 µg.
    const doses = dosesPg(phase2, 25_000);
    expect([...doses]).toEqual([
      ['morphine', 100_000_000],
      ['bupivacaine', 750_000_000],
      ['clonidine', 2_500_000],
    ]);
  });

  it('is exact and linear in the volume: the doses of two volumes add up to the dose of their sum', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40_000_000 }),
        fc.integer({ min: 0, max: 40_000_000 }),
        (a, b) => {
          const [da, db, dab] = [dosesPg(phase2, a), dosesPg(phase2, b), dosesPg(phase2, a + b)];
          for (const { drug, concentrationUgPerMl } of phase2) {
            expect(da.get(drug)! + db.get(drug)!).toBe(dab.get(drug));
            expect(dab.get(drug)).toBe((a + b) * concentrationUgPerMl);
          }
        },
      ),
      { seed, numRuns },
    );
  });
});

describe('rateNlPerDayForDose rounds down (the pump never gives more than prescribed)', () => {
  it('drops the fraction of a nanolitre a day, even a half or more', () => {
    // Hydromorphone 3 mg/mL at 2 mg/day: 2,000,000 ng × 1,000 pg/ng = 2,000,000,000 pg/day;
    // at 3,000 pg/nL that is 666,666.67 nL/day → 666,666 (rounding to nearest would give 666,667).
    expect(rateNlPerDayForDose(2_000_000, 3_000)).toBe(666_666);
    // Morphine 2 mg/mL at 1,000,001 ng/day: 1,000,001,000 pg ÷ 2,000 pg/nL = 500,000.5 nL/day
    // → 500,000 (an exact half: rounding would give 500,001).
    expect(rateNlPerDayForDose(1_000_001, 2_000)).toBe(500_000);
    // 1 ng/day at 2 mg/mL: 1,000 pg ÷ 2,000 pg/nL = 0.5 nL/day → 0, no flow at all (rounding: 1).
    expect(rateNlPerDayForDose(1, 2_000)).toBe(0);
  });
});

describe('preconditions', () => {
  it('the primary drug is the first of the mixture; an empty mixture is our bug: primaryDrug asserts', () => {
    expect(primaryDrug(phase2)).toEqual({ drug: 'morphine', concentrationUgPerMl: 4000 });
    expect(() => primaryDrug([] as unknown as Mixture)).toThrow(
      new AssertionFailure('a mixture has at least one drug'),
    );
  });

  it('a rate for a zero or negative concentration is our bug: rateNlPerDayForDose asserts', () => {
    // At 1 µg/mL, 1 ng/day needs 1,000 pg / 1 pg per nL = 1,000 nL/day: the smallest concentration works.
    expect(rateNlPerDayForDose(1, 1)).toBe(PG_PER_NG);
    expect(() => rateNlPerDayForDose(1_000_000, 0)).toThrow(
      new AssertionFailure('concentration must be positive'),
    );
    expect(() => rateNlPerDayForDose(1_000_000, -4000)).toThrow(AssertionFailure);
  });
});

/**
 * Contexts built by hand for the unit tests of the controller's pure decisions
 * (tests/unit/decide.test.ts, tests/unit/clinicianBolus.test.ts): a default pump infusing morphine,
 * with any field overridden. Figures are chosen so the tests can work their expectations by hand.
 */
import { initialContext } from '../../src/controller.js';
import { rateSteps } from '../../src/dosing/rates.js';
import type { PumpContext } from '../../src/pump/types.js';
import { defaultDrugLibrary } from '../../src/therapy/drugLibrary.js';
import type { Mixture, Prescription, PtmSettings } from '../../src/therapy/schema.js';
import { HOUR_MS, MINUTE_MS } from '../../src/units.js';
import { defaultPumpConfig } from '../../testing/harness.js';

/** Morphine 10 mg/mL: 10 ng (10,000 pg) in a nanolitre. Library maxima: bolus 1 mg hard, daily 20 mg hard. */
export const morphine: Mixture = [{ drug: 'morphine', concentrationUgPerMl: 10_000 }];
/** 5 mg/day: 500,000 nL/day. */
export const prescription: Prescription = { mode: 'continuous', doseNgPerDay: 5_000_000 };
/** 0.5 mg (50,000 nL) over 10 min, an hour's lockout, four a day. */
export const ptm: PtmSettings = {
  bolusDoseNg: 500_000,
  bolusDurationMs: 10 * MINUTE_MS,
  lockoutMs: HOUR_MS,
  bolusesPer24hMax: 4,
};

/** The default pump infusing morphine at 0.5 mL/day with 18 mL in the reservoir, settled at `nowMs`. */
export function infusing(nowMs = 0, over: Partial<PumpContext> = {}): PumpContext {
  return {
    ...initialContext(defaultPumpConfig, defaultDrugLibrary, nowMs),
    mixture: morphine,
    prescription,
    steps: rateSteps(prescription, morphine),
    ptm,
    ptmBolusNl: 50_000,
    mode: 'basal',
    reservoirNl: 18_000_000,
    ...over,
  };
}

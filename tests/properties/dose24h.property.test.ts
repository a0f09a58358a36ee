/**
 * INV-3 (REQ-LIM-5, REQ-LIM-6): for every drug, the dose that left the pump in any rolling 24 hours
 * stays within the programmed worst case and within the library's hard daily maximum.
 *
 * Method: model-based timelines weighted towards what pushes a day's dose up: clinician boluses
 * (within soft, between soft and hard with confirmation, above hard), bursts of presses,
 * reprogramming near the limits with confirmation, refills with new mixtures and clock changes.
 * The dose is computed from the simulated motor's strokes (batch start + lead + (j − 1) × interval)
 * and the mixture in the reservoir at each batch, in every 24-hour window ending where the dose can
 * peak (first and last strokes of each batch, and just before they leave the window).
 * Seed and run count come from FC_SEED and FC_NUM_RUNS.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { qaScenarioArb, replayOptions, runQa } from '../../testing/index.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 25 * Number(process.env.FC_RUNS_FACTOR ?? 1));
const file = 'tests/properties/dose24h.property.test.ts';

describe('INV-3 dose in any rolling 24 hours', () => {
  it(`stays within the programmed worst case and the hard daily maximum (seed ${seed}, ${numRuns} runs)`, () => {
    const weights = {
      press: 2,
      pressBurst: 3,
      wait: 5,
      reprogram: 3,
      clinicianBolus: 4,
      refill: 2,
      setClock: 2,
      invalidReprogram: 0,
      invalidRefill: 0,
      stopResumeClear: 1,
    };
    fc.assert(
      fc.property(qaScenarioArb({ weights }), ({ setup, commands }) => {
        runQa(setup, commands);
      }),
      { seed, numRuns, ...replayOptions(file) },
    );
  });
});

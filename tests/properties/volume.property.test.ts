/**
 * INV-4 (REQ-DOS-1, REQ-DOS-2): with an ideal motor the volume that left the pump stays within one
 * stroke of the programmed cumulative volume, at every controller step and at arbitrary moments
 * between; and a steady basal delivers what its schedule says, within two strokes.
 *
 * Method: model-based timelines weighted towards waits of every length, reprogramming (continuous
 * and flex schedules), clock changes (a flex schedule follows the clock) and stops. "Programmed" is
 * the controller's own accounting (delivered strokes × stroke + (owed + missed) / FINE_PER_NL,
 * settled to the moment); "delivered" is counted from the simulated motor's strokes. The steady
 * basal is checked independently from the prescription, walking its steps from the clock reading.
 * Seed and run count come from FC_SEED and FC_NUM_RUNS.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { qaScenarioArb, replayOptions, runQa } from '../../testing/index.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 25 * Number(process.env.FC_RUNS_FACTOR ?? 1));
const file = 'tests/properties/volume.property.test.ts';

describe('INV-4 delivered against programmed volume', () => {
  it(`stays within one stroke with an ideal motor, and a steady basal matches its schedule (seed ${seed}, ${numRuns} runs)`, () => {
    const weights = {
      press: 2,
      pressBurst: 1,
      wait: 8,
      reprogram: 3,
      setClock: 3,
      stopResumeClear: 2,
      clinicianBolus: 1,
      refill: 1,
      invalidReprogram: 0,
      invalidRefill: 0,
    };
    fc.assert(
      fc.property(qaScenarioArb({ weights }), ({ setup, commands }) => {
        runQa(setup, commands);
      }),
      { seed, numRuns, ...replayOptions(file) },
    );
  });
});

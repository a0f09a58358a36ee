/**
 * INV-7 (REQ-PTM-5): every denied press has exactly one reason, the first that holds in the
 * declared order of precedence, and that reason is true at that moment; a granted press has none.
 *
 * Method: model-based timelines weighted towards presses in every state the other commands lead
 * to (stopped, no PTM, empty reservoir, critical alarm, lockout, 24-hour count, daily cap). Before
 * each press the facts behind every reason are established from outside the controller (the
 * therapy state, the reference model's lockout and grants, the dose that left the pump in the last
 * 24 hours); after it the log must hold exactly one outcome, and a denial's reason must be the
 * first fact that holds.
 * Seed and run count come from FC_SEED and FC_NUM_RUNS.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { qaScenarioArb, replayOptions, runQa } from '../../testing/index.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 25 * Number(process.env.FC_RUNS_FACTOR ?? 1));
const file = 'tests/properties/denial.property.test.ts';

describe('INV-7 denied presses', () => {
  it(`have exactly one reason, true at that moment (seed ${seed}, ${numRuns} runs)`, () => {
    const weights = {
      press: 6,
      pressBurst: 4,
      wait: 4,
      stopResumeClear: 3,
      refill: 2,
      clinicianBolus: 2,
      reprogram: 2,
      setClock: 1,
      stall: 1,
      invalidReprogram: 0,
      invalidRefill: 0,
    };
    fc.assert(
      fc.property(qaScenarioArb({ stalls: true, weights }), ({ setup, commands }) => {
        runQa(setup, commands);
      }),
      { seed, numRuns, ...replayOptions(file) },
    );
  });
});

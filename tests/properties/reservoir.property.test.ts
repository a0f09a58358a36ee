/**
 * INV-5 (REQ-RES-1, REQ-ALM-2, REQ-ALM-3): the reservoir estimate is never negative; the
 * low-reservoir alarm comes before the empty one; while a critical alarm is active nothing above
 * the safe minimum rate is delivered (one stroke allowed for the stroke in progress).
 *
 * Method: model-based timelines on small fills and refills, long waits that run the reservoir
 * down, motor stalls that raise the critical stall alarm, clear-alarm commands; checked at every
 * controller step and at the end of every wait.
 * Seed and run count come from FC_SEED and FC_NUM_RUNS.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { qaScenarioArb, replayOptions, runQa } from '../../testing/index.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 25 * Number(process.env.FC_RUNS_FACTOR ?? 1));
const file = 'tests/properties/reservoir.property.test.ts';

describe('INV-5 reservoir and critical alarms', () => {
  it(`keeps the estimate non-negative, low before empty, and the safe minimum rate under critical alarms (seed ${seed}, ${numRuns} runs)`, () => {
    const weights = {
      wait: 6,
      refill: 3,
      stall: 2,
      stopResumeClear: 3,
      press: 2,
      pressBurst: 1,
      clinicianBolus: 1,
      reprogram: 1,
      setClock: 1,
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

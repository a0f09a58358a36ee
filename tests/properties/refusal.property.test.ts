/**
 * INV-6 (REQ-CMD-1): a refused command changes nothing but the log record of the refusal, and the
 * record names the field, the value and the limit.
 *
 * Method: model-based timelines weighted towards commands the pump must refuse in some state:
 * prescriptions and PTM settings invalid in each way the schema refuses, therapies above the hard
 * maxima or between soft and hard without confirmation, invalid refills (mixtures and volumes),
 * clinician boluses out of state or over the limits, stop when stopped, resume when running, a
 * clock set before 1970. Before each command the context is snapshotted; after a refusal every
 * field must be unchanged except nowMs, settledAtMs and owedFine (settling advances them on every
 * event, refused or not), and the RTC, the tones and the motor must be untouched.
 * Seed and run count come from FC_SEED and FC_NUM_RUNS.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { qaScenarioArb, replayOptions, runQa } from '../../testing/index.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 25 * Number(process.env.FC_RUNS_FACTOR ?? 1));
const file = 'tests/properties/refusal.property.test.ts';

describe('INV-6 refused commands', () => {
  it(`change nothing but the log (seed ${seed}, ${numRuns} runs)`, () => {
    const weights = {
      invalidReprogram: 4,
      invalidRefill: 4,
      reprogram: 3,
      clinicianBolus: 3,
      stopResumeClear: 4,
      setClock: 2,
      wait: 3,
      press: 1,
      pressBurst: 0,
      refill: 1,
    };
    fc.assert(
      fc.property(qaScenarioArb({ stalls: true, weights }), ({ setup, commands }) => {
        runQa(setup, commands);
      }),
      { seed, numRuns, ...replayOptions(file) },
    );
  });
});

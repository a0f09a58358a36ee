/**
 * Model-based test of the whole pump: random clinical timelines (presses, waits, reprogramming
 * valid and invalid, clinician boluses, refills, stop, resume, clear alarms, clock changes, motor
 * stalls, power loss and restart) played on the real controller in virtual time, judged after every command and every
 * controller step against the reference model: INV-1..7 of docs/requirements.md plus the drug
 * library oracle (REQ-LIM) and the steady-basal volume (REQ-DOS-2).
 * Seed and run count come from FC_SEED and FC_NUM_RUNS; a failure prints the replay command.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { qaScenarioArb, replayOptions, runQa } from '../../testing/index.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 40 * Number(process.env.FC_RUNS_FACTOR ?? 1));
const file = 'tests/model/pump.model.test.ts';

describe('the real controller against the reference model', () => {
  it(`keeps INV-1..7 over random clinical timelines with an ideal motor (seed ${seed}, ${numRuns} runs)`, () => {
    fc.assert(
      fc.property(qaScenarioArb({ stalls: false }), ({ setup, commands }) => {
        runQa(setup, commands);
      }),
      { seed, numRuns, ...replayOptions(file) },
    );
  });

  it(`keeps INV-1..7 across power loss and restart (seed ${seed}, ${numRuns} runs)`, () => {
    fc.assert(
      fc.property(
        qaScenarioArb({ restarts: true, weights: { powerCycle: 2 } }),
        ({ setup, commands }) => {
          runQa(setup, commands);
        },
      ),
      { seed, numRuns, ...replayOptions(file) },
    );
  });

  it(`keeps INV-1..7 when the motor stalls and recovers (seed ${seed}, ${numRuns} runs)`, () => {
    fc.assert(
      fc.property(qaScenarioArb({ stalls: true }), ({ setup, commands }) => {
        runQa(setup, commands);
      }),
      { seed, numRuns, ...replayOptions(file) },
    );
  });
});

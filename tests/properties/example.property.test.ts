/**
 * The worked examples of docs/testing.md ("Writing a new property"): two properties a QA engineer
 * writes with the QA kit in a few lines. Outside this repository the import is 'itpump/testing'.
 * Seed and run count come from FC_SEED and FC_NUM_RUNS.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MINUTE_MS } from '../../src/units.js';
import { qaScenarioArb, qaSetupArb, replayOptions, runQa, startRun } from '../../testing/index.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 25 * Number(process.env.FC_RUNS_FACTOR ?? 1));
const file = 'tests/properties/example.property.test.ts';

describe('docs/testing.md worked examples', () => {
  // Example 1: a new invariant checked at every controller step of every random timeline.
  it(`the reservoir estimate only rises at a refill (seed ${seed}, ${numRuns} runs)`, () => {
    fc.assert(
      fc.property(qaScenarioArb(), ({ setup, commands }) => {
        let last = 0;
        runQa(setup, commands, {
          onStep: (rig) => {
            const now = rig.controller.context.reservoirNl;
            if (now > last) expect(rig.records('refill').at(-1)?.atMs).toBe(rig.nowMs);
            last = now;
          },
        });
      }),
      { seed, numRuns, ...replayOptions(file) },
    );
  });

  // Example 2: a scenario property on the harness directly (REQ-PTM-3).
  it(`no patient bolus is granted within the lockout after a clinician bolus (seed ${seed}, ${numRuns} runs)`, () => {
    fc.assert(
      fc.property(qaSetupArb(), fc.integer({ min: 0, max: 999 }), (setup, permille) => {
        const { model, run } = startRun(setup);
        fc.pre(model.ptm !== undefined);
        const bolus = run.rig.command({
          type: 'cmd.clinicianBolus',
          doseNg: model.ptm.bolusDoseNg,
          durationMs: MINUTE_MS,
          confirm: true,
        });
        fc.pre(bolus.records.some((r) => r.type === 'bolusStarted'));
        run.rig.advance(Math.floor((model.ptm.lockoutMs * permille) / 1000));
        expect(run.rig.press().records.some((r) => r.type === 'pressGranted')).toBe(false);
      }),
      { seed, numRuns, ...replayOptions(file) },
    );
  });
});

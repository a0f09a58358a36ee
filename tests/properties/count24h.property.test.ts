/**
 * INV-2 (REQ-PTM-4): no more patient boluses in any rolling 24 hours than programmed.
 *
 * Method: (1) model-based timelines of bursts of presses and short waits, so the sliding count is
 * reached again and again, judged at every grant by the reference model; (2) a direct property:
 * a patient pressing at every lockout's end for two days gets exactly the programmed number in
 * the first 24 hours and never more in any 24 hours (every window ending at a grant is checked).
 * Seed and run count come from FC_SEED and FC_NUM_RUNS.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_MS, MINUTE_MS, NL_PER_ML } from '../../src/units.js';
import { PumpRig, qaScenarioArb, replayOptions, runQa } from '../../testing/index.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 25 * Number(process.env.FC_RUNS_FACTOR ?? 1));
const file = 'tests/properties/count24h.property.test.ts';

describe('INV-2 boluses in any rolling 24 hours', () => {
  it(`holds over timelines of bursts of presses (seed ${seed}, ${numRuns} runs)`, () => {
    const weights = {
      press: 3,
      pressBurst: 6,
      wait: 4,
      setClock: 1,
      reprogram: 1,
      invalidReprogram: 0,
      clinicianBolus: 1,
      refill: 1,
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

  it(`grants exactly the programmed number in a day to a patient pressing at every lockout's end (seed ${seed}, ${numRuns} runs)`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 10, max: 120 }),
        (perDay, lockoutMin) => {
          const rig = new PumpRig();
          rig.command({
            type: 'cmd.refill',
            withdrawnNl: 0,
            addedNl: 20 * NL_PER_ML,
            mixture: [{ drug: 'morphine', concentrationUgPerMl: 25_000 }],
          });
          rig.command({
            type: 'cmd.program',
            prescription: { mode: 'continuous', doseNgPerDay: 500_000 },
            ptm: {
              bolusDoseNg: 50_000,
              bolusDurationMs: 5 * MINUTE_MS,
              lockoutMs: lockoutMin * MINUTE_MS,
              bolusesPer24hMax: perDay,
            },
          });
          rig.command({ type: 'cmd.resume' });
          const grants: number[] = [];
          while (rig.nowMs < 2 * DAY_MS) {
            if (rig.press().records.some((r) => r.type === 'pressGranted')) grants.push(rig.nowMs);
            rig.advance(lockoutMin * MINUTE_MS);
          }
          expect(grants.filter((t) => t < DAY_MS)).toHaveLength(
            Math.min(perDay, Math.ceil(DAY_MS / (lockoutMin * MINUTE_MS))),
          );
          for (const g of grants)
            expect(grants.filter((t) => t > g - DAY_MS && t <= g).length).toBeLessThanOrEqual(
              perDay,
            );
        },
      ),
      { seed, numRuns, ...replayOptions(file) },
    );
  });
});

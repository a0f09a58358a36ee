/**
 * Properties of the bridge plan over random drug changes, executed with push().
 *
 * Method: fast-check draws a path full of an old mixture, a new mixture, two rates and a way of
 * cutting the bridge volume into pushes (motor batches). Pushing the bridge volume of new mixture
 * must deliver the old mixture only, exactly the path's content (so the old flow gives each drug
 * its old dose rate); the next nL out is the new mixture. At the old rate the bridge duration
 * pushes exactly the bridge volume (whole nL); a millisecond less falls short. The no-bridge
 * transient delivers the same content, and its intended dose is the new mixture's over that volume.
 * Seed and run count come from FC_SEED and FC_NUM_RUNS.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  concentrationOf,
  createDrugPath,
  push,
  sameMixture,
  type PathMixture,
} from '../../src/dosing/catheter.js';
import { planBridge } from '../../src/dosing/bridge.js';
import { DAY_MS } from '../../src/units.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 200 * Number(process.env.FC_RUNS_FACTOR ?? 1));

const mixtureArb: fc.Arbitrary<PathMixture> = fc.uniqueArray(
  fc.record({
    drug: fc.constantFrom('morphine', 'hydromorphone', 'bupivacaine', 'clonidine', 'ziconotide'),
    concentrationUgPerMl: fc.integer({ min: 1, max: 50_000 }),
  }),
  { selector: (d) => d.drug, minLength: 1, maxLength: 4 },
);

describe('bridge plan over random drug changes', () => {
  it('delivers the old mixture, exactly the path content, for the bridge volume and the new one after', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400_000 }),
        mixtureArb,
        mixtureArb,
        fc.integer({ min: 1_000, max: 24_000_000 }),
        fc.integer({ min: 1_000, max: 24_000_000 }),
        fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 10 }),
        (deadVolumeNl, oldMixture, newMixture, oldRateNlPerDay, newRateNlPerDay, cuts) => {
          fc.pre(!sameMixture(oldMixture, newMixture));
          const path = createDrugPath({ deadVolumeNl, fill: oldMixture, label: 'old' });
          const plan = planBridge({
            path,
            oldMixture,
            oldRateNlPerDay,
            newMixture,
            newRateNlPerDay,
          });
          expect(plan.bridgeVolumeNl).toBe(deadVolumeNl);
          // The bridge duration at the old rate pushes exactly the bridge volume; 1 ms less falls short.
          expect(Math.floor((oldRateNlPerDay * plan.bridgeDurationMs) / DAY_MS)).toBe(
            plan.bridgeVolumeNl,
          );
          expect(oldRateNlPerDay * (plan.bridgeDurationMs - 1)).toBeLessThan(
            plan.bridgeVolumeNl * DAY_MS,
          );
          // Cut the bridge volume into batches in proportion to `cuts`.
          const total = cuts.reduce((a, b) => a + b, 0);
          let current = path;
          let pushedNl = 0;
          let cumulative = 0;
          const delivered = new Map<string, number>();
          for (const cut of cuts) {
            cumulative += cut;
            const volumeNl = Math.floor((plan.bridgeVolumeNl * cumulative) / total) - pushedNl;
            pushedNl += volumeNl;
            const result = push(current, volumeNl, newMixture, 'new');
            current = result.path;
            for (const out of result.leftTip)
              expect(sameMixture(out.mixture, oldMixture)).toBe(true);
            for (const [d, pg] of result.leftPg) delivered.set(d, (delivered.get(d) ?? 0) + pg);
          }
          expect(pushedNl).toBe(plan.bridgeVolumeNl);
          for (const [drug, { deliveredPg, intendedPg }] of plan.transientWithoutBridge) {
            expect(delivered.get(drug) ?? 0).toBe(deliveredPg);
            expect(deliveredPg).toBe(deadVolumeNl * concentrationOf(oldMixture, drug));
            expect(intendedPg).toBe(deadVolumeNl * concentrationOf(newMixture, drug));
          }
          const next = push(current, 1, newMixture, 'new');
          expect(next.leftTip.map((o) => o.mixture)).toEqual([newMixture]);
        },
      ),
      { seed, numRuns },
    );
  });
});

/**
 * Properties of the priming mixing model over random paths, zones and push sequences.
 *
 * Method: fast-check draws a saline-filled path, a drug mixture, a zone size and an even segment
 * count, starts a prime and pushes random volumes. Checked exactly, per drug, after every push:
 * drug in the path + drug in the inlet + drug that left the tip = reservoir fluid of the volume
 * pushed plus the inlet still to enter (so, once the inlet has entered, the prime conserved mass to
 * the picogram). Also: a zone between any two fluids holds exactly half of each, and its
 * segments' drug per nL never decreases from front to back when the drug behind is stronger.
 * Seed and run count come from FC_SEED and FC_NUM_RUNS.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createDrugPath,
  inletContentPg,
  inletVolumeNl,
  pathContentPg,
  push,
  segmentDosesPg,
  type PathMixture,
} from '../../src/dosing/catheter.js';
import { mixingZoneSegments, mixingZoneVolumeNl, startPriming } from '../../src/dosing/priming.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 200 * Number(process.env.FC_RUNS_FACTOR ?? 1));

const mixtureArb = (minLength: number): fc.Arbitrary<PathMixture> =>
  fc.uniqueArray(
    fc.record({
      drug: fc.constantFrom('morphine', 'bupivacaine', 'clonidine', 'ziconotide'),
      concentrationUgPerMl: fc.integer({ min: 1, max: 100_000 }),
    }),
    {
      selector: (d) => d.drug,
      minLength,
      maxLength: 4,
    },
  );

describe('priming over random inputs', () => {
  it('conserves every drug exactly through the prime and after it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 400_000 }),
        mixtureArb(1),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 8 }).map((n) => 2 * n),
        fc.array(fc.integer({ min: 0, max: 200_000 }), { maxLength: 30 }),
        (deadVolumeNl, drug, mixingZoneVolumePpm, mixingZoneSegmentCount, volumes) => {
          const zoneNl = mixingZoneVolumeNl(deadVolumeNl, mixingZoneVolumePpm);
          fc.pre(zoneNl === 0 || zoneNl >= mixingZoneSegmentCount);
          const start = startPriming(
            createDrugPath({ deadVolumeNl, fill: [], label: 'saline' }),
            drug,
            { mixingZoneVolumePpm, mixingZoneSegmentCount },
          );
          let path = start.path;
          let pushedNl = 0;
          const leftPg = new Map<string, number>();
          for (const volumeNl of volumes) {
            const result = push(path, volumeNl, drug, 'fill 1');
            path = result.path;
            pushedNl += volumeNl;
            for (const [d, pg] of result.leftPg) leftPg.set(d, (leftPg.get(d) ?? 0) + pg);
            const inPath = pathContentPg(path);
            const inInlet = inletContentPg(path);
            for (const { drug: d, concentrationUgPerMl: c } of drug) {
              const accounted = (leftPg.get(d) ?? 0) + (inPath.get(d) ?? 0) + (inInlet.get(d) ?? 0);
              expect(accounted).toBe((pushedNl + inletVolumeNl(path)) * c);
            }
          }
        },
      ),
      { seed, numRuns },
    );
  });

  it('builds zones holding exactly half of each fluid, ramping up toward the stronger one', () => {
    fc.assert(
      fc.property(
        mixtureArb(0),
        mixtureArb(1),
        fc.integer({ min: 1, max: 8 }).map((n) => 2 * n),
        fc.integer({ min: 8, max: 500_000 }),
        (ahead, behind, segmentCount, half) => {
          const zoneVolumeNl = 2 * Math.max(half, segmentCount);
          const zone = mixingZoneSegments(ahead, behind, zoneVolumeNl, segmentCount);
          expect(zone.reduce((sum, s) => sum + s.volumeNl, 0)).toBe(zoneVolumeNl);
          const drugs = new Set([...ahead, ...behind].map((d) => d.drug));
          for (const d of drugs) {
            const a = ahead.find((x) => x.drug === d)?.concentrationUgPerMl ?? 0;
            const b = behind.find((x) => x.drug === d)?.concentrationUgPerMl ?? 0;
            const perSegment = zone.map((s) => segmentDosesPg(s).get(d) ?? 0);
            expect(perSegment.reduce((x, y) => x + y, 0)).toBe((zoneVolumeNl / 2) * (a + b));
            if (b >= a) {
              // pg per nL non-decreasing: compare p_i / v_i ≤ p_{i+1} / v_{i+1} by cross-multiplying, allowing the 1 pg rounding.
              for (let i = 0; i + 1 < zone.length; i++) {
                expect(perSegment[i]! * zone[i + 1]!.volumeNl).toBeLessThanOrEqual(
                  (perSegment[i + 1]! + 1) * zone[i]!.volumeNl,
                );
              }
            }
          }
        },
      ),
      { seed, numRuns },
    );
  });
});

/**
 * Properties of plug flow over random sequences of pushes and mixtures.
 *
 * Method: fast-check generates a path (dead volume, fill, segment bound) and a sequence of pushes
 * drawn from a few mixtures and labels, with volumes from 0 to twice the path. Checked exactly, per
 * drug, after every push:
 * - mass: what was in the path + everything pushed in = what left the tip + what is in the path;
 * - plug flow: what has left the tip equals an independent prefix sum over the stream of fluids
 *   (the initial fill followed by each push), cut at the total volume pushed;
 * - FIFO: with a tracer drug whose concentration grows with every push, the tracer concentration
 *   leaving the tip never decreases;
 * - the segment queue never exceeds its bound, even when every push is a new fluid.
 * Seed and run count come from FC_SEED and FC_NUM_RUNS.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createDrugPath,
  pathContentPg,
  push,
  type DosesPg,
  type PathMixture,
} from '../../src/dosing/catheter.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 200 * Number(process.env.FC_RUNS_FACTOR ?? 1));

const drugs = ['morphine', 'bupivacaine', 'clonidine', 'ziconotide', 'baclofen'] as const;

const mixtureArb: fc.Arbitrary<PathMixture> = fc.uniqueArray(
  fc.record({
    drug: fc.constantFrom(...drugs),
    concentrationUgPerMl: fc.oneof(
      fc.integer({ min: 1, max: 10 }),
      fc.integer({ min: 1, max: 100_000 }),
    ),
  }),
  { selector: (d) => d.drug, maxLength: 4 },
);

const add = (into: Map<string, number>, from: DosesPg) => {
  for (const [drug, pg] of from) into.set(drug, (into.get(drug) ?? 0) + pg);
};
/** Per-drug maps equal, a missing drug counting as 0. */
const sameDoses = (a: DosesPg, b: DosesPg) =>
  [...new Set([...a.keys(), ...b.keys()])].every((d) => (a.get(d) ?? 0) === (b.get(d) ?? 0));

const scenarioArb = (segmentCountMax: fc.Arbitrary<number>) =>
  fc.record({
    deadVolumeNl: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 300_000 })),
    segmentCountMax,
    fill: mixtureArb,
    mixtures: fc.array(mixtureArb, { minLength: 1, maxLength: 4 }),
    pushes: fc.array(
      fc.record({
        volumePpm: fc.oneof(
          fc.integer({ min: 0, max: 2_000 }),
          fc.integer({ min: 0, max: 2_000_000 }),
        ),
        mixtureIndex: fc.nat(),
        label: fc.constantFrom('fill 1', 'fill 2', undefined),
      }),
      { maxLength: 60 },
    ),
  });

describe('push() over random sequences', () => {
  it('conserves every drug exactly and keeps the segment queue within its bound', () => {
    fc.assert(
      fc.property(scenarioArb(fc.integer({ min: 2, max: 8 })), (s) => {
        let path = createDrugPath({
          deadVolumeNl: s.deadVolumeNl,
          fill: s.fill,
          segmentCountMax: s.segmentCountMax,
        });
        const inPg = new Map(pathContentPg(path));
        const leftPg = new Map<string, number>();
        for (const p of s.pushes) {
          const volumeNl = Math.floor((Math.max(s.deadVolumeNl, 1) * p.volumePpm) / 1_000_000);
          const mixture = s.mixtures[p.mixtureIndex % s.mixtures.length]!;
          const result = push(path, volumeNl, mixture, p.label);
          path = result.path;
          // What entered is the pushed fluid, exactly.
          expect(
            sameDoses(
              result.enteredPg,
              new Map(mixture.map((d) => [d.drug, volumeNl * d.concentrationUgPerMl])),
            ),
          ).toBe(true);
          add(inPg, result.enteredPg);
          add(leftPg, result.leftPg);
          const accounted = new Map(leftPg);
          add(accounted, pathContentPg(path));
          expect(sameDoses(inPg, accounted)).toBe(true);
          expect(path.segments.length).toBeLessThanOrEqual(s.segmentCountMax);
          expect(result.leftTip.reduce((sum, o) => sum + o.volumeNl, 0)).toBe(volumeNl);
        }
      }),
      { seed, numRuns },
    );
  });

  it('delivers at the tip exactly the prefix of the fluid stream, in order (no merging needed)', () => {
    fc.assert(
      fc.property(scenarioArb(fc.constant(256)), (s) => {
        // Baclofen is the tracer: absent from the fill (0), then i + 1 in push i.
        const fill = s.fill.filter((d) => d.drug !== 'baclofen');
        let path = createDrugPath({ deadVolumeNl: s.deadVolumeNl, fill, segmentCountMax: 256 });
        // The stream of fluids, tip first: the fill, then every push.
        const stream: { volumeNl: number; mixture: PathMixture }[] = [
          { volumeNl: s.deadVolumeNl, mixture: fill },
        ];
        let pushedNl = 0;
        let tracerLast = 0;
        const leftPg = new Map<string, number>();
        s.pushes.forEach((p, i) => {
          const volumeNl = Math.floor((Math.max(s.deadVolumeNl, 1) * p.volumePpm) / 1_000_000);
          const base = s.mixtures[p.mixtureIndex % s.mixtures.length]!.filter(
            (d) => d.drug !== 'baclofen',
          );
          const mixture = [...base.slice(0, 3), { drug: 'baclofen', concentrationUgPerMl: i + 1 }];
          const result = push(path, volumeNl, mixture, p.label);
          path = result.path;
          stream.push({ volumeNl, mixture });
          pushedNl += volumeNl;
          add(leftPg, result.leftPg);
          for (const out of result.leftTip) {
            const tracer =
              out.mixture.find((d) => d.drug === 'baclofen')?.concentrationUgPerMl ?? 0;
            expect(tracer).toBeGreaterThanOrEqual(tracerLast);
            tracerLast = tracer;
          }
          expect(sameDoses(leftPg, prefixPg(stream, pushedNl))).toBe(true);
        });
      }),
      { seed, numRuns },
    );
  });

  it('keeps the bound when every push is a new fluid: mixing the smallest neighbours conserves mass', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 6 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 80 }),
        (segmentCountMax, volumes) => {
          let path = createDrugPath({ deadVolumeNl: 1_000, fill: [], segmentCountMax });
          let leftPg = 0;
          let inPg = 0;
          volumes.forEach((volumeNl, i) => {
            const result = push(
              path,
              volumeNl,
              [{ drug: 'morphine', concentrationUgPerMl: 7 * i + 1 }],
              `fill ${i}`,
            );
            path = result.path;
            leftPg += result.leftPg.get('morphine') ?? 0;
            inPg += volumeNl * (7 * i + 1);
            expect(path.segments.length).toBeLessThanOrEqual(segmentCountMax);
            expect(leftPg + (pathContentPg(path).get('morphine') ?? 0)).toBe(inPg);
          });
        },
      ),
      { seed, numRuns },
    );
  });
});

/** Per drug, the pg in the first `volumeNl` of a stream of fluids (the independent plug-flow model). */
function prefixPg(
  stream: readonly { volumeNl: number; mixture: PathMixture }[],
  volumeNl: number,
): DosesPg {
  const doses = new Map<string, number>();
  let remainingNl = volumeNl;
  for (const piece of stream) {
    const takenNl = Math.min(piece.volumeNl, remainingNl);
    for (const d of piece.mixture)
      doses.set(d.drug, (doses.get(d.drug) ?? 0) + takenNl * d.concentrationUgPerMl);
    remainingNl -= takenNl;
  }
  return doses;
}

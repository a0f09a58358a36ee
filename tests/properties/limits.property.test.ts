/**
 * REQ-LIM-1..4: programming is accepted or refused as the drug library says, and a refusal names
 * the field, the value and the limit and changes nothing (REQ-CMD-1).
 *
 * Method: a generated library and mixture; a generated therapy shape scaled at run time to land
 * well within the soft maxima, between soft and hard, or beyond hard (testing/arbitraries.ts
 * `placeTherapy`); then one programming command, confirmed or not, on a freshly filled pump:
 * within soft is accepted; between soft and hard only with confirmation; beyond hard never.
 * Schema-invalid prescriptions, PTM settings and mixtures are refused in each way the schemas
 * refuse them, the schedule with too many steps included (FOUND-BUGS #1, fixed).
 * Seed and run count come from FC_SEED and FC_NUM_RUNS.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NL_PER_ML } from '../../src/units.js';
import {
  PumpRig,
  ReferenceModel,
  checkRefusal,
  drugLibraryArb,
  invalidMixtureArb,
  invalidPrescriptionArb,
  invalidPtmArb,
  mixtureArb,
  placeTherapy,
  replayOptions,
  snapshotPump,
  therapyShapeArb,
} from '../../testing/index.js';
import type { DrugLibrary, Mixture } from '../../src/therapy/schema.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 100 * Number(process.env.FC_RUNS_FACTOR ?? 1));
const file = 'tests/properties/limits.property.test.ts';

const filledPump = (library: DrugLibrary, mixture: Mixture) => {
  const rig = new PumpRig({ library });
  rig.command({ type: 'cmd.refill', withdrawnNl: 0, addedNl: 10 * NL_PER_ML, mixture });
  return rig;
};
const libraryAndMixture = drugLibraryArb().chain((library) =>
  fc.record({ library: fc.constant(library), mixture: mixtureArb(library) }),
);

describe('REQ-LIM programming against the drug library', () => {
  it(`accepts within soft, asks confirmation between soft and hard, refuses beyond hard (seed ${seed}, ${numRuns} runs)`, () => {
    fc.assert(
      fc.property(
        libraryAndMixture,
        therapyShapeArb(),
        fc.boolean(),
        ({ library, mixture }, shape, confirm) => {
          const placed = placeTherapy(shape, library, mixture, new PumpRig().config.strokeVolumeNl);
          fc.pre(placed !== undefined);
          const rig = filledPump(library, mixture);
          // A mixture of which one stroke exceeds a drug's hard daily maximum is refused at the first
          // fill (REQ-LIM-6, FOUND-BUGS #3); no therapy can then be programmed.
          const fillExpected = new ReferenceModel(rig.config, library).expectRefill(
            0,
            10 * NL_PER_ML,
            mixture,
            false,
          );
          const filled = rig.records('refill').length === 1;
          if (fillExpected !== 'unsure') expect(filled).toBe(fillExpected === 'accept');
          fc.pre(filled);
          const before = snapshotPump(rig);
          const outcome = rig.command({
            type: 'cmd.program',
            prescription: placed.prescription,
            ptm: placed.ptm ?? null,
            confirm,
          });
          const accepted = outcome.records.some((r) => r.type === 'programmed');
          const expected = shape.band === 'withinSoft' || (shape.band === 'softToHard' && confirm);
          expect(accepted).toBe(expected);
          if (!accepted) {
            checkRefusal(rig, before, outcome, 'program');
            // Unconfirmed, the first drug over its soft maximum may be named before one over its hard;
            // beyond hard, the pump's highest flow may be the limit named (REQ-DOS-3).
            expect(outcome.refused[0]!.limit).toMatch(
              shape.band === 'softToHard'
                ? /^soft maximum/
                : confirm
                  ? /^(hard maximum|pump's highest flow)/
                  : /^(soft maximum|hard maximum|pump's highest flow)/,
            );
          }
        },
      ),
      { seed, numRuns, ...replayOptions(file) },
    );
  });

  it(`refuses every schema-invalid prescription or PTM, naming the field (seed ${seed}, ${numRuns} runs)`, () => {
    const bad = fc.oneof(
      invalidPrescriptionArb().map((b) => ({
        cmd: { prescription: b.prescription },
        field: 'prescription',
        way: b.way,
      })),
      invalidPtmArb().map((b) => ({
        cmd: { prescription: { mode: 'continuous', doseNgPerDay: 1 }, ptm: b.ptm },
        field: 'ptm',
        way: b.way,
      })),
    );
    fc.assert(
      fc.property(bad, fc.boolean(), ({ cmd, field }, confirm) => {
        const rig = filledPump(defaultLibrary(), [
          { drug: 'morphine', concentrationUgPerMl: 10_000 },
        ]);
        const before = snapshotPump(rig);
        const outcome = rig.command({ type: 'cmd.program', ...cmd, confirm });
        expect(outcome.refused).toHaveLength(1);
        expect(outcome.refused[0]!.field.startsWith(field)).toBe(true);
        checkRefusal(rig, before, outcome, 'program');
      }),
      { seed, numRuns, ...replayOptions(file) },
    );
  });

  it(`refuses a refill with a mixture the library or the schema does not allow (seed ${seed}, ${numRuns} runs)`, () => {
    fc.assert(
      fc.property(
        drugLibraryArb().chain((library) =>
          fc.record({ library: fc.constant(library), bad: invalidMixtureArb(library) }),
        ),
        ({ library, bad }) => {
          const rig = filledPump(library, [
            { drug: library.drugs[0]!.drug, concentrationUgPerMl: 1 },
          ]);
          const before = snapshotPump(rig);
          const outcome = rig.command({
            type: 'cmd.refill',
            withdrawnNl: 0,
            addedNl: NL_PER_ML,
            mixture: bad.mixture,
            confirm: true,
          });
          expect(outcome.refused).toHaveLength(1);
          checkRefusal(rig, before, outcome, `refill (${bad.way})`);
        },
      ),
      { seed, numRuns, ...replayOptions(file) },
    );
  });
});

function defaultLibrary(): DrugLibrary {
  return new PumpRig().library;
}

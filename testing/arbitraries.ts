/**
 * fast-check arbitraries for the pump's inputs: drug libraries, mixtures, prescriptions and PTM
 * settings (valid, and invalid in each way the schemas refuse), pump configurations, and therapy
 * shapes that are scaled against a library at run time so a command lands where a test wants it:
 * well within the soft maxima, between soft and hard, or beyond hard.
 *
 * Everything is in firmware units (ng, nL, ms, µg/mL), as src/therapy/schema.ts defines them.
 * Arbitraries here know the schemas' bounds (src/constants.ts) but not how the controller checks
 * a therapy: that is the reference model's business (testing/model.ts).
 */
import fc from 'fast-check';
import {
  bolusDurationMsMax,
  bolusDurationMsMin,
  flexStepsMax,
  lockoutMsMax,
  mixtureDrugsMax,
  patientBolusesPer24hMax,
} from '../src/constants.js';
import { defaultDrugLibrary } from '../src/therapy/drugLibrary.js';
import type {
  DrugLibrary,
  DrugLimits,
  Mixture,
  Prescription,
  PtmSettings,
  PumpConfig,
} from '../src/therapy/schema.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, NL_PER_ML, SECOND_MS } from '../src/units.js';
import { judgeLimits, therapyChecks } from './model.js';

/** Drug names the libraries draw from (schema-valid: lower case, starts with a letter). */
export const drugNames = [
  'morphine',
  'hydromorphone',
  'fentanyl',
  'sufentanil',
  'ziconotide',
  'bupivacaine',
  'clonidine',
  'baclofen',
] as const;

// ---------------------------------------------------------------------------------------------
// Libraries, mixtures, pumps.

/**
 * Limits of one drug. Sometimes the hard daily maximum holds less than one stroke at the maximum
 * concentration (a 2 µL stroke of 50 mg/mL is 100 µg): the pump must then refuse such a mixture's
 * therapies rather than deliver a stroke above the day's maximum (FOUND-BUGS #3).
 */
const drugLimitsArb = (drug: string): fc.Arbitrary<DrugLimits> =>
  fc
    .integer({ min: 10, max: 50_000 })
    .chain((concentrationUgPerMlMax) =>
      fc.record({
        concentrationUgPerMlMax: fc.constant(concentrationUgPerMlMax),
        dailyHardNg: fc.oneof(
          {
            arbitrary: fc.integer({
              min: Math.max(1_000, 40 * concentrationUgPerMlMax),
              max: 50_000_000,
            }),
            weight: 4,
          },
          { arbitrary: fc.integer({ min: 1_000, max: 50_000_000 }), weight: 1 },
        ),
        dailySoftShare: fc.integer({ min: 30, max: 100 }),
        bolusHardShare: fc.integer({ min: 0, max: 25 }),
        bolusSoftShare: fc.integer({ min: 30, max: 100 }),
      }),
    )
    .map((r) => {
      const bolusHard = Math.floor((r.dailyHardNg * r.bolusHardShare) / 100);
      return {
        drug,
        concentrationUgPerMlMax: r.concentrationUgPerMlMax,
        dailyDoseNgHardMax: r.dailyHardNg,
        dailyDoseNgSoftMax: Math.floor((r.dailyHardNg * r.dailySoftShare) / 100),
        bolusDoseNgHardMax: bolusHard,
        bolusDoseNgSoftMax: Math.floor((bolusHard * r.bolusSoftShare) / 100),
      };
    });

/** A drug library: the default one, or one to eight drugs with random (schema-valid) limits. */
export function drugLibraryArb(): fc.Arbitrary<DrugLibrary> {
  const random = fc
    .shuffledSubarray([...drugNames], { minLength: 1, maxLength: drugNames.length })
    .chain((names) => fc.tuple(...names.map(drugLimitsArb)))
    .map((drugs) => ({ name: 'generated', drugs }));
  return fc.oneof(
    { arbitrary: fc.constant(defaultDrugLibrary), weight: 1 },
    { arbitrary: random, weight: 2 },
  );
}

/** A mixture of one to four library drugs, each within its maximum concentration (the first is the primary). */
export function mixtureArb(library: DrugLibrary): fc.Arbitrary<Mixture> {
  return fc
    .shuffledSubarray(library.drugs, {
      minLength: 1,
      maxLength: Math.min(mixtureDrugsMax, library.drugs.length),
    })
    .chain((drugs) =>
      fc.tuple(
        ...drugs.map((d) => {
          const max = d.concentrationUgPerMlMax;
          return fc
            .integer({ min: Math.max(1, Math.floor(max / 50)), max })
            .map((c) => ({ drug: d.drug, concentrationUgPerMl: c }));
        }),
      ),
    );
}

/** A mixture the pump must refuse, with the way it is wrong. */
export function invalidMixtureArb(
  library: DrugLibrary,
): fc.Arbitrary<{ mixture: unknown; way: string }> {
  const first = library.drugs[0]!;
  return fc.oneof(
    fc.integer({ min: 1, max: 1_000 }).map((extra) => ({
      mixture: [{ drug: first.drug, concentrationUgPerMl: first.concentrationUgPerMlMax + extra }],
      way: 'above the maximum concentration',
    })),
    fc.constant({
      mixture: [{ drug: 'unlisted-drug', concentrationUgPerMl: 10 }],
      way: 'drug not in the library',
    }),
    fc.constant({
      mixture: [
        { drug: first.drug, concentrationUgPerMl: 1 },
        { drug: first.drug, concentrationUgPerMl: 2 },
      ],
      way: 'the same drug twice',
    }),
    fc.constant({ mixture: [], way: 'no drug' }),
    fc.constantFrom(0, -5, 1.5).map((c) => ({
      mixture: [{ drug: first.drug, concentrationUgPerMl: c }],
      way: 'concentration not a positive integer',
    })),
    fc.constant({
      mixture: [{ drug: 'Morphine', concentrationUgPerMl: 10 }],
      way: 'drug name not lower case',
    }),
  );
}

/** A recorded catheter (tubing, implanted length, volume per cm) and the default priming rate. */
export function catheterArb(): fc.Arbitrary<
  Pick<
    PumpConfig,
    'pumpTubingVolumeNl' | 'catheterLengthCm' | 'catheterVolumeNlPerCm' | 'primingRateNlPerDay'
  >
> {
  return fc.record({
    pumpTubingVolumeNl: fc.integer({ min: 0, max: 2_000 }),
    catheterLengthCm: fc.integer({ min: 10, max: 110 }),
    catheterVolumeNlPerCm: fc.constantFrom(1_000, 2_600, 5_000),
    primingRateNlPerDay: fc.integer({ min: NL_PER_ML, max: 24 * NL_PER_ML }),
  });
}

/** A pump model: stroke volume, reservoir, alarm thresholds, safe minimum rate, stall handling, sometimes a recorded catheter. */
export function pumpConfigArb(): fc.Arbitrary<PumpConfig> {
  return fc
    .record({
      strokeVolumeNl: fc.integer({ min: 100, max: 2_000 }),
      capacityMl: fc.integer({ min: 10, max: 40 }),
      lowNl: fc.integer({ min: NL_PER_ML / 2, max: 4 * NL_PER_ML }),
      emptyShare: fc.integer({ min: 0, max: 60 }),
      safeMinimumRateNlPerDay: fc.integer({ min: 0, max: 100_000 }),
      // The schema allows 1 s; at that a two-day stall is 170,000 retries (steps). From a minute up
      // the same paths are taken at a cost a CI run can afford.
      stallRetryMs: fc.integer({ min: MINUTE_MS, max: 30 * MINUTE_MS }),
      stallAttemptsMax: fc.integer({ min: 1, max: 5 }),
      catheter: fc.option(catheterArb(), { freq: 2, nil: undefined }),
    })
    .map((r) => ({
      ...(r.catheter ?? {}),
      model: 'generated',
      reservoirCapacityNl: r.capacityMl * NL_PER_ML,
      strokeVolumeNl: r.strokeVolumeNl,
      lowReservoirNl: r.lowNl,
      emptyReservoirNl: Math.floor((r.lowNl * r.emptyShare) / 100),
      safeMinimumRateNlPerDay: r.safeMinimumRateNlPerDay,
      stallRetryMs: r.stallRetryMs,
      stallAttemptsMax: r.stallAttemptsMax,
      refillDiscrepancyPercentMax: 20,
    }));
}

// ---------------------------------------------------------------------------------------------
// Prescriptions and PTM settings, as the schemas see them.

const doseNgArb = (maxNg: number) => fc.integer({ min: 0, max: maxNg });

/** A schema-valid prescription: continuous, or a flex schedule of up to 24 steps from 00:00. */
export function prescriptionArb(maxDoseNg = 20_000_000): fc.Arbitrary<Prescription> {
  const continuous = doseNgArb(maxDoseNg).map(
    (doseNgPerDay): Prescription => ({ mode: 'continuous', doseNgPerDay }),
  );
  const flex = fc
    .uniqueArray(fc.integer({ min: 1, max: 24 * 60 - 1 }), { maxLength: flexStepsMax - 1 })
    .chain((starts) =>
      fc.tuple(
        ...[0, ...starts.sort((a, b) => a - b)].map((startMinute) =>
          doseNgArb(maxDoseNg).map((doseNgPerDay) => ({ startMinute, doseNgPerDay })),
        ),
      ),
    )
    .map((steps): Prescription => ({ mode: 'flex', steps }));
  return fc.oneof(continuous, flex);
}

/**
 * A prescription the schema refuses, with the way it is wrong. `oversized: false` leaves out the
 * schedule with more steps than allowed, for a test that wants only the small malformed ones.
 */
export function invalidPrescriptionArb(
  options: { oversized?: boolean } = {},
): fc.Arbitrary<{ prescription: unknown; way: string }> {
  const oversized = {
    prescription: {
      mode: 'flex',
      steps: Array.from({ length: flexStepsMax + 1 }, (_, i) => ({
        startMinute: i * 10,
        doseNgPerDay: 1,
      })),
    },
    way: 'more steps than allowed',
  };
  return fc.oneof(
    ...(options.oversized === false ? [] : [fc.constant(oversized)]),
    fc.integer({ min: -1_000_000, max: -1 }).map((d) => ({
      prescription: { mode: 'continuous', doseNgPerDay: d },
      way: 'negative dose',
    })),
    fc.double({ min: 0.1, max: 1e6, noNaN: true, noInteger: true }).map((d) => ({
      prescription: { mode: 'continuous', doseNgPerDay: d },
      way: 'dose not a whole number of ng',
    })),
    fc.constant({
      prescription: { mode: 'continuous', doseNgPerDay: 1e13 },
      way: 'dose above the schema bound',
    }),
    fc.constant({ prescription: { mode: 'bolus-only', doseNgPerDay: 1 }, way: 'unknown mode' }),
    fc.constant({ prescription: { mode: 'continuous' }, way: 'dose missing' }),
    fc.constant({ prescription: { mode: 'flex', steps: [] }, way: 'flex without steps' }),
    fc.integer({ min: 1, max: 1439 }).map((m) => ({
      prescription: { mode: 'flex', steps: [{ startMinute: m, doseNgPerDay: 1 }] },
      way: 'first step not at 00:00',
    })),
    fc.integer({ min: 1, max: 1439 }).map((m) => ({
      prescription: {
        mode: 'flex',
        steps: [
          { startMinute: 0, doseNgPerDay: 1 },
          { startMinute: m, doseNgPerDay: 1 },
          { startMinute: m, doseNgPerDay: 2 },
        ],
      },
      way: 'steps not in increasing order',
    })),
    fc.integer({ min: 1440, max: 5000 }).map((m) => ({
      prescription: {
        mode: 'flex',
        steps: [
          { startMinute: 0, doseNgPerDay: 1 },
          { startMinute: m, doseNgPerDay: 1 },
        ],
      },
      way: 'step start after 23:59',
    })),
  );
}

/** Schema-valid PTM settings (the lockout runs start to start, so it is at least the bolus duration). */
export function ptmArb(maxBolusNg = 1_000_000): fc.Arbitrary<PtmSettings> {
  return fc
    .record({
      bolusDoseNg: fc.integer({ min: 1, max: maxBolusNg }),
      bolusDurationMs: fc.integer({ min: bolusDurationMsMin, max: 2 * HOUR_MS }),
      extraLockoutMs: fc.integer({ min: 0, max: 12 * HOUR_MS }),
      bolusesPer24hMax: fc.integer({ min: 1, max: patientBolusesPer24hMax }),
    })
    .map((r) => ({
      bolusDoseNg: r.bolusDoseNg,
      bolusDurationMs: r.bolusDurationMs,
      lockoutMs: Math.min(lockoutMsMax, r.bolusDurationMs + r.extraLockoutMs),
      bolusesPer24hMax: r.bolusesPer24hMax,
    }));
}

/** PTM settings the schema refuses, with the way they are wrong. */
export function invalidPtmArb(): fc.Arbitrary<{ ptm: unknown; way: string }> {
  const ok = {
    bolusDoseNg: 100_000,
    bolusDurationMs: 10 * MINUTE_MS,
    lockoutMs: HOUR_MS,
    bolusesPer24hMax: 6,
  };
  return fc.oneof(
    fc.constant({ ptm: { ...ok, bolusDoseNg: 0 }, way: 'bolus dose zero' }),
    fc
      .integer({ min: 1, max: bolusDurationMsMin - 1 })
      .map((d) => ({ ptm: { ...ok, bolusDurationMs: d }, way: 'bolus shorter than a minute' })),
    fc.integer({ min: bolusDurationMsMax + 1, max: 3 * DAY_MS }).map((d) => ({
      ptm: { ...ok, bolusDurationMs: d, lockoutMs: d },
      way: 'bolus longer than 24 h',
    })),
    fc
      .integer({ min: bolusDurationMsMin, max: 10 * MINUTE_MS - 1 })
      .map((l) => ({ ptm: { ...ok, lockoutMs: l }, way: 'lockout shorter than the bolus' })),
    fc
      .integer({ min: lockoutMsMax + 1, max: 3 * DAY_MS })
      .map((l) => ({ ptm: { ...ok, lockoutMs: l }, way: 'lockout longer than 24 h' })),
    fc
      .constantFrom(0, patientBolusesPer24hMax + 1, 2.5)
      .map((n) => ({ ptm: { ...ok, bolusesPer24hMax: n }, way: 'boluses per 24 h out of range' })),
    fc.constant({ ptm: { bolusDoseNg: 1 }, way: 'fields missing' }),
  );
}

// ---------------------------------------------------------------------------------------------
// Therapy shapes: a prescription and PTM up to scale, placed against the library at run time.

/** Where a therapy lands against the drug library: the largest ratio of a dose to its soft maximum. */
export type LimitBand = 'withinSoft' | 'softToHard' | 'aboveHard';

export interface TherapyShape {
  /** Relative basal doses of the steps (one step = continuous), with their start minutes. */
  steps: { startMinute: number; weight: number }[];
  /** Relative size of one patient bolus against the basal peak, or undefined for no PTM. */
  ptm:
    | { bolusWeight: number; bolusDurationMs: number; lockoutMs: number; bolusesPer24hMax: number }
    | undefined;
  band: LimitBand;
  /** Position inside the band, 0..1. */
  position: number;
}

export function therapyShapeArb(
  bands: readonly LimitBand[] = ['withinSoft', 'softToHard', 'aboveHard'],
): fc.Arbitrary<TherapyShape> {
  const steps = fc.oneof(
    // A zero basal too: a PTM-only therapy, where a bolus's last stroke has no basal after it.
    fc
      .oneof({ arbitrary: fc.integer({ min: 1, max: 1000 }), weight: 4 }, fc.constant(0))
      .map((weight) => [{ startMinute: 0, weight }]),
    fc
      .uniqueArray(fc.integer({ min: 1, max: 24 * 60 - 1 }), { minLength: 1, maxLength: 5 })
      .chain((starts) =>
        fc.tuple(
          ...[0, ...starts.sort((a, b) => a - b)].map((startMinute) =>
            fc.integer({ min: 0, max: 1000 }).map((weight) => ({ startMinute, weight })),
          ),
        ),
      ),
  );
  const ptm = fc.option(
    fc
      .record({
        bolusWeight: fc.integer({ min: 1, max: 1000 }),
        bolusDurationMs: fc.constantFrom(MINUTE_MS, 5 * MINUTE_MS, 15 * MINUTE_MS, HOUR_MS),
        extraLockoutMs: fc.constantFrom(0, 5 * MINUTE_MS, 45 * MINUTE_MS, 3 * HOUR_MS),
        bolusesPer24hMax: fc.integer({ min: 1, max: 12 }),
      })
      .map((r) => ({
        bolusWeight: r.bolusWeight,
        bolusDurationMs: r.bolusDurationMs,
        lockoutMs: r.bolusDurationMs + r.extraLockoutMs,
        bolusesPer24hMax: r.bolusesPer24hMax,
      })),
    { freq: 4, nil: undefined },
  );
  return fc.record({
    steps,
    ptm,
    band: fc.constantFrom(...bands),
    position: fc.integer({ min: 0, max: 100 }).map((p) => p / 100),
  });
}

const bandRatio = (band: LimitBand, position: number, softToHard: number): number => {
  switch (band) {
    case 'withinSoft':
      return 0.05 + 0.85 * position;
    case 'softToHard':
      // Between 1.1 × soft and 0.9 × hard when that band exists; otherwise just above soft.
      return softToHard > 1.25 ? 1.1 + (softToHard * 0.9 - 1.1) * position : 1.1;
    case 'aboveHard':
      return softToHard * (1.1 + position);
  }
};

/**
 * Scale a shape so its largest dose-to-soft-maximum ratio over every drug of the mixture is the
 * band's. `strokeVolumeNl` is the pump's stroke, which the hard daily checks count on top of a day
 * as the controller does (0 leaves it out). Returns undefined when the shape cannot be placed
 * (every dose rounds to zero, or whole units push it out of its band).
 */
export function placeTherapy(
  shape: TherapyShape,
  library: DrugLibrary,
  mixture: Mixture,
  strokeVolumeNl = 0,
): { prescription: Prescription; ptm: PtmSettings | undefined } | undefined {
  const peak = Math.max(...shape.steps.map((s) => s.weight));
  if (peak === 0 && !shape.ptm) return undefined;
  const unit = (scale: number) => {
    const prescription: Prescription =
      shape.steps.length === 1
        ? { mode: 'continuous', doseNgPerDay: Math.round(shape.steps[0]!.weight * scale) }
        : {
            mode: 'flex',
            steps: shape.steps.map((s) => ({
              startMinute: s.startMinute,
              doseNgPerDay: Math.round(s.weight * scale),
            })),
          };
    const ptm = shape.ptm && {
      bolusDoseNg: Math.max(
        1,
        Math.round(((shape.ptm.bolusWeight * Math.max(peak, 1)) / 1000) * scale),
      ),
      bolusDurationMs: shape.ptm.bolusDurationMs,
      lockoutMs: shape.ptm.lockoutMs,
      bolusesPer24hMax: shape.ptm.bolusesPer24hMax,
    };
    return { prescription, ptm };
  };
  // Ratios are linear in the scale: measure at scale 1000 and solve.
  const probe = unit(1000);
  const checks = therapyChecks(library, mixture, probe.prescription, probe.ptm, strokeVolumeNl);
  const soft = Math.max(
    ...checks.map((c) =>
      c.value === 0 ? 0 : c.soft === 0 ? Number.POSITIVE_INFINITY : c.value / c.soft,
    ),
  );
  const hard = Math.max(
    ...checks.map((c) =>
      c.value === 0 ? 0 : c.hard === 0 ? Number.POSITIVE_INFINITY : c.value / c.hard,
    ),
  );
  if (soft === 0) return undefined;
  const softToHard = soft / hard;
  // A zero maximum (ziconotide's bolus) makes every dose of it refused: only "beyond hard" fits.
  const scale = Number.isFinite(soft)
    ? (1000 * bandRatio(shape.band, shape.position, softToHard)) / soft
    : 1000;
  const placed = unit(scale);
  const doses =
    placed.prescription.mode === 'continuous'
      ? [placed.prescription.doseNgPerDay]
      : placed.prescription.steps.map((s) => s.doseNgPerDay);
  if (doses.some((d) => !Number.isSafeInteger(d) || d > 1e12)) return undefined;
  // Whole nanograms and nanolitres can push a tiny therapy out of its band: then it is not placed.
  const landed = therapyChecks(library, mixture, placed.prescription, placed.ptm, strokeVolumeNl);
  const expected =
    shape.band === 'withinSoft'
      ? ['accept', 'accept']
      : shape.band === 'aboveHard'
        ? ['refuse', 'refuse']
        : ['refuse', 'accept'];
  if (judgeLimits(landed, false) !== expected[0] || judgeLimits(landed, true) !== expected[1])
    return undefined;
  return placed;
}

// ---------------------------------------------------------------------------------------------
// Time.

/** A wait: mostly seconds to minutes (inside lockouts), often hours, sometimes days. */
export function waitMsArb(): fc.Arbitrary<number> {
  return fc.oneof(
    { arbitrary: fc.integer({ min: SECOND_MS, max: 20 * MINUTE_MS }), weight: 3 },
    { arbitrary: fc.integer({ min: 20 * MINUTE_MS, max: 8 * HOUR_MS }), weight: 3 },
    { arbitrary: fc.integer({ min: 8 * HOUR_MS, max: 3 * DAY_MS }), weight: 2 },
  );
}

/** A clock change a clinician (or a daylight-saving slip) might make: ± minutes to days. */
export function clockShiftMsArb(): fc.Arbitrary<number> {
  return fc.oneof(
    fc.constantFrom(-12 * HOUR_MS, -HOUR_MS, HOUR_MS, 12 * HOUR_MS, -DAY_MS, DAY_MS),
    fc.integer({ min: -2 * DAY_MS, max: 2 * DAY_MS }).filter((d) => d !== 0),
  );
}

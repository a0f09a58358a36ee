/**
 * Therapy schemas: the drug library, the reservoir mixture, the prescription and the patient-bolus
 * (PTM) settings, in firmware units (integers). Types are inferred from the schemas.
 *
 * These schemas check shape and absolute bounds only. Whether a therapy is safe for its drugs is
 * decided by src/dosing/limits.ts against the drug library, in the core, for every command.
 *
 * The drug-path fields of the pump configuration (tubing, catheter length and volume per cm, the
 * dose-rate increase limit, the priming rate) are optional: a pump whose catheter was not recorded
 * has no dead volume to bridge or prime (`deadVolumeNlOf` is undefined), and a pump without a
 * dose-rate increase limit asks no confirmation for one (docs/drug-path.md §6).
 */
import { z } from 'zod';
import {
  catheterLengthCmMax,
  catheterVolumeNlPerCmMax,
  drugPathVolumeNlMax,
} from '../dosing/catheter.js';
import {
  bolusDurationMsMax,
  bolusDurationMsMin,
  concentrationUgPerMlMax,
  flexStepsMax,
  increaseFactorPpmMax,
  lockoutMsMax,
  mixtureDrugsMax,
  patientBolusesPer24hMax,
  rateNlPerDayMax,
  reservoirCapacityNlMax,
} from '../constants.js';
import { DAY_MS, formatDurationMs, MINUTE_MS } from '../units.js';

/**
 * A whole number from `min` to `max`; its messages give the bounds in the field's unit (`format`,
 * from src/units.ts), as the user reads them: "at least 1 min", not ">=60000".
 */
const int = (min: number, max: number, format: (v: number) => string = String) =>
  z
    .number({ error: 'a number' })
    .int({ error: `a whole number from ${format(min)} to ${format(max)}` })
    .min(min, { error: `at least ${format(min)}` })
    .max(max, { error: `at most ${format(max)}` });
const doseNg = int(0, 1_000_000_000_000);

export const drugName = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z][a-z0-9-]*$/, 'a lower-case drug name such as "morphine"');

export const drugLimitsSchema = z
  .object({
    drug: drugName,
    concentrationUgPerMlMax: int(1, concentrationUgPerMlMax),
    dailyDoseNgSoftMax: doseNg,
    dailyDoseNgHardMax: doseNg,
    bolusDoseNgSoftMax: doseNg,
    bolusDoseNgHardMax: doseNg,
  })
  .refine((d) => d.dailyDoseNgSoftMax <= d.dailyDoseNgHardMax, {
    message: 'the soft daily maximum must not exceed the hard one',
    path: ['dailyDoseNgSoftMax'],
  })
  .refine((d) => d.bolusDoseNgSoftMax <= d.bolusDoseNgHardMax, {
    message: 'the soft bolus maximum must not exceed the hard one',
    path: ['bolusDoseNgSoftMax'],
  });

export const drugLibrarySchema = z
  .object({ name: z.string().min(1).max(64), drugs: z.array(drugLimitsSchema).min(1).max(64) })
  .refine((l) => new Set(l.drugs.map((d) => d.drug)).size === l.drugs.length, {
    message: 'each drug may appear once',
    path: ['drugs'],
  });

export const mixtureSchema = z
  .array(z.object({ drug: drugName, concentrationUgPerMl: int(1, concentrationUgPerMlMax) }))
  .min(1)
  .max(mixtureDrugsMax)
  .refine((m) => new Set(m.map((d) => d.drug)).size === m.length, {
    message: 'each drug may appear once',
  });

const flexStep = z.object({ startMinute: int(0, 24 * 60 - 1), doseNgPerDay: doseNg });

export const prescriptionSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('continuous'), doseNgPerDay: doseNg }),
  z.object({
    mode: z.literal('flex'),
    steps: z
      .array(flexStep)
      .min(1)
      .max(flexStepsMax)
      .refine((s) => s[0]?.startMinute === 0, { message: 'the first step must start at 00:00' })
      .refine((s) => s.every((step, i) => i === 0 || step.startMinute > s[i - 1]!.startMinute), {
        message: 'steps must be in increasing order of start time',
      }),
  }),
]);

export const ptmSchema = z
  .object({
    bolusDoseNg: doseNg.refine((v) => v > 0, 'must be more than 0 mg'),
    bolusDurationMs: int(bolusDurationMsMin, bolusDurationMsMax, formatDurationMs),
    lockoutMs: int(bolusDurationMsMin, lockoutMsMax, formatDurationMs),
    bolusesPer24hMax: int(1, patientBolusesPer24hMax),
  })
  .refine((p) => p.lockoutMs >= p.bolusDurationMs, {
    message: 'the lockout runs start to start and must be at least the bolus duration',
    path: ['lockoutMs'],
  });

export const clinicianBolusSchema = z.object({
  doseNg: doseNg.refine((v) => v > 0, 'must be more than 0 mg'),
  durationMs: int(bolusDurationMsMin, bolusDurationMsMax),
});

/** The pump model and its alarm settings. */
export const pumpConfigSchema = z
  .object({
    model: z.string().min(1).max(32),
    reservoirCapacityNl: int(1, reservoirCapacityNlMax),
    strokeVolumeNl: int(1, 100_000),
    lowReservoirNl: int(0, reservoirCapacityNlMax),
    emptyReservoirNl: int(0, reservoirCapacityNlMax),
    safeMinimumRateNlPerDay: int(0, rateNlPerDayMax),
    /** How long the controller waits before retrying a stalled motor. */
    stallRetryMs: int(1_000, DAY_MS),
    /** Consecutive stalled attempts before the motor-stall critical alarm. */
    stallAttemptsMax: int(1, 100),
    /**
     * Refill discrepancy threshold, in percent: a refill whose withdrawn volume differs from the
     * pump's estimate by more than this share of the estimate is flagged in its log record
     * (docs/sources.md F6: a sign of occlusion, granuloma or an earlier pocket fill; value UNCONFIRMED).
     */
    refillDiscrepancyPercentMax: int(0, 100),
    /** Volume inside the pump from the reservoir outlet to the catheter port (UNCONFIRMED for every pump: no default). */
    pumpTubingVolumeNl: int(0, drugPathVolumeNlMax).optional(),
    /** Implanted catheter length, whole cm (Prometra: 110 cm minus the trimmed length). */
    catheterLengthCm: int(0, catheterLengthCmMax).optional(),
    /** Catheter volume per cm (Prometra: 2600 nL/cm, IFU p.33). */
    catheterVolumeNlPerCm: int(0, catheterVolumeNlPerCmMax).optional(),
    /**
     * A refill whose new mixture would raise any drug's delivered dose rate, once the catheter
     * clears, by more than this factor (ppm: 1 500 000 = ×1.5) needs an explicit confirmation.
     * A drug new to the mixture always does. Absent: no such check (no sourced value exists).
     */
    doseRateIncreasePpmMax: int(1_000_000, increaseFactorPpmMax).optional(),
    /** Default rate of a priming bolus when the command names none. */
    primingRateNlPerDay: int(1, rateNlPerDayMax).optional(),
  })
  .refine((c) => (c.catheterLengthCm === undefined) === (c.catheterVolumeNlPerCm === undefined), {
    message: 'the catheter length and its volume per cm are recorded together',
    path: ['catheterLengthCm'],
  })
  .refine(
    (c) =>
      (c.pumpTubingVolumeNl ?? 0) + (c.catheterLengthCm ?? 0) * (c.catheterVolumeNlPerCm ?? 0) <=
      drugPathVolumeNlMax,
    {
      message: `the drug path (tubing + catheter length × volume per cm) must hold at most ${drugPathVolumeNlMax} nL`,
      path: ['catheterLengthCm'],
    },
  )
  .refine((c) => c.emptyReservoirNl < c.lowReservoirNl, {
    message: 'the empty threshold must be below the low-reservoir threshold',
    path: ['emptyReservoirNl'],
  })
  .refine((c) => c.lowReservoirNl < c.reservoirCapacityNl, {
    message: 'the low-reservoir threshold must be below the capacity',
    path: ['lowReservoirNl'],
  })
  .refine((c) => c.safeMinimumRateNlPerDay * MINUTE_MS < c.strokeVolumeNl * DAY_MS * 60, {
    message: 'the safe minimum rate must be below one stroke a second',
    path: ['safeMinimumRateNlPerDay'],
  });

/**
 * A bridge after a drug change, as the controller keeps it (and persists it: src/pump/persist.ts).
 * The old basal schedule runs instead of the prescription's until the pump estimates that the new
 * mixture has reached the catheter tip, i.e. until the old schedule (plus boluses, minus pauses)
 * has pushed the drug path's volume (docs/drug-path.md §6).
 */
export const bridgeSchema = z.object({
  startMs: z.number().int(),
  /** The drug path's volume when the bridge started: what it must push. */
  volumeNl: z.number().int().min(0),
  /** The old schedule, kept through the bridge. */
  steps: z.object({
    startsMs: z.array(z.number().int()).min(1),
    ratesNlPerDay: z.array(z.number().int().min(0)).min(1),
  }),
  /** The mixture the tip delivers through the bridge (the old one). */
  oldMixture: mixtureSchema,
  /** Bridge volume still to push at `anchorMs`, in fine units (1/DAY_MS nL). */
  remainingFine: z.number().int().min(0),
  anchorMs: z.number().int(),
  /** When the pump estimates the new mixture reaches the tip: the override ends (ignored while paused). */
  endMs: z.number().int(),
  /** Present while therapy is stopped or at the safe minimum rate (since `anchorMs`): the flow then pushing the path. */
  pausedRateNlPerDay: z.number().int().min(0).optional(),
  /**
   * A patient or clinician bolus pushing the path too: counted as it is programmed, from the
   * anchor on (its fine units, as `bolusFineAt` gives them).
   */
  pushingBolus: z
    .object({
      startMs: z.number().int(),
      volumeNl: z.number().int().min(1),
      rateNlPerDay: z.number().int().min(1),
      endMs: z.number().int(),
    })
    .optional(),
  /**
   * Present when the old schedule is not kept (the clinician declined it, or it delivered
   * nothing): the path is flushed by the prescription's own schedule, and until it has been pushed
   * strokes still count as the worst the path may hold (a washout, FOUND-BUGS #23).
   */
  washoutOnly: z.literal(true).optional(),
  /** The start of the last patient or clinician bolus whose volume the bridge has counted. */
  bolusCountedStartMs: z.number().int().optional(),
  /**
   * The drugs the path may hold stronger than the reservoir does, each at the highest concentration
   * it may hold until the bridge ends (from the tip's mixture, the reservoir's before the refill and
   * an earlier bridge's). Boluses and the safe minimum rate are judged on it with the reservoir's
   * mixture (`tipMixtureWorstCase`). Only the stronger drugs, so the ledger record stays small.
   */
  pathMixture: z
    .array(z.object({ drug: z.string().min(1), concentrationUgPerMl: z.number().int().min(1) }))
    .optional(),
});

/** The drug path's dead volume (tubing + catheter), or undefined when the catheter is not recorded. */
export function deadVolumeNlOf(config: PumpConfig): number | undefined {
  if (config.pumpTubingVolumeNl === undefined && config.catheterLengthCm === undefined)
    return undefined;
  return (
    (config.pumpTubingVolumeNl ?? 0) +
    (config.catheterLengthCm ?? 0) * (config.catheterVolumeNlPerCm ?? 0)
  );
}

export type Bridge = z.infer<typeof bridgeSchema>;
export type DrugLimits = z.infer<typeof drugLimitsSchema>;
export type DrugLibrary = z.infer<typeof drugLibrarySchema>;
export type Mixture = z.infer<typeof mixtureSchema>;
export type Prescription = z.infer<typeof prescriptionSchema>;
export type PtmSettings = z.infer<typeof ptmSchema>;
export type ClinicianBolus = z.infer<typeof clinicianBolusSchema>;
export type PumpConfig = z.infer<typeof pumpConfigSchema>;

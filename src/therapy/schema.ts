/**
 * Therapy schemas: the drug library, the reservoir mixture, the prescription and the patient-bolus
 * (PTM) settings, in firmware units (integers). Types are inferred from the schemas.
 *
 * These schemas check shape and absolute bounds only. Whether a therapy is safe for its drugs is
 * decided by src/dosing/limits.ts against the drug library, in the core, for every command.
 */
import { z } from 'zod';
import {
  bolusDurationMsMax,
  bolusDurationMsMin,
  concentrationUgPerMlMax,
  flexStepsMax,
  lockoutMsMax,
  mixtureDrugsMax,
  patientBolusesPer24hMax,
  rateNlPerDayMax,
  reservoirCapacityNlMax,
} from '../constants.js';
import { DAY_MS, MINUTE_MS } from '../units.js';

const int = (min: number, max: number) => z.number().int().min(min).max(max);
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
  .refine((m) => new Set(m.map((d) => d.drug)).size === m.length, { message: 'each drug may appear once' });

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
    bolusDoseNg: doseNg.refine((v) => v > 0, 'must be above zero'),
    bolusDurationMs: int(bolusDurationMsMin, bolusDurationMsMax),
    lockoutMs: int(bolusDurationMsMin, lockoutMsMax),
    bolusesPer24hMax: int(1, patientBolusesPer24hMax),
  })
  .refine((p) => p.lockoutMs >= p.bolusDurationMs, {
    message: 'the lockout runs start to start and must be at least the bolus duration',
    path: ['lockoutMs'],
  });

export const clinicianBolusSchema = z.object({
  doseNg: doseNg.refine((v) => v > 0, 'must be above zero'),
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
    /** Refill discrepancy (|withdrawn − estimate| / estimate) that is logged, in percent. */
    refillDiscrepancyPercentMax: int(0, 100),
  })
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

export type DrugLimits = z.infer<typeof drugLimitsSchema>;
export type DrugLibrary = z.infer<typeof drugLibrarySchema>;
export type Mixture = z.infer<typeof mixtureSchema>;
export type Prescription = z.infer<typeof prescriptionSchema>;
export type PtmSettings = z.infer<typeof ptmSchema>;
export type ClinicianBolus = z.infer<typeof clinicianBolusSchema>;
export type PumpConfig = z.infer<typeof pumpConfigSchema>;

/**
 * Every bound of the firmware in one place, so that every loop and queue has a limit and the
 * relations between limits can be asserted (tests/unit/constants.test.ts).
 */
import { DAY_MS, HOUR_MS, MINUTE_MS, NL_PER_ML } from './units.js';

/** Drugs in one reservoir mixture. */
export const mixtureDrugsMax = 4;
/** Steps of a flex schedule in one day. */
export const flexStepsMax = 24;
/** Patient boluses allowed in any rolling 24 hours: the highest setting a clinician may program. */
export const patientBolusesPer24hMax = 48;
/** Strokes in one motor batch: bounds the motor command and the arithmetic on it. */
export const strokesPerBatchMax = 1_000_000;
/** The longest a motor batch may run before the controller re-plans (and wakes). */
export const batchDurationMsMax = DAY_MS;
/** Event-log records kept in the ring; older ones are overwritten. */
export const eventLogCapacity = 4_096;
/** Alarms that can be active at once (one per catalogue entry). */
export const activeAlarmsMax = 16;
/** Batches remembered for the rolling 24-hour dose (one batch ends at least once per deadline). */
export const recentBatchesMax = 4_096;

/** Largest reservoir any supported pump model has. */
export const reservoirCapacityNlMax = 40 * NL_PER_ML;
/** Highest programmable flow (the pump's mechanical limit). */
export const rateNlPerDayMax = 24 * NL_PER_ML;
/** Lowest programmable non-zero basal flow. */
export const rateNlPerDayMin = 0;
/** Longest patient or clinician bolus. */
export const bolusDurationMsMax = 24 * HOUR_MS;
/** Shortest bolus duration: one minute keeps bolus rates within the mechanism's limit. */
export const bolusDurationMsMin = MINUTE_MS;
/** Longest patient lockout. */
export const lockoutMsMax = 24 * HOUR_MS;
/** The rolling window of patient-bolus counts and daily dose limits. */
export const rollingWindowMs = DAY_MS;
/** Highest concentration the schema accepts at all, whatever the library says (µg/mL). */
export const concentrationUgPerMlMax = 100_000;
/** A stop longer than this is flagged at restart (an overinfusion risk factor, docs/sources.md F3). */
export const longStopMs = 48 * HOUR_MS;

/** Largest dose-rate increase confirmation threshold accepted, in ppm: a 1000-fold increase. */
export const increaseFactorPpmMax = 1_000 * 1_000_000;

/**
 * INV-7 and INV-3 at the daily cap (REQ-PTM-5, REQ-LIM-5): a press is denied `dailyDoseCap`
 * exactly when the bolus would take a drug's dose in the last 24 hours past its hard maximum, as
 * the harness counts the strokes that left the pump, and no 24-hour window at the tip goes past it.
 *
 * Why a property of its own: the general timelines rarely come near a hard daily maximum (the
 * programming check keeps a therapy's own worst case within it), so in 25 runs of the denial
 * property no press met the cap. Here a day of basal near the hard maximum is followed by a
 * therapy of large PTM boluses, confirmed, and bursts of presses at the lockout: the boluses meet
 * the basal still inside the window, as after a change of therapy in the clinic.
 *
 * Method: explicit therapies (`ProgramTherapyCommand`) on the default library, one drug, judged by
 * the kit as every timeline is. A worked example first shows the cap is met.
 * Seed and run count come from FC_SEED and FC_NUM_RUNS.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultDrugLibrary } from '../../src/therapy/drugLibrary.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, NL_PER_ML, PG_PER_NG } from '../../src/units.js';
import {
  ClinicianBolusCommand,
  PressBurstCommand,
  ProgramTherapyCommand,
  WaitCommand,
  defaultPumpConfig,
  defaultStartRtcMs,
  replayOptions,
  runQa,
  type PumpCommand,
  type QaSetup,
} from '../../testing/index.js';
import type { DrugLimits, PtmSettings } from '../../src/therapy/schema.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 25 * Number(process.env.FC_RUNS_FACTOR ?? 1));
const file = 'tests/properties/dailyCap.property.test.ts';

/** A full default pump of one drug, first programmed at a tenth of its soft daily maximum. */
function setupOf(limits: DrugLimits, concentrationUgPerMl: number): QaSetup {
  return {
    config: defaultPumpConfig,
    library: defaultDrugLibrary,
    mixture: [{ drug: limits.drug, concentrationUgPerMl }],
    fillNl: defaultPumpConfig.reservoirCapacityNl,
    prescription: { mode: 'continuous', doseNgPerDay: Math.floor(limits.dailyDoseNgSoftMax / 10) },
    ptm: undefined,
    startRtcMs: defaultStartRtcMs,
    catheterFill: 'firstMixture',
  };
}

/** A day of basal at `basalShare` of the hard daily maximum, then from `gapMs` before the day's end the bolus therapy, then bursts of presses at the lockout. */
function nearCap(
  limits: DrugLimits,
  basalShare: number,
  gapMs: number,
  newBasalNg: number,
  ptm: PtmSettings,
  bursts: { extra: number; waitMs: number; lateMs?: number }[],
  clinician?: { position: number; durationMs: number },
): PumpCommand[] {
  const commands: PumpCommand[] = [
    new ProgramTherapyCommand(
      { mode: 'continuous', doseNgPerDay: Math.floor(limits.dailyDoseNgHardMax * basalShare) },
      undefined,
      true,
    ),
    new WaitCommand(DAY_MS - gapMs),
    new ProgramTherapyCommand({ mode: 'continuous', doseNgPerDay: newBasalNg }, ptm, true),
  ];
  if (clinician)
    commands.push(
      new ClinicianBolusCommand('softToHard', clinician.position, clinician.durationMs, true),
    );
  for (const b of bursts)
    commands.push(
      new PressBurstCommand(
        Math.min(60, ptm.bolusesPer24hMax + b.extra),
        ptm.lockoutMs + (b.lateMs ?? 0),
      ),
      new WaitCommand(b.waitMs),
    );
  return commands;
}

const drugs = defaultDrugLibrary.drugs.filter((d) => d.bolusDoseNgHardMax > 0);

const nearCapArb = fc
  .record({
    limits: fc.constantFrom(...drugs),
    concentrationShare: fc.double({ min: 0.1, max: 1, noNaN: true }),
    basalShare: fc.double({ min: 0.6, max: 0.95, noNaN: true }),
    gapMs: fc.integer({ min: 0, max: 6 * HOUR_MS }),
    newBasalShare: fc.double({ min: 0, max: 0.2, noNaN: true }),
    bolusShare: fc.double({ min: 0.3, max: 1, noNaN: true }),
    durationMs: fc.constantFrom(MINUTE_MS, 5 * MINUTE_MS, 15 * MINUTE_MS),
    extraLockoutMs: fc.constantFrom(0, 15 * MINUTE_MS),
    clinician: fc.option(
      fc.record({
        position: fc.double({ min: 0, max: 1, noNaN: true }),
        durationMs: fc.constantFrom(MINUTE_MS, 30 * MINUTE_MS),
      }),
      { nil: undefined },
    ),
    bursts: fc.array(
      fc.record({
        extra: fc.integer({ min: 0, max: 4 }),
        // Presses at the lockout's end or a few ms to a minute after it: not only round multiples.
        lateMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 60_000 })),
        waitMs: fc.integer({ min: 0, max: 8 * HOUR_MS }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  })
  .map((r) => {
    const hard = r.limits.dailyDoseNgHardMax;
    const concentrationUgPerMl = Math.max(
      1,
      Math.floor(r.limits.concentrationUgPerMlMax * r.concentrationShare),
    );
    const bolusDoseNg = Math.max(1, Math.floor(r.limits.bolusDoseNgHardMax * r.bolusShare));
    const newBasalNg = Math.floor(hard * r.newBasalShare);
    // The bolus fits the pump's highest flow with room for the basal: at least the time 20 mL/day takes, in whole minutes.
    const bolusNl = Math.floor((bolusDoseNg * PG_PER_NG) / concentrationUgPerMl);
    const bolusDurationMs = Math.max(
      r.durationMs,
      Math.ceil((bolusNl * DAY_MS) / (20 * NL_PER_ML) / MINUTE_MS) * MINUTE_MS,
    );
    // As many boluses as keep the new therapy's own worst case just within the hard maximum.
    const bolusesPer24hMax = Math.max(
      1,
      Math.min(48, Math.floor((0.97 * hard - newBasalNg) / bolusDoseNg)),
    );
    const ptm: PtmSettings = {
      bolusDoseNg,
      bolusDurationMs,
      lockoutMs: bolusDurationMs + r.extraLockoutMs,
      bolusesPer24hMax,
    };
    return {
      setup: setupOf(r.limits, concentrationUgPerMl),
      commands: nearCap(r.limits, r.basalShare, r.gapMs, newBasalNg, ptm, r.bursts, r.clinician),
    };
  });

describe('INV-7 and INV-3 at the daily cap', () => {
  it('meets the cap in a worked example: a day of morphine at 19 mg, then 1 mg boluses', () => {
    // Morphine 10 mg/mL (hard daily maximum 20 mg, hard bolus maximum 1 mg). 19 mg/day for 23 h
    // puts about 18.2 mg in the window; the new therapy (no basal, 1 mg × 19, 0.1 mL over 10 min
    // = 14.4 mL/day) is within 20 mg on its own. The first bolus fits (about 19.2 mg); ten
    // minutes later the window still holds about 18.1 mg of basal, so the second meets the cap.
    const morphine = defaultDrugLibrary.drugs.find((d) => d.drug === 'morphine')!;
    const ptm: PtmSettings = {
      bolusDoseNg: 1_000_000,
      bolusDurationMs: 10 * MINUTE_MS,
      lockoutMs: 10 * MINUTE_MS,
      bolusesPer24hMax: 19,
    };
    const { run } = runQa(
      setupOf(morphine, 10_000),
      nearCap(morphine, 0.95, HOUR_MS, 0, ptm, [{ extra: 0, waitMs: HOUR_MS }]),
    );
    const presses = [
      ...run.rig.records('pressGranted').map((r) => ({ seq: r.seq, outcome: 'granted' })),
      ...run.rig.records('pressDenied').map((r) => ({ seq: r.seq, outcome: r.reason })),
    ];
    const outcomes = presses.sort((a, b) => a.seq - b.seq).map((p) => p.outcome);
    expect(outcomes.slice(0, 2)).toEqual(['granted', 'dailyDoseCap']);
  });

  it(`every press near the cap is granted or denied as the harness's 24-hour count says (seed ${seed}, ${numRuns} runs)`, () => {
    fc.assert(
      fc.property(nearCapArb, ({ setup, commands }) => {
        runQa(setup, commands);
      }),
      { seed, numRuns, ...replayOptions(file) },
    );
  });
});

/**
 * ALM-CLEAR (REQ-ALM-1): alarms are latched; a clear removes exactly the alarms whose condition
 * has gone and logs a refusal naming each one it keeps.
 *
 * Method: first a worked timeline on the harness (a reservoir run down to its low threshold, a
 * stall held by its window, each cleared before and after its condition ends), judged by the
 * kit's `checkAlarmClear`, with a fabricated wrong clear to show the check fails when the rule is
 * broken. Then model-based timelines weighted towards small fills, long waits, stalls and clears:
 * every `clear alarms` command of the QA kit is judged the same way.
 * Seed and run count come from FC_SEED and FC_NUM_RUNS.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, MINUTE_MS, NL_PER_ML } from '../../src/units.js';
import {
  InvariantViolation,
  PumpRig,
  alarmConditionByRule,
  checkAlarmClear,
  defaultPumpConfig,
  qaScenarioArb,
  replayOptions,
  runQa,
} from '../../testing/index.js';
import type { AlarmCode } from '../../src/alarms.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 25 * Number(process.env.FC_RUNS_FACTOR ?? 1));
const file = 'tests/properties/alarmClear.property.test.ts';

/** A clear as the QA kit's command judges it: the conditions by rule just before, then the outcome. */
function judgedClear(rig: PumpRig) {
  const conditions = rig.controller.context.alarms.map(
    (a) => [a.code, alarmConditionByRule(rig, a.code)] as const,
  );
  const outcome = rig.command({ type: 'cmd.clearAlarms' });
  checkAlarmClear(rig, conditions, outcome);
  return { conditions, outcome, active: rig.controller.context.alarms.map((a) => a.code) };
}

describe('ALM-CLEAR latched alarms', () => {
  it('keeps the low-reservoir alarm until a refill ends its condition, then clears it', () => {
    // Morphine 1 mg/mL at 1 mg/day (1 mL/day), 2.5 mL filled: the estimate reaches the 2 mL
    // low threshold after half a day.
    const rig = new PumpRig();
    rig.command({
      type: 'cmd.refill',
      withdrawnNl: 0,
      addedNl: 2_500_000,
      mixture: [{ drug: 'morphine', concentrationUgPerMl: 1_000 }],
    });
    rig.command({
      type: 'cmd.program',
      prescription: { mode: 'continuous', doseNgPerDay: 1_000_000 },
    });
    rig.command({ type: 'cmd.resume' });
    rig.advance(DAY_MS / 2 + HOUR_MS);
    const low = judgedClear(rig);
    expect(low.conditions).toEqual([['lowReservoir', true]]);
    expect(low.active).toEqual(['lowReservoir']);
    expect(low.outcome.refused.map((r) => r.field)).toEqual(['alarms.lowReservoir']);

    rig.command({
      type: 'cmd.refill',
      withdrawnNl: rig.motor.trueReservoirNl,
      addedNl: 20 * NL_PER_ML,
    });
    const refilled = judgedClear(rig);
    expect(refilled.conditions).toEqual([['lowReservoir', false]]);
    expect(refilled.active).toEqual([]);
    expect(refilled.outcome.records.filter((r) => r.type === 'alarmCleared')).toHaveLength(1);
  });

  it('keeps the stall alarm while the motor is stalled', () => {
    const rig = new PumpRig();
    rig.command({
      type: 'cmd.refill',
      withdrawnNl: 0,
      addedNl: 20 * NL_PER_ML,
      mixture: [{ drug: 'morphine', concentrationUgPerMl: 1_000 }],
    });
    rig.command({
      type: 'cmd.program',
      prescription: { mode: 'continuous', doseNgPerDay: 1_000_000 },
    });
    rig.command({ type: 'cmd.resume' });
    rig.injectStall(DAY_MS);
    rig.advance(2 * HOUR_MS); // three attempts ten minutes apart raise the alarm
    const stalled = judgedClear(rig);
    expect(stalled.conditions).toEqual([['motorStall', true]]);
    expect(stalled.active).toEqual(['motorStall']);
  });

  it('fails a clear that removes an alarm whose condition holds, or keeps one whose condition has gone', () => {
    const rig = new PumpRig();
    rig.command({
      type: 'cmd.refill',
      withdrawnNl: 0,
      addedNl: 20 * NL_PER_ML,
      mixture: [{ drug: 'morphine', concentrationUgPerMl: 1_000 }],
    });
    // A pump that kept nothing and logged nothing, judged against a condition that held.
    const silent = { atMs: rig.nowMs, records: [], refused: [], tones: [] };
    const held: [AlarmCode, boolean][] = [['lowReservoir', true]];
    expect(() => checkAlarmClear(rig, held, silent)).toThrow(InvariantViolation);
    // The same clear is right for a condition that had gone, if the pump logged it.
    const cleared = {
      ...silent,
      records: [
        { seq: 0, atMs: 0, rtcMs: 0, type: 'alarmCleared' as const, code: 'lowReservoir' as const },
      ],
    };
    expect(() => checkAlarmClear(rig, [['lowReservoir', false]], cleared)).not.toThrow();
    expect(() => checkAlarmClear(rig, [['lowReservoir', false]], silent)).toThrow(
      /removed without an alarmCleared record/,
    );
  });

  it(`every clear in random timelines removes exactly the alarms whose condition has gone (seed ${seed}, ${numRuns} runs)`, () => {
    const weights = {
      wait: 6,
      refill: 2,
      stall: 3,
      stopResumeClear: 5,
      press: 1,
      pressBurst: 1,
      clinicianBolus: 1,
      reprogram: 1,
      setClock: 1,
      invalidReprogram: 0,
      invalidRefill: 0,
    };
    fc.assert(
      fc.property(qaScenarioArb({ stalls: true, weights }), ({ setup, commands }) => {
        runQa(setup, commands);
      }),
      { seed, numRuns, ...replayOptions(file) },
    );
  });
});

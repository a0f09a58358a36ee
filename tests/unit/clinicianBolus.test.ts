/**
 * The checks of a clinician bolus (`clinicianBolusRefusal`, src/pump/commands.ts), on contexts
 * built by hand: each refusal names its field, value and limit (REQ-CMD-1), and each limit is
 * tested exactly at its boundary, where `<` and `<=` part (REQ-DOS-3 the pump's highest flow,
 * the reservoir above empty). The hard and soft dose maxima and the daily cap are the shared
 * checks of src/dosing/limits.ts, tested in tests/unit/limits.test.ts and the QA suite.
 */
import { describe, expect, it } from 'vitest';
import { AssertionFailure } from '../../src/assert.js';
import { rateNlPerDayMax } from '../../src/constants.js';
import { clinicianBolusRefusal } from '../../src/pump/commands.js';
import type { PumpEvent } from '../../src/pump/types.js';
import { DAY_MS, HOUR_MS, formatMl } from '../../src/units.js';
import { defaultPumpConfig } from '../../testing/harness.js';
import { infusing } from './contexts.js';

const empty = defaultPumpConfig.emptyReservoirNl;

/** 0.1 mg over an hour: 10,000 nL at 240,000 nL/day on top of the basal rate. */
const bolus = (over: Partial<{ doseNg: number; durationMs: number }> = {}): PumpEvent => ({
  type: 'cmd.clinicianBolus',
  doseNg: 100_000,
  durationMs: HOUR_MS,
  nowMs: 0,
  ...over,
});

describe('clinicianBolusRefusal', () => {
  it('accepts 0.1 mg of morphine over an hour on a pump infusing 0.5 mL/day', () => {
    expect(clinicianBolusRefusal(infusing(), bolus())).toBeUndefined();
  });

  it('is asked only of a clinician bolus: anything else is our bug', () => {
    expect(() => clinicianBolusRefusal(infusing(), { type: 'cmd.stop', nowMs: 0 })).toThrow(
      new AssertionFailure('clinician bolus check'),
    );
  });

  it('refuses a dose the schema refuses, echoing the value given', () => {
    expect(clinicianBolusRefusal(infusing(), bolus({ doseNg: -1 }))).toMatchObject({
      field: 'clinicianBolus.doseNg',
      value: '-0.001 µg', // -1 ng, shown in the dose's unit
    });
  });

  it('refuses while not infusing, during a bolus, and under a critical alarm', () => {
    expect(clinicianBolusRefusal(infusing(0, { mode: 'off' }), bolus())).toMatchObject({
      field: 'therapy',
      value: 'not infusing',
    });
    // Infusing with no mixture recorded cannot arise from the workflow; the check refuses it rather than guess a concentration.
    expect(clinicianBolusRefusal(infusing(0, { mixture: undefined }), bolus())).toMatchObject({
      field: 'therapy',
      value: 'not infusing',
    });
    const running = {
      kind: 'patient' as const,
      startMs: 0,
      volumeNl: 1,
      rateNlPerDay: 1,
      endMs: DAY_MS,
    };
    expect(clinicianBolusRefusal(infusing(0, { bolus: running }), bolus())).toMatchObject({
      field: 'therapy',
      value: 'a bolus is running',
    });
    const alarms = [{ code: 'motorStall' as const, raisedAtMs: 0, nextToneMs: 0 }];
    expect(clinicianBolusRefusal(infusing(0, { alarms }), bolus())).toMatchObject({
      field: 'alarms',
      limit: 'no critical alarm',
    });
    const lowReservoir = [{ code: 'lowReservoir' as const, raisedAtMs: 0, nextToneMs: 0 }];
    expect(clinicianBolusRefusal(infusing(0, { alarms: lowReservoir }), bolus())).toBeUndefined();
  });

  it('refuses a dose too small for one nanolitre of the mixture', () => {
    // 9 ng at 10 ng/nL is 0.9 nL: rounded down to nothing.
    expect(clinicianBolusRefusal(infusing(), bolus({ doseNg: 9 }))).toMatchObject({
      field: 'clinicianBolus.doseNg',
      limit: 'at least one nanolitre of solution',
    });
    // 10 ng is exactly one nanolitre.
    expect(clinicianBolusRefusal(infusing(), bolus({ doseNg: 10 }))).toBeUndefined();
  });

  it('accepts a bolus that leaves the reservoir exactly at empty, and refuses one nanolitre more', () => {
    expect(
      clinicianBolusRefusal(infusing(0, { reservoirNl: empty + 10_000 }), bolus()),
    ).toBeUndefined();
    const refused = clinicianBolusRefusal(infusing(0, { reservoirNl: empty + 9_999 }), bolus());
    expect(refused).toMatchObject({ field: 'clinicianBolus.doseNg', value: formatMl(10_000) });
    expect(refused?.limit).toBe(`reservoir above empty, ${formatMl(9_999)} available`);
  });

  it("accepts a flow exactly at the pump's highest (basal + bolus) and refuses one nL/day more (REQ-DOS-3)", () => {
    // Morphine at 0.5 mg/mL, so that a day at the highest flow (12 mg) stays within the daily cap:
    // 0.1 mg is 200,000 nL, over an hour 4,800,000 nL/day on top of the basal rate.
    const bolusFlow = 4_800_000;
    const weak = [{ drug: 'morphine', concentrationUgPerMl: 500 }];
    const at = (basal: number) =>
      infusing(0, { mixture: weak, steps: { startsMs: [0], ratesNlPerDay: [basal] } });
    expect(clinicianBolusRefusal(at(rateNlPerDayMax - bolusFlow), bolus())).toBeUndefined();
    expect(clinicianBolusRefusal(at(rateNlPerDayMax - bolusFlow + 1), bolus())).toMatchObject({
      field: 'clinicianBolus.durationMs',
      rule: 'hard',
    });
  });
});

/**
 * The kit's own programmed-volume oracle (testing/programmedVolume.ts), on observations written by
 * hand: every figure below is worked out beside it, not taken from the firmware.
 */
import { describe, expect, it } from 'vitest';
import { ProgrammedVolume, type ProgrammeObservation } from '../../testing/programmedVolume.js';
import { defaultPumpConfig } from '../../testing/harness.js';
import { defaultDrugLibrary } from '../../src/therapy/drugLibrary.js';
import type { Prescription } from '../../src/therapy/schema.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/units.js';

const morphine = [{ drug: 'morphine', concentrationUgPerMl: 10_000 }];
/** 5 mg/day of morphine 10 mg/mL: 500,000 nL/day. Flex: 0 until 06:00, then that. */
const continuous: Prescription = { mode: 'continuous', doseNgPerDay: 5_000_000 };
const flex: Prescription = {
  mode: 'flex',
  steps: [
    { startMinute: 0, doseNgPerDay: 0 },
    { startMinute: 360, doseNgPerDay: 5_000_000 },
  ],
};

const seen = (nowMs: number, over: Partial<ProgrammeObservation> = {}): ProgrammeObservation => ({
  nowMs,
  therapyState: 'infusing.basal',
  prescription: continuous,
  mixture: morphine,
  rtcOffsetMs: 0,
  bolus: undefined,
  bridge: undefined,
  ...over,
});

const oracle = () => new ProgrammedVolume(defaultPumpConfig, defaultDrugLibrary, 0);

describe('the kit’s programmed volume (INV-4’s oracle)', () => {
  it('integrates a basal and follows the pump’s time of day across a flex step', () => {
    const p = oracle();
    p.observe(seen(0));
    expect(p.programmedNl(HOUR_MS)).toBeCloseTo(500_000 / 24, 9);
    // Flex from 04:00 on the pump's clock (offset 4 h): 2 h at zero, then 2 h at 500,000 nL/day.
    const f = oracle();
    f.observe(seen(0, { prescription: flex, rtcOffsetMs: 4 * HOUR_MS }));
    expect(f.programmedNl(4 * HOUR_MS)).toBeCloseTo(500_000 / 12, 9);
  });

  it('adds nothing stopped and the minimum rate at the safe minimum, whatever the prescription', () => {
    const p = oracle();
    p.observe(seen(0, { therapyState: 'stopped' }));
    p.observe(seen(HOUR_MS, { therapyState: 'minimumRate' }));
    // The pump model's 48,000 nL/day (half morphine's 20 mg hard maximum at 10 mg/mL is 1 mL/day).
    expect(p.programmedNl(2 * HOUR_MS)).toBeCloseTo(2_000, 9);
  });

  it('spreads a bolus evenly and cuts it where it was cut; a priming bolus replaces the basal', () => {
    const p = oracle();
    const bolus = { kind: 'patient', startMs: 0, endMs: 10 * MINUTE_MS, volumeNl: 50_000 };
    p.observe(seen(0, { bolus }));
    expect(p.programmedNl(5 * MINUTE_MS)).toBeCloseTo(25_000 + 500_000 / 288, 6);
    // Cancelled at 5 min: the rest is never programmed.
    p.observe(seen(5 * MINUTE_MS));
    expect(p.programmedNl(10 * MINUTE_MS)).toBeCloseTo(25_000 + 500_000 / 144, 6);
    const q = oracle();
    q.observe(seen(0, { bolus: { ...bolus, kind: 'priming' } }));
    expect(q.programmedNl(HOUR_MS)).toBeCloseTo(50_000 + (500_000 * 50) / (24 * 60), 6);
  });

  it('runs the schedule of before a drug change through a flowing bridge, until its end', () => {
    const p = oracle();
    p.observe(seen(0));
    // A refill to 20 mg/mL: the new schedule is 250,000 nL/day, the bridge keeps 500,000 for 2 h.
    const bridge = {
      startMs: 0,
      endMs: 2 * HOUR_MS,
      pathMixture: morphine,
      steps: { startsMs: [0], ratesNlPerDay: [1] }, // the pump's record: not what the kit uses
    };
    p.observe(seen(0, { mixture: [{ drug: 'morphine', concentrationUgPerMl: 20_000 }], bridge }));
    expect(p.programmedNl(4 * HOUR_MS)).toBeCloseTo((500_000 * 2 + 250_000 * 2) / 24, 6);
    expect(p.programmedNl(DAY_MS)).toBeCloseTo((500_000 * 2 + 250_000 * 22) / 24, 6);
  });

  it('keeps the schedule of before the first change when a refill comes during a paused bridge', () => {
    // 500,000 nL/day before a change to 20 mg/mL (250,000): the bridge opens paused (safe minimum
    // rate). A second refill, to 25 mg/mL (200,000), still bridges the first schedule: the tip
    // holds the mixture of before both. Deep run, seed 4: the kit took the paused bridge's
    // schedule from the second mixture and was 2 nL off the pump after 46 min.
    const p = oracle();
    p.observe(seen(0));
    const paused = {
      startMs: 0,
      endMs: 0,
      pausedRateNlPerDay: 48_000,
      pathMixture: morphine,
      steps: { startsMs: [0], ratesNlPerDay: [1] },
    };
    const strong = [{ drug: 'morphine', concentrationUgPerMl: 20_000 }];
    p.observe(seen(0, { therapyState: 'minimumRate', mixture: strong, bridge: paused }));
    const second = { ...paused, startMs: HOUR_MS, endMs: HOUR_MS };
    const stronger = [{ drug: 'morphine', concentrationUgPerMl: 25_000 }];
    p.observe(seen(HOUR_MS, { therapyState: 'minimumRate', mixture: stronger, bridge: second }));
    const flowing = { ...second, pausedRateNlPerDay: undefined, endMs: 3 * HOUR_MS };
    p.observe(seen(HOUR_MS, { mixture: stronger, bridge: flowing }));
    // 1 h at 48,000 nL/day, then 2 h of the first schedule: 2,000 + 41,666.67 nL.
    expect(p.programmedNl(3 * HOUR_MS)).toBeCloseTo(2_000 + (500_000 * 2) / 24, 6);
  });
});

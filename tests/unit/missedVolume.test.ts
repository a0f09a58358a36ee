/**
 * REQ-MOT-2: volume the pump could not deliver is dropped as missed where the blockage ends, never
 * caught up as an unplanned bolus; and only that volume (FOUND-BUGS #25: a stroke due in the
 * millisecond a batch ends is due, not missed). The stall's retry is covered in
 * tests/unit/decide.test.ts and the model tests; here the two other places a blockage ends: the
 * refill of a reservoir estimate below one stroke, and a restart.
 */
import { describe, expect, it } from 'vitest';
import { boot } from '../../src/pump/commands.js';
import { FINE_PER_NL } from '../../src/dosing/delivery.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/units.js';
import { PumpRig, defaultPumpConfig } from '../../testing/index.js';
import { infusing } from './contexts.js';

const strokeNl = defaultPumpConfig.strokeVolumeNl; // 500 nL
const strokeFine = strokeNl * FINE_PER_NL;

describe('volume missed while blocked is not caught up (REQ-MOT-2)', () => {
  it('a refill after the estimate ran below one stroke delivers no catch-up bolus', () => {
    // Morphine 10 mg/mL at 2 mg/day (200 000 nL/day) from 100 000 nL, on a pump whose alarms come
    // at 20 000 nL (low) and 10 000 nL (empty; then the safe minimum rate, 48 000 nL/day): the
    // estimate is below a stroke after some 0.4 d + 5 h; then a day passes empty.
    const rig = new PumpRig({
      config: { ...defaultPumpConfig, lowReservoirNl: 20_000, emptyReservoirNl: 10_000 },
    });
    const mixture = [{ drug: 'morphine', concentrationUgPerMl: 10_000 }];
    expect(
      rig.command({ type: 'cmd.refill', withdrawnNl: 0, addedNl: 100_000, mixture }).refused,
    ).toEqual([]);
    const program = rig.command({
      type: 'cmd.program',
      prescription: { mode: 'continuous', doseNgPerDay: 2_000_000 },
      confirm: true,
    });
    expect(program.refused).toEqual([]);
    rig.command({ type: 'cmd.resume' });
    rig.advance(2 * DAY_MS);
    // The situation: the estimate is below one stroke, every stroke of the fill is out, and a day
    // or more of the safe minimum rate (48 000 nL/day, 96 strokes a day) could not be delivered.
    expect(rig.controller.context.reservoirNl).toBeLessThan(strokeNl);
    expect(rig.deliveredNlBy()).toBe(100_000);
    const owedNl = rig.programmedNl() - rig.deliveredNlBy();
    expect(owedNl).toBeGreaterThan(20 * strokeNl);
    const refill = rig.command({
      type: 'cmd.refill',
      withdrawnNl: 0,
      addedNl: 10_000_000,
      mixture,
    });
    expect(refill.refused).toEqual([]);
    rig.advance(MINUTE_MS);
    // At most the one stroke owed leaves at once (in the refill's millisecond); the rest was missed.
    expect(rig.deliveredNlBy() - 100_000).toBeLessThanOrEqual(strokeNl);
    expect(rig.controller.context.missedFine).toBeGreaterThan(
      (owedNl - strokeNl) * FINE_PER_NL - 1,
    );
  });

  it('a restart drops what the programme owed beyond one stroke while the pump was reset', () => {
    // The last persisted step settled at 0; the pump restarts 6 h later. At 500 000 nL/day the
    // programme owes 125 000 nL (250 strokes) for those hours: one stroke is kept, the rest missed.
    const context = infusing(0);
    const step = boot(infusing(0), {
      type: 'boot',
      nowMs: 6 * HOUR_MS,
      rtcMs: 1_736_121_600_000 + 6 * HOUR_MS,
      battery: 'ok',
      lowBatteryReset: false,
      restored: { context, therapy: 'infusing', memoryError: false, inFlightStrokes: 0 },
    });
    expect(step.ctx.owedFine).toBe(strokeFine);
    expect(step.ctx.missedFine).toBe(125_000 * FINE_PER_NL - strokeFine);
  });
});

/**
 * Battery end of life (issue 4, docs/sources.md F8): the charge model drains by standby, strokes and
 * telemetry; ERI comes at least 90 days before EOS at unchanged settings; at EOS the critical alarm
 * sounds and infusion stops; a low-battery reset falls back to the safe minimum rate.
 * Method: the simulated cell alone against hand arithmetic, then the controller on a small cell.
 */
import { describe, expect, it } from 'vitest';
import { SimBattery, SimAnnunciator, SimButton } from '../../hal/sim/simPeripherals.js';
import { SimClock } from '../../hal/sim/simClock.js';
import { SimMotor } from '../../hal/sim/simMotor.js';
import { SimNvm } from '../../hal/sim/simNvm.js';
import { Controller } from '../../src/controller.js';
import { defaultDrugLibrary } from '../../src/therapy/drugLibrary.js';
import { DAY_MS, HOUR_MS } from '../../src/units.js';
import { Prng } from '../../sim/prng.js';
import { VirtualClock } from '../../sim/virtualClock.js';

const options = {
  capacityUah: 100_000,
  standbyUahPerDay: 100,
  uahPerStroke: 0.5,
  uahPerTelemetry: 100,
  eosUah: 10_000,
  eriLeadMs: 100 * DAY_MS,
};

describe('SimBattery', () => {
  it('raises ERI at least 90 days before EOS at a constant drain', () => {
    const clock = new VirtualClock();
    const battery = new SimBattery(clock, options);
    const levels: string[] = [];
    battery.listen((e) => levels.push(e.level));
    // 1000 strokes a day = 500 µAh/day + 100 standby = 600 µAh/day; 90,000 µAh above EOS lasts 150 days.
    for (let day = 0; day < 200; day++) {
      clock.runUntil(day * DAY_MS + HOUR_MS);
      battery.consume({ kind: 'strokes', count: 1000 });
    }
    clock.runUntil(200 * DAY_MS);
    expect(levels).toEqual(['eri', 'eos']);
    expect(battery.eosAtMs! - battery.eriAtMs!).toBeGreaterThanOrEqual(90 * DAY_MS);
    // Used by day d at 01:00, after that day's strokes: 100 × (d + 1/24) + 500 × (d + 1) µAh.
    // EOS when that reaches 90,000: d ≥ 149.2, so on day 150 at 01:00.
    expect(battery.eosAtMs).toBe(150 * DAY_MS + HOUR_MS);
  });
});

describe('controller at battery end of life', () => {
  it('raises ERI (non-critical), then EOS (critical) and stops infusing', () => {
    const clock = new VirtualClock();
    const motor = new SimMotor(
      clock,
      { strokeVolumeNl: 500, strokeVolumeErrorPpm: 0, strokeVolumeNoisePpm: 0, stallWindows: [] },
      new Prng(1),
    );
    // 1 mL/day of 0.5 µL strokes: 2000 strokes = 1000 µAh/day, plus 100 standby. 140,000 µAh above
    // EOS last about 127 days; ERI comes when 110,000 µAh (100 days) are left, about day 27.
    const battery = new SimBattery(clock, { ...options, capacityUah: 150_000 });
    motor.onStrokes = (r) => battery.consume({ kind: 'strokes', count: r.strokes });
    motor.trueReservoirNl = 40_000_000;
    const hal = {
      clock: new SimClock(clock, 0),
      motor,
      nvm: new SimNvm(),
      annunciator: new SimAnnunciator(clock),
      battery,
      button: new SimButton(),
    };
    const config = {
      model: 't',
      reservoirCapacityNl: 40_000_000,
      strokeVolumeNl: 500,
      lowReservoirNl: 2_000_000,
      emptyReservoirNl: 500_000,
      safeMinimumRateNlPerDay: 48_000,
      stallRetryMs: 600_000,
      stallAttemptsMax: 3,
      refillDiscrepancyPercentMax: 20,
    };
    const c = new Controller({ hal, config, library: defaultDrugLibrary });
    c.boot();
    c.command({
      type: 'cmd.refill',
      withdrawnNl: 0,
      addedNl: 40_000_000,
      mixture: [{ drug: 'baclofen', concentrationUgPerMl: 500 }],
    });
    c.command({ type: 'cmd.program', prescription: { mode: 'continuous', doseNgPerDay: 500_000 } }); // 1 mL/day
    c.command({ type: 'cmd.resume' });
    // Refill every 30 days (each a telemetry session, 100 µAh) so the reservoir never runs low.
    for (let day = 30; day < 135; day += 30)
      clock.schedule(day * DAY_MS, () =>
        c.command({ type: 'cmd.refill', withdrawnNl: 10_000_000, addedNl: 40_000_000 }),
      );
    clock.runUntil(135 * DAY_MS);
    const raised = c.log
      .records()
      .filter((r) => r.type === 'alarmRaised' && r.code.startsWith('battery'));
    expect(raised.map((r) => r.type === 'alarmRaised' && r.code)).toEqual([
      'batteryEri',
      'batteryEos',
    ]);
    const [eri, eos] = raised;
    expect(eos!.atMs - eri!.atMs).toBeGreaterThanOrEqual(90 * DAY_MS);
    expect(c.state.therapy).toBe('halted');
    const strokesAtEos = motor.strokesTotal;
    clock.runUntil(140 * DAY_MS);
    expect(motor.strokesTotal).toBe(strokesAtEos); // nothing after end of service
  });
});

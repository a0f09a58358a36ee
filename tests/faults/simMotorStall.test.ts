/**
 * The simulated motor's stall windows: a stall injected while a batch runs cuts it at the first
 * stroke inside the window; a stall cleared before that stroke comes lets the batch run on (the
 * mechanism freed itself), and a stopped batch keeps its stop.
 */
import { describe, expect, it } from 'vitest';
import { SimMotor } from '../../hal/sim/simMotor.js';
import type { MotorEvent } from '../../hal/motor.js';
import { Prng } from '../../sim/prng.js';
import { VirtualClock } from '../../sim/virtualClock.js';

function motorOn() {
  const clock = new VirtualClock(0);
  const motor = new SimMotor(
    clock,
    { strokeVolumeNl: 500, strokeVolumeErrorPpm: 0, strokeVolumeNoisePpm: 0, stallWindows: [] },
    new Prng(1),
  );
  motor.trueReservoirNl = 1_000_000;
  const events: { atMs: number; event: MotorEvent }[] = [];
  motor.listen((event) => events.push({ atMs: clock.nowMs(), event }));
  // Ten strokes, one every 1000 ms from 1000 ms.
  motor.deliver({ batchId: 1, count: 10, leadMs: 1000, intervalMs: 1000 });
  return { clock, motor, events };
}

describe('SimMotor stalls', () => {
  it('cuts a running batch at the first stroke inside an injected stall', () => {
    const { clock, motor, events } = motorOn();
    clock.runUntil(3_500);
    motor.injectStall(3_500, 10_000);
    clock.runUntil(20_000);
    expect(events).toEqual([
      {
        atMs: 4_000,
        event: { type: 'hal.motor.batchEnded', batchId: 1, strokesDone: 3, reason: 'stalled' },
      },
    ]);
    expect(motor.trueReservoirNl).toBe(1_000_000 - 3 * 500);
  });

  it('lets the batch run to its end when the stall clears before its stroke comes', () => {
    const { clock, motor, events } = motorOn();
    clock.runUntil(3_500);
    motor.injectStall(3_500, 10_000);
    clock.runUntil(3_600);
    motor.clearStalls();
    clock.runUntil(20_000);
    expect(events).toEqual([
      {
        atMs: 10_000,
        event: { type: 'hal.motor.batchEnded', batchId: 1, strokesDone: 10, reason: 'completed' },
      },
    ]);
    expect(motor.trueReservoirNl).toBe(1_000_000 - 10 * 500);
  });

  it('keeps a stop that is already reported pending', () => {
    const { clock, motor, events } = motorOn();
    clock.runUntil(2_500);
    motor.stop();
    motor.clearStalls();
    clock.runUntil(20_000);
    expect(events).toEqual([
      {
        atMs: 2_500,
        event: { type: 'hal.motor.batchEnded', batchId: 1, strokesDone: 2, reason: 'stopped' },
      },
    ]);
  });
});

/**
 * Simulated clock driver: the clock port over the harness's virtual clock.
 *
 * Monotonic time is the virtual clock's time. The real-time clock is an offset from it that a
 * clinician command (or a fault) may set. The wake alarm is one scheduled virtual-clock callback.
 */
import type { ClockEvent, ClockPort } from '../clock.js';
import type { SimScheduler } from './simTime.js';

export class SimClock implements ClockPort {
  private listener: ((e: ClockEvent) => void) | undefined;
  private wake: { cancel(): void } | undefined;
  private rtcOffsetMs: number;
  wakes = 0;

  constructor(
    private readonly clock: SimScheduler,
    rtcAtStartMs: number,
  ) {
    this.rtcOffsetMs = rtcAtStartMs - clock.nowMs();
  }

  monotonicMs(): number {
    return this.clock.nowMs();
  }

  rtcMs(): number {
    return this.clock.nowMs() + this.rtcOffsetMs;
  }

  setRtcMs(rtcMs: number): void {
    this.rtcOffsetMs = rtcMs - this.clock.nowMs();
  }

  wakeAt(atMonotonicMs: number): void {
    this.wake?.cancel();
    this.wake = this.clock.schedule(atMonotonicMs, () => {
      this.wake = undefined;
      this.wakes++;
      this.listener?.({ type: 'hal.clock.wake' });
    });
  }

  cancelWake(): void {
    this.wake?.cancel();
    this.wake = undefined;
  }

  listen(listener: (event: ClockEvent) => void): void {
    this.listener = listener;
  }
}

/**
 * Clock port: monotonic time, the real-time clock, and the single wake-up alarm.
 *
 * For controller authors:
 * - `monotonicMs()` is the only time the dose limits use. It never decreases. It is kept by the
 *   always-on timer domain, so it survives a controller reset (watchdog, brown-out); it is lost
 *   only when the battery is exhausted, and the controller treats a value lower than its last
 *   persisted one as that loss (see docs/faults.md).
 * - `rtcMs()` is wall-clock time (ms since 1970-01-01 UTC) as set by a clinician. It may jump
 *   forward or back at any moment and may be lost at reset; only the flex schedule follows it.
 * - The controller is tickless: it arms one wake-up with `wakeAt()` and sleeps. Arming again
 *   replaces the earlier alarm (as a real RTC compare register does). When the alarm fires the
 *   port calls the listener with `{ type: 'hal.clock.wake' }`, at or after the armed time, never
 *   before.
 *
 * For driver authors:
 * - The simulated driver advances virtual time only when the harness asks it to; the real-time
 *   driver uses the host's monotonic clock. Neither may call the listener re-entrantly from
 *   inside `wakeAt()`.
 */
export interface ClockPort {
  monotonicMs(): number;
  rtcMs(): number;
  /** Set the real-time clock. Does not move monotonic time. */
  setRtcMs(rtcMs: number): void;
  /** Arm the wake-up alarm at a monotonic time (replacing any earlier one). */
  wakeAt(atMonotonicMs: number): void;
  cancelWake(): void;
  listen(listener: (event: ClockEvent) => void): void;
}

export type ClockEvent = { type: 'hal.clock.wake' };

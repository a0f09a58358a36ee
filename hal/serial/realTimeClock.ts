/**
 * The real-time clock driver: the clock port on the host's monotonic clock, for runs against a
 * serial rig, and the timer source the serial adapters share.
 *
 * Two time axes, kept apart on purpose:
 * - real time (`realMs()`): milliseconds of the host's monotonic clock since the clock was made.
 *   The serial link runs on it (ack timeouts, heartbeats, link loss), because the wire is real.
 * - pump time (`monotonicMs()`): real time × `timeScale`. The controller runs on it, and every
 *   duration of the rig's application (a batch's lead and interval, a balance reading's time) is
 *   in it. With `timeScale` 1 (the default, and the only value a real rig supports) the two are
 *   equal. A larger scale compresses a test against the emulator, which must run at the same
 *   scale (docs/rig.md, "Time scale").
 *
 * Rules (hal/clock.ts): monotonic time is an integer that never decreases; the RTC is an offset
 * from it, set by a clinician command, started from `rtcStartMs` (the host's wall clock unless
 * given); `wakeAt` arms one timer, replacing the previous one, and calls the listener from that
 * timer only, never re-entrantly and never before the armed time (a timer that fires early is
 * re-armed for the rest). Timers, `performance.now()` and `Date` are allowed here, in hal/, and
 * never in src/.
 *
 * This module knows nothing of serial ports, the protocol or the controller.
 */
import type { ClockEvent, ClockPort } from '../clock.js';
import { SerialRigError } from './errors.js';

/** Node's setTimeout refuses longer delays (they fire at once): longer waits are re-armed. */
const timerDelayMsMax = 2 ** 31 - 1;
/** The largest time scale accepted: a day of pump time in two minutes. */
export const timeScaleMax = 720;

/** What the serial adapters need of time: a monotonic real-time reading and one-shot alarms. */
export interface Timers {
  /** Real milliseconds, an integer that never decreases. */
  realMs(): number;
  /** Call `run` once, at or after real time `atRealMs`. */
  setAlarm(atRealMs: number, run: () => void): { cancel(): void };
}

export interface RealTimeClockOptions {
  /** Pump milliseconds per real millisecond, 1 … `timeScaleMax`. Default 1. */
  timeScale?: number;
  /** The RTC at start, ms since 1970 UTC. Default: the host's wall clock. */
  rtcStartMs?: number;
  /** The real-time source in ms (default the global `performance.now`, read at each call so fake timers apply). */
  nowMs?: () => number;
}

export function checkTimeScale(timeScale: number, field = 'timeScale'): number {
  if (!Number.isInteger(timeScale) || timeScale < 1 || timeScale > timeScaleMax) {
    throw new SerialRigError(
      'badOption',
      `${field} is ${timeScale}, must be an integer from 1 to ${timeScaleMax}`,
    );
  }
  return timeScale;
}

/** A cancellable timer that re-arms itself until `due()` holds, then runs once. */
class Alarm {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private cancelled = false;

  constructor(
    private readonly owner: Set<Alarm>,
    private readonly delayMs: () => number,
    private readonly due: () => boolean,
    private readonly run: () => void,
  ) {
    owner.add(this);
    this.arm();
  }

  private arm(): void {
    const wait = Math.min(timerDelayMsMax, Math.max(0, Math.ceil(this.delayMs())));
    this.timer = setTimeout(() => {
      if (this.cancelled) return;
      // A timer may fire a fraction early, and a long wait is split: check, and wait again.
      if (!this.due()) {
        this.arm();
        return;
      }
      this.owner.delete(this);
      this.run();
    }, wait);
  }

  cancel(): void {
    this.cancelled = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.owner.delete(this);
  }
}

export class RealTimeClock implements ClockPort, Timers {
  readonly timeScale: number;
  private readonly now: () => number;
  private readonly originMs: number;
  private lastRealMs = 0;
  private lastPumpMs = 0;
  private rtcOffsetMs: number;
  private listener: ((event: ClockEvent) => void) | undefined;
  private wake: Alarm | undefined;
  private readonly alarms = new Set<Alarm>();
  wakes = 0;

  constructor(options: RealTimeClockOptions = {}) {
    this.timeScale = checkTimeScale(options.timeScale ?? 1);
    this.now = options.nowMs ?? (() => performance.now());
    this.originMs = this.now();
    this.rtcOffsetMs = options.rtcStartMs ?? Date.now();
  }

  /** Real time since the clock was made, as a fraction. */
  private elapsedMs(): number {
    return Math.max(0, this.now() - this.originMs);
  }

  realMs(): number {
    // Integer and never decreasing, whatever the source does.
    this.lastRealMs = Math.max(this.lastRealMs, Math.floor(this.elapsedMs()));
    return this.lastRealMs;
  }

  monotonicMs(): number {
    this.lastPumpMs = Math.max(this.lastPumpMs, Math.floor(this.elapsedMs() * this.timeScale));
    return this.lastPumpMs;
  }

  rtcMs(): number {
    return this.monotonicMs() + this.rtcOffsetMs;
  }

  setRtcMs(rtcMs: number): void {
    this.rtcOffsetMs = rtcMs - this.monotonicMs();
  }

  wakeAt(atMonotonicMs: number): void {
    this.cancelWake();
    this.wake = new Alarm(
      this.alarms,
      () => (atMonotonicMs - this.elapsedMs() * this.timeScale) / this.timeScale,
      () => this.monotonicMs() >= atMonotonicMs,
      () => {
        this.wake = undefined;
        this.wakes++;
        this.listener?.({ type: 'hal.clock.wake' });
      },
    );
  }

  cancelWake(): void {
    this.wake?.cancel();
    this.wake = undefined;
  }

  listen(listener: (event: ClockEvent) => void): void {
    this.listener = listener;
  }

  setAlarm(atRealMs: number, run: () => void): { cancel(): void } {
    return new Alarm(
      this.alarms,
      () => atRealMs - this.elapsedMs(),
      () => this.realMs() >= atRealMs,
      run,
    );
  }

  /** Call `run` once, at or after pump time `atPumpMs` (the run's scheduled events). */
  setPumpAlarm(atPumpMs: number, run: () => void): { cancel(): void } {
    return new Alarm(
      this.alarms,
      () => (atPumpMs - this.elapsedMs() * this.timeScale) / this.timeScale,
      () => this.monotonicMs() >= atPumpMs,
      run,
    );
  }

  /** Cancel every timer this clock armed, so that the process can exit. */
  close(): void {
    for (const alarm of [...this.alarms]) alarm.cancel();
    this.wake = undefined;
  }
}

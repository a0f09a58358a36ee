/**
 * Simulated annunciator, patient button and battery.
 *
 * The annunciator records every tone with its time. The button turns a scheduled press into a
 * port event. The battery is a charge model (standby drain per day plus a charge per stroke) with
 * elective-replacement (ERI) and end-of-service (EOS) levels; it reports level changes as events,
 * queued through the virtual clock, never from inside a call.
 */
import type { AnnunciatorPort, TonePattern } from '../annunciator.js';
import type { BatteryConsumption, BatteryEvent, BatteryLevel, BatteryPort, BatteryStatus } from '../battery.js';
import type { ButtonEvent, ButtonPort } from '../button.js';
import { HalError } from '../halError.js';
import type { VirtualClock } from '../../sim/virtualClock.js';
import { DAY_MS } from '../../src/units.js';

export class SimAnnunciator implements AnnunciatorPort {
  readonly tones: { atMs: number; pattern: TonePattern }[] = [];
  broken = false;

  constructor(private readonly clock: VirtualClock) {}

  sound(pattern: TonePattern): void {
    if (this.broken) throw new HalError('other', 'the piezo does not respond');
    this.tones.push({ atMs: this.clock.nowMs(), pattern });
  }
}

export class SimButton implements ButtonPort {
  private listener: ((e: ButtonEvent) => void) | undefined;
  presses = 0;

  listen(listener: (event: ButtonEvent) => void): void {
    this.listener = listener;
  }

  /** The patient presses the button now. */
  press(): void {
    this.presses++;
    this.listener?.({ type: 'hal.button.pressed' });
  }
}

export interface SimBatteryOptions {
  capacityUah: number;
  standbyUahPerDay: number;
  uahPerStroke: number;
  uahPerTelemetry: number;
  eriUah: number;
  eosUah: number;
}

export class SimBattery implements BatteryPort {
  private listener: ((e: BatteryEvent) => void) | undefined;
  private consumedUah = 0;
  private level: BatteryLevel = 'ok';
  private readonly startMs: number;
  lowBatteryReset = false;

  constructor(
    private readonly clock: VirtualClock,
    readonly options: SimBatteryOptions,
  ) {
    this.startMs = clock.nowMs();
  }

  remainingUah(atMs = this.clock.nowMs()): number {
    const standby = (this.options.standbyUahPerDay * (atMs - this.startMs)) / DAY_MS;
    return Math.max(0, Math.floor(this.options.capacityUah - standby - this.consumedUah));
  }

  status(): BatteryStatus {
    this.update();
    const s = { level: this.level, remainingUah: this.remainingUah(), lowBatteryReset: this.lowBatteryReset };
    this.lowBatteryReset = false;
    return s;
  }

  consume(what: BatteryConsumption): void {
    this.consumedUah += what.kind === 'strokes' ? what.count * this.options.uahPerStroke : this.options.uahPerTelemetry;
    this.update();
  }

  listen(listener: (event: BatteryEvent) => void): void {
    this.listener = listener;
  }

  /** Standby drain alone: when the charge will reach a level, if no strokes were delivered. */
  standbyCrossingMs(levelUah: number): number {
    const spare = this.options.capacityUah - this.consumedUah - levelUah;
    return this.startMs + Math.ceil((spare * DAY_MS) / this.options.standbyUahPerDay);
  }

  /** Re-evaluate the level; a change is reported through the virtual clock. */
  update(): void {
    const r = this.remainingUah();
    const level: BatteryLevel = r <= this.options.eosUah ? 'eos' : r <= this.options.eriUah ? 'eri' : 'ok';
    if (level === this.level || (this.level === 'eos') || (this.level === 'eri' && level === 'ok')) return;
    this.level = level;
    this.clock.schedule(this.clock.nowMs(), () => this.listener?.({ type: 'hal.battery.levelChanged', level }));
  }
}

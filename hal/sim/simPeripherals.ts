/**
 * Simulated annunciator, patient button and battery.
 *
 * The annunciator records every tone with its time. The button turns a scheduled press into a
 * port event. The battery is a charge model (standby drain per day plus a charge per stroke) with
 * elective-replacement (ERI) and end-of-service (EOS) levels; it reports level changes as events,
 * queued through the virtual clock, never from inside a call.
 */
import type { AnnunciatorPort, TonePattern } from '../annunciator.js';
import type {
  BatteryConsumption,
  BatteryEvent,
  BatteryLevel,
  BatteryPort,
  BatteryStatus,
} from '../battery.js';
import type { ButtonEvent, ButtonPort } from '../button.js';
import { HalError } from '../halError.js';
import type { SimScheduler } from './simTime.js';
import { DAY_MS } from '../../src/units.js';

export class SimAnnunciator implements AnnunciatorPort {
  readonly tones: { atMs: number; pattern: TonePattern }[] = [];
  broken = false;

  constructor(private readonly clock: SimScheduler) {}

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
  /** Charge of a new cell (µAh). */
  capacityUah: number;
  /** Drain of the electronics asleep, per day (µAh/day). */
  standbyUahPerDay: number;
  /** Charge one motor stroke costs (µAh). */
  uahPerStroke: number;
  /** Charge one telemetry session (a clinician programming session) costs (µAh). */
  uahPerTelemetry: number;
  /** End of service: infusion stops below this charge (µAh). */
  eosUah: number;
  /** The elective replacement indicator comes at least this long before end of service (ms). */
  eriLeadMs: number;
}

/**
 * A cell of an implant's size with placeholder figures (UNCONFIRMED: real longevity depends on the
 * flow rate and is not published in what we found, docs/sources.md §1.1): 1.5 Ah, 120 µAh/day asleep,
 * 0.4 µAh a stroke (about 7 years at 0.5 mL/day of 0.5 µL strokes), 100 µAh a telemetry session.
 */
export const batteryDefaults: SimBatteryOptions = {
  capacityUah: 1_500_000,
  standbyUahPerDay: 120,
  uahPerStroke: 0.4,
  uahPerTelemetry: 100,
  eosUah: 50_000,
  eriLeadMs: 100 * DAY_MS, // 90 days required, 10 days of margin for a rising drain
};

/**
 * The cell and its fuel gauge. ERI is raised when the charge above end of service would last no
 * more than `eriLeadMs` at the drain of the last week (standby plus strokes plus telemetry), so at
 * unchanged settings ERI comes at least that long before EOS (90 days: docs/sources.md S5). EOS is a
 * charge threshold. Levels only move forward: ok → eri → eos.
 */
export class SimBattery implements BatteryPort {
  private listener: ((e: BatteryEvent) => void) | undefined;
  private consumedUah = 0;
  private level: BatteryLevel = 'ok';
  private readonly startMs: number;
  /** Consumption (µAh) other than standby, per whole day since start, for the drain estimate. */
  private readonly dailyUah = new Map<number, number>();
  lowBatteryReset = false;
  eriAtMs: number | undefined;
  eosAtMs: number | undefined;

  constructor(
    private readonly clock: SimScheduler,
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
    const s = {
      level: this.level,
      remainingUah: this.remainingUah(),
      lowBatteryReset: this.lowBatteryReset,
    };
    this.lowBatteryReset = false;
    return s;
  }

  consume(what: BatteryConsumption): void {
    const uah =
      what.kind === 'strokes'
        ? what.count * this.options.uahPerStroke
        : this.options.uahPerTelemetry;
    this.consumedUah += uah;
    const day = Math.floor((this.clock.nowMs() - this.startMs) / DAY_MS);
    this.dailyUah.set(day, (this.dailyUah.get(day) ?? 0) + uah);
    this.dailyUah.delete(day - 8);
    this.update();
  }

  listen(listener: (event: BatteryEvent) => void): void {
    this.listener = listener;
  }

  /** Drain per day the gauge projects with: standby plus the average of the last 7 whole days. */
  projectedUahPerDay(): number {
    const today = Math.floor((this.clock.nowMs() - this.startMs) / DAY_MS);
    let sum = 0;
    let days = 0;
    for (let d = today - 7; d < today; d++) {
      if (d < 0) continue;
      sum += this.dailyUah.get(d) ?? 0;
      days++;
    }
    const active = days > 0 ? sum / days : (this.dailyUah.get(today) ?? 0);
    return this.options.standbyUahPerDay + active;
  }

  /**
   * A fault to simulate: the cell loses charge at once, down to the elective-replacement level
   * (`eri`: just inside the lead time) or to end of service (`eos`). A cell never gains charge.
   */
  drainTo(level: 'eri' | 'eos'): void {
    const leadUah = Math.floor((this.projectedUahPerDay() * this.options.eriLeadMs) / DAY_MS);
    const targetUah = this.options.eosUah + (level === 'eri' ? leadUah : 0);
    this.consumedUah += Math.max(0, this.remainingUah() - targetUah);
    this.update();
  }

  /** Re-evaluate the level; a change is reported through the virtual clock. */
  update(): void {
    const remaining = this.remainingUah();
    const leadUah = (this.projectedUahPerDay() * this.options.eriLeadMs) / DAY_MS;
    const level: BatteryLevel =
      remaining <= this.options.eosUah
        ? 'eos'
        : remaining - this.options.eosUah <= leadUah
          ? 'eri'
          : 'ok';
    const order = { ok: 0, eri: 1, eos: 2 } as const;
    if (order[level] <= order[this.level]) return;
    this.level = level;
    if (level === 'eri' || (level === 'eos' && this.eriAtMs === undefined))
      this.eriAtMs = this.clock.nowMs();
    if (level === 'eos') this.eosAtMs = this.clock.nowMs();
    this.clock.schedule(this.clock.nowMs(), () =>
      this.listener?.({ type: 'hal.battery.levelChanged', level }),
    );
  }
}

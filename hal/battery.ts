/**
 * Battery port: what the power supervisor knows about the cell.
 *
 * For controller authors: `status()` is cheap and side-effect free. The supervisor reports
 * transitions as events; the controller also reads `status()` when it wakes. Consumption is
 * reported to the driver with `consume()` so a simulated cell can drain by therapy activity
 * (standby, strokes, telemetry); a real cell ignores it.
 *
 * For driver authors: `level` moves only forward: ok → eri → eos. A brown-out that resets the
 * controller is reported by `status().lowBatteryReset` at start-up.
 */
export type BatteryLevel = 'ok' | 'eri' | 'eos';

export interface BatteryStatus {
  level: BatteryLevel;
  /** Remaining charge in microampere-hours, as the fuel gauge estimates it. */
  remainingUah: number;
  /** True once after a reset caused by a battery brown-out. */
  lowBatteryReset: boolean;
}

export type BatteryConsumption = { kind: 'strokes'; count: number } | { kind: 'telemetry' };

export type BatteryEvent = { type: 'hal.battery.levelChanged'; level: BatteryLevel };

export interface BatteryPort {
  status(): BatteryStatus;
  consume(what: BatteryConsumption): void;
  listen(listener: (event: BatteryEvent) => void): void;
}

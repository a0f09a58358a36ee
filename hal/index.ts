/** The set of ports a controller runs on. A driver set (simulated or serial) provides all of them. */
import type { AnnunciatorPort } from './annunciator.js';
import type { BatteryPort } from './battery.js';
import type { ButtonPort } from './button.js';
import type { ClockPort } from './clock.js';
import type { MotorPort } from './motor.js';
import type { NvmPort } from './nvm.js';

export interface Hal {
  clock: ClockPort;
  motor: MotorPort;
  nvm: NvmPort;
  annunciator: AnnunciatorPort;
  battery: BatteryPort;
  button: ButtonPort;
}

export type { AnnunciatorPort, TonePattern } from './annunciator.js';
export type {
  BatteryPort,
  BatteryStatus,
  BatteryLevel,
  BatteryEvent,
  BatteryConsumption,
} from './battery.js';
export type { ButtonPort, ButtonEvent } from './button.js';
export type { ClockPort, ClockEvent } from './clock.js';
export type { MotorPort, MotorEvent, StrokeBatch, BatchEndReason } from './motor.js';
export type { NvmPort } from './nvm.js';
export { HalError, isHalError, type HalErrorKind } from './halError.js';

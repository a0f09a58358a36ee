/**
 * `itpump` as a library: the controller (the firmware core), the ports it runs on, the simulated
 * drivers, the scenario loader and the virtual-time runner. The QA kit is `itpump/testing`.
 *
 * ```ts
 * import { loadScenario, runScenario } from 'itpump';
 * const result = runScenario(loadScenario('my-scenario.yaml'), { seed: 7 });
 * console.log(result.summary.presses.granted);
 * ```
 * docs/library.md walks through it, and through a controller on hand-wired simulated drivers.
 */

// The firmware core.
export { Controller, type ControllerOptions } from '../src/controller.js';
export type { CommandEvent } from '../src/pump/types.js';
export type { LogRecord } from '../src/eventLog.js';
export { defaultDrugLibrary } from '../src/therapy/drugLibrary.js';
export type {
  DrugLibrary,
  DrugLimits,
  Mixture,
  Prescription,
  PtmSettings,
  PumpConfig,
} from '../src/therapy/schema.js';
export * as units from '../src/units.js';

// The ports (one contract each) and the simulated drivers.
export type * from '../hal/index.js';
export { HalError, isHalError } from '../hal/index.js';
export { SimClock } from '../hal/sim/simClock.js';
export { SimMotor, type SimMotorOptions, type StrokeRecord } from '../hal/sim/simMotor.js';
export { SimNvm, type SimNvmOptions } from '../hal/sim/simNvm.js';
export {
  SimAnnunciator,
  SimBattery,
  SimButton,
  batteryDefaults,
  type SimBatteryOptions,
} from '../hal/sim/simPeripherals.js';

// The harness: virtual time, scenarios, the runner and its outputs.
export { VirtualClock } from './virtualClock.js';
export {
  InputError,
  loadScenario,
  parseScenario,
  scenarioJsonSchema,
  type Scenario,
  type ScenarioInput,
} from './scenario.js';
export {
  runScenario,
  Simulation,
  type RunOptions,
  type RunResult,
  type TraceRow,
} from './runner.js';
export { writeOutputs } from './outputs.js';
export { formatSummary, type Summary } from './summary.js';

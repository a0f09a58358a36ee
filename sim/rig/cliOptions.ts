/**
 * What the rig's command definitions (sim/rig/commands.ts) hand their actions (sim/rig/cli.ts):
 * the options each action gets, and the error an operator can fix. Apart from both, so the actions
 * import nothing of the definitions that load them.
 */
import { InputError } from '../inputError.js';

/** A fault an operator can fix; the CLI prints its message and exits 2. */
export class RigCliError extends InputError {
  override name = 'RigCliError';
}

export interface EmulateCliOptions {
  port: string;
  baud: number;
  timeScale: number;
  seed: number;
  strokeVolumeNl: number;
  strokeErrorPpm: number;
  calibratedNl?: number;
  noiseMg: number;
  evaporationMgPerH: number;
  balanceIntervalMs: number;
  dropRate: number;
  corruptRate: number;
  delayMs: number;
  stallAfter?: number;
  stallForMs?: number;
  disconnectAfterMs?: number;
  disconnectForMs: number;
  rebootAfterMs?: number;
  persistentRecord: boolean;
  reportedStrokesPpm: number;
  quiet?: boolean;
}

export interface RunCliOptions {
  port: string;
  baud: number;
  timeScale: number;
  out?: string;
  seed?: number;
  calibration?: string | false;
  balanceNoiseMg: number;
  evaporationMgPerH: number;
  json?: boolean;
}

export interface CalibrateCliOptions {
  port: string;
  baud: number;
  timeScale: number;
  strokes: number;
  intervalMs: number;
  settleMs: number;
  readings: number;
  save?: string;
}

export interface AccuracyCliOptions {
  port: string;
  baud: number;
  timeScale: number;
  rate: number;
  duration: number;
  out: string;
  calibration?: string | false;
  balanceNoiseMg: number;
  evaporationMgPerH: number;
  json?: boolean;
}

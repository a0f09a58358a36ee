/**
 * Where `itpump rig calibrate` saves the stroke volume by default. A file of its own, with no
 * dependencies, so the command definitions (sim/rig/commands.ts) can show it in their help
 * without loading the calibration schema (zod).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** ~/.config/itpump/calibration.json, or under $XDG_CONFIG_HOME. */
export function defaultCalibrationPath(): string {
  return join(
    process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'),
    'itpump',
    'calibration.json',
  );
}

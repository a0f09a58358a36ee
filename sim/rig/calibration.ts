/**
 * Stroke-volume calibration of a rig: command N strokes, weigh what they moved, divide
 * (`itpump rig calibrate`, docs/rig.md "Calibration"). The result is saved as JSON and read by
 * later `rig run` and `rig accuracy`, which then plan strokes of the measured volume.
 *
 * Method: the mean of `readingsAveraged` fresh balance readings before, N strokes in one batch,
 * a settling wait, the mean of as many fresh readings after. Stroke volume = Δmass ÷ density ÷
 * strokes done (water, 1.0 g/mL: 1 µg is 1 nL), rounded to whole nL, the controller's unit.
 * Averaging shrinks the balance noise by √readings; the result's resolution is the noise over N.
 *
 * It waits through the functions it is given, so tests can run it on any timers. It knows
 * nothing of serialport or the command line.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { MotorEvent } from '../../hal/motor.js';
import type { SerialRig } from '../../hal/serial/index.js';
import { InputError } from '../scenario.js';
import { readUserFile } from '../inputError.js';
import { defaultCalibrationPath } from './calibrationPath.js';
import { densityMgPerMl, volumeNlOfMassUg } from './rigRun.js';

export const calibrationSchema = z
  .object({
    strokeVolumeNl: z.number().int().min(1).max(100_000),
    strokes: z.number().int().min(1),
    massBeforeUg: z.number(),
    massAfterUg: z.number(),
    densityMgPerMl: z.number().positive(),
    measuredAt: z.string(),
    port: z.string(),
    firmwareId: z.string(),
  })
  .strict();

export type Calibration = z.infer<typeof calibrationSchema>;

export { defaultCalibrationPath };

export function loadCalibration(file: string): Calibration {
  const text = readUserFile(file, 'a calibration from `itpump rig calibrate`');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(
      `${file}: not a calibration (not valid JSON: ${(e as Error).message.split('\n')[0]})`,
    );
  }
  const parsed = calibrationSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(
      `${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message} (run \`itpump rig calibrate\` again)`,
    );
  }
  return parsed.data;
}

/** The calibration a run uses: an explicit file (must exist), else the default one if present. */
export function findCalibration(
  explicit: string | undefined,
): { file: string; calibration: Calibration } | undefined {
  if (explicit !== undefined) return { file: explicit, calibration: loadCalibration(explicit) };
  const file = defaultCalibrationPath();
  return existsSync(file) ? { file, calibration: loadCalibration(file) } : undefined;
}

export function saveCalibration(file: string, calibration: Calibration): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(calibration, null, 2) + '\n');
}

export interface CalibrateOptions {
  strokes: number;
  /** Pump time between strokes. */
  intervalMs: number;
  /** Pump time to let the balance settle after the last stroke. */
  settleMs: number;
  readingsAveraged: number;
  /** Wait this long in pump time (the run's clock). */
  sleepPumpMs: (ms: number) => Promise<void>;
  /** Give up on the balance or the motor after this long in pump time. */
  timeoutPumpMs: number;
  onProgress?: (text: string) => void;
}

/** Run a calibration on a connected rig; returns the calibration, not yet saved. */
export async function calibrate(rig: SerialRig, options: CalibrateOptions): Promise<Calibration> {
  const info = rig.session.rigInfo;
  if (info === undefined) throw new InputError('calibration needs a connected rig');
  if (!info.capabilities.balance)
    throw new InputError(
      `the rig (${info.firmwareId}) has no balance: it cannot be calibrated from here`,
    );
  const say = options.onProgress ?? (() => undefined);

  say(`weighing before (${options.readingsAveraged} readings)`);
  const massBeforeUg = await meanOfFreshReadings(rig, options, 'before the strokes');
  say(`delivering ${options.strokes} strokes, one every ${options.intervalMs} ms`);
  const report = await deliverCalibrationBatch(rig, options);
  await options.sleepPumpMs(options.settleMs);
  say(`weighing after (${options.readingsAveraged} readings)`);
  const massAfterUg = await meanOfFreshReadings(rig, options, 'after the strokes');
  const movedNl = volumeNlOfMassUg(massAfterUg - massBeforeUg);
  const strokeVolumeNl = Math.round(movedNl / report.strokesDone);
  if (!(strokeVolumeNl >= 1 && strokeVolumeNl <= 100_000)) {
    throw new InputError(
      `calibration failed: the balance moved ${Math.round(massAfterUg - massBeforeUg)} µg for ${report.strokesDone} strokes (${strokeVolumeNl} nL a stroke, must be 1 to 100000): is the outlet over the balance?`,
    );
  }
  return {
    strokeVolumeNl,
    strokes: report.strokesDone,
    massBeforeUg: Math.round(massBeforeUg),
    massAfterUg: Math.round(massAfterUg),
    densityMgPerMl,
    measuredAt: new Date().toISOString(),
    port: rig.path,
    firmwareId: info.firmwareId,
  };
}

/** The mean of the next `readingsAveraged` balance readings, µg; `what` names them in errors. */
async function meanOfFreshReadings(
  rig: SerialRig,
  options: CalibrateOptions,
  what: string,
): Promise<number> {
  const masses: number[] = [];
  const stop = rig.session.listenBalance((r) => masses.push(r.massUg));
  try {
    for (let waited = 0; masses.length < options.readingsAveraged; waited += 100) {
      if (waited > options.timeoutPumpMs) {
        throw new InputError(
          `no balance readings from ${rig.path} ${what} (${masses.length} of ${options.readingsAveraged} in ${waited} ms): is the balance connected to the rig?`,
        );
      }
      await options.sleepPumpMs(100);
    }
  } finally {
    stop();
  }
  const used = masses.slice(0, options.readingsAveraged);
  return used.reduce((a, b) => a + b, 0) / used.length;
}

/** Deliver the calibration strokes as one batch; returns the rig's report once all are done. */
async function deliverCalibrationBatch(
  rig: SerialRig,
  options: CalibrateOptions,
): Promise<MotorEvent> {
  const ended = new Promise<MotorEvent>((resolve) => rig.motor.listen(resolve));
  rig.motor.deliver({
    batchId: 1,
    count: options.strokes,
    leadMs: 0,
    intervalMs: options.intervalMs,
  });
  const batchMs = options.strokes * options.intervalMs;
  const report = await Promise.race([
    ended,
    (async () => {
      await options.sleepPumpMs(batchMs + options.timeoutPumpMs);
      return undefined;
    })(),
  ]);
  if (report === undefined)
    throw new InputError(
      `the rig did not report the calibration batch within ${batchMs + options.timeoutPumpMs} ms`,
    );
  if (report.reason !== 'completed') {
    throw new InputError(
      `the calibration batch ended ${report.reason} after ${report.strokesDone} of ${options.strokes} strokes: check the motor and the link, then calibrate again`,
    );
  }
  return report;
}

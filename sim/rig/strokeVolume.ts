/**
 * Which stroke volume a run on a rig doses with. The rig is hardware, not a trusted party: the
 * stroke volume it reports in HELLO_ACK is checked, never taken as it comes (issue 13). The volume
 * comes from `rig calibrate`'s measurement when there is one, else from the pump's configuration
 * (the scenario's `pump.strokeVolume`). A rig that reports a volume more than
 * `RIG_STROKE_VOLUME_TOLERANCE_PERCENT` away from that one is refused before anything moves: a
 * rig reporting 1 nL for a 500 nL mechanism would have the controller run 500 times the strokes.
 */

/**
 * How far, in percent of the expected stroke volume, the rig's reported one may lie. A wider gap
 * is a wrong mechanism, a corrupted rig setting or a rig calibrated for another pump model, not
 * wear: wear is what `rig calibrate` measures, and its value then becomes the expected one.
 */
export const RIG_STROKE_VOLUME_TOLERANCE_PERCENT = 10;

export interface StrokeVolumeSources {
  /** The pump model's stroke volume (the scenario's `pump.strokeVolume`), nL. */
  configuredNl: number;
  /** `rig calibrate`'s measurement, if the run uses one. */
  calibration?: { strokeVolumeNl: number; file: string; measuredAt: string };
  /** What the rig reported in HELLO_ACK (null: the rig reports none). */
  reportedNl: number | null;
}

export type StrokeVolumeChoice =
  | { strokeVolumeNl: number; fromCalibration: boolean; message: string }
  | { refusal: string };

/** The stroke volume to dose with and the line that says where it came from, or why not to start. */
export function chooseStrokeVolume(s: StrokeVolumeSources): StrokeVolumeChoice {
  const expectedNl = s.calibration?.strokeVolumeNl ?? s.configuredNl;
  const source = s.calibration
    ? `${s.calibration.file} (measured ${s.calibration.measuredAt})`
    : "the scenario's pump";
  const tolerance = RIG_STROKE_VOLUME_TOLERANCE_PERCENT;
  const reported = s.reportedNl;
  if (reported !== null && Math.abs(reported - expectedNl) * 100 > tolerance * expectedNl) {
    const lowNl = Math.ceil((expectedNl * (100 - tolerance)) / 100);
    const highNl = Math.floor((expectedNl * (100 + tolerance)) / 100);
    return {
      refusal:
        `the rig reports a stroke volume of ${reported} nL, but ${source} says ${expectedNl} nL ` +
        `and a rig may differ by at most ±${tolerance} % (${lowNl}–${highNl} nL): not starting. ` +
        'Check the rig and its pump mechanism, or measure it with `itpump rig calibrate`',
    };
  }
  const rigSays =
    reported === null ? '' : `; the rig reports ${reported} nL, within ±${tolerance} %`;
  return {
    strokeVolumeNl: expectedNl,
    fromCalibration: s.calibration !== undefined,
    message: `stroke volume ${expectedNl} nL from ${source}${rigSays}${
      s.calibration || reported !== null
        ? ''
        : ' (the rig is not calibrated: run `itpump rig calibrate`)'
    }`,
  };
}

/**
 * The stroke volume a rig run doses with (issue 13): from the calibration or the pump's
 * configuration, never from what the rig reports; a report beyond ±10 % of the expected volume
 * refuses the start, naming both volumes and the tolerance in nL.
 */
import { describe, expect, it } from 'vitest';
import {
  chooseStrokeVolume,
  RIG_STROKE_VOLUME_TOLERANCE_PERCENT,
} from '../../sim/rig/strokeVolume.js';

const calibration = { strokeVolumeNl: 450, file: 'cal.json', measuredAt: '2026-12-01T10:00:00Z' };

describe('chooseStrokeVolume', () => {
  it('doses with the configuration, not with a rig report within the tolerance', () => {
    expect(RIG_STROKE_VOLUME_TOLERANCE_PERCENT).toBe(10);
    expect(chooseStrokeVolume({ configuredNl: 500, reportedNl: 540 })).toEqual({
      strokeVolumeNl: 500,
      fromCalibration: false,
      message:
        "stroke volume 500 nL from the scenario's pump; the rig reports 540 nL, within ±10 %",
    });
  });

  it('doses with the calibration when there is one, and checks the rig against it', () => {
    const choice = chooseStrokeVolume({ configuredNl: 500, calibration, reportedNl: 460 });
    expect(choice).toMatchObject({ strokeVolumeNl: 450, fromCalibration: true });
    // 500 nL is within 10 % of the configuration but not of the calibration (405–495 nL).
    expect(chooseStrokeVolume({ configuredNl: 500, calibration, reportedNl: 500 })).toEqual({
      refusal:
        'the rig reports a stroke volume of 500 nL, but cal.json (measured 2026-12-01T10:00:00Z) says 450 nL and a rig may differ by at most ±10 % (405–495 nL): not starting. Check the rig and its pump mechanism, or measure it with `itpump rig calibrate`',
    });
  });

  it.each([
    [1, 'refused'],
    [449, 'refused'],
    [450, 'accepted'],
    [550, 'accepted'],
    [551, 'refused'],
    [100_001, 'refused'],
  ])('a rig reporting %i nL for a 500 nL pump is %s', (reportedNl, verdict) => {
    const choice = chooseStrokeVolume({ configuredNl: 500, reportedNl });
    expect('refusal' in choice ? 'refused' : 'accepted').toBe(verdict);
    if ('refusal' in choice)
      expect(choice.refusal).toContain(
        `the rig reports a stroke volume of ${reportedNl} nL, but the scenario's pump says 500 nL and a rig may differ by at most ±10 % (450–550 nL)`,
      );
  });

  it('without a calibration or a report, says the rig is not calibrated', () => {
    expect(chooseStrokeVolume({ configuredNl: 500, reportedNl: null })).toMatchObject({
      strokeVolumeNl: 500,
      message: expect.stringContaining('the rig is not calibrated: run `itpump rig calibrate`'),
    });
  });
});

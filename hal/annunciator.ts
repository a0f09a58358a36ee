/**
 * Annunciator port: the implant's piezo tone generator (the rig's buzzer).
 *
 * For controller authors: `sound()` starts a pattern and returns at once; a pattern that is
 * already sounding is cut short. Tones are heard through skin and clothes, so a pattern is the
 * only information the patient gets: keep their meanings fixed (docs/requirements.md).
 *
 * For driver authors: a failing buzzer throws `HalError('other')`; the controller logs it and
 * carries on, because a silent alarm must not stop therapy.
 */
export type TonePattern =
  | 'pressGranted' // short rising beep: a patient bolus starts
  | 'pressDenied' // short low beep: the press was refused
  | 'alarmCritical' // 3-second two-tone alarm
  | 'alarmNonCritical' // 1-second single tone
  | 'alarmTest';

export interface AnnunciatorPort {
  sound(pattern: TonePattern): void;
}

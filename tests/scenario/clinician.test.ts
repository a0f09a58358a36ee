/**
 * Clinician commands with hand-computed consequences: a clinician bolus restarts the patient
 * lockout; a stop loses exactly the basal of its duration; a clock change moves a flex schedule.
 */
import { describe, expect, it } from 'vitest';
import { NL_PER_ML } from '../../src/units.js';
import { runScenario } from '../../sim/runner.js';
import { at, mg, morphineBase, ofType, pressOutcomes, ptm, scenario, when } from './helpers.js';
import { eachTest } from '../eachTest.js';

describe('a clinician bolus restarts the patient lockout', () => {
  // Patient bolus at 1d 08:00: lockout to 11:00. Clinician bolus 0.2 mg over 30 min at 10:00:
  // lockout restarts from its start, to 13:00. Without it, a press at 12:00 would be granted.
  const result = eachTest(() =>
    runScenario(
      scenario({
        ...morphineBase,
        duration: '2d',
        ptm,
        timeline: [
          { at: when(1, 8), press: {} }, //                                              granted
          { at: when(1, 8, 5), clinicianBolus: { dose: '0.2 mg', duration: '30 min' } }, // refused: patient bolus running
          { at: when(1, 10), clinicianBolus: { dose: '0.2 mg', duration: '30 min' } }, //   started, lockout to 13:00
          { at: when(1, 10, 15), press: {} }, //                                         lockout (and a bolus runs)
          { at: when(1, 12), press: {} }, //                                             lockout, restarted by the clinician bolus
          { at: when(1, 13), press: {} }, //                                             granted
        ],
      }),
    ),
  );

  it('denies the presses before 13:00 and grants the one at 13:00', () => {
    expect(pressOutcomes(result.events)).toEqual([
      { atMs: at(1, 8), outcome: 'granted' },
      { atMs: at(1, 10, 15), outcome: 'lockout' },
      { atMs: at(1, 12), outcome: 'lockout' },
      { atMs: at(1, 13), outcome: 'granted' },
    ]);
  });

  it('refuses a clinician bolus while a patient bolus runs, and runs the next one for 30 min', () => {
    const refused = ofType(result.events, 'refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      atMs: at(1, 8, 5),
      command: 'cmd.clinicianBolus',
      field: 'therapy',
      value: 'a bolus is running',
    });
    // 0.2 mg ÷ 2 mg/mL = 100 000 nL; over 1 800 000 ms that is 4 800 000 nL/day, complete at 30 min.
    const clinician = ofType(result.events, 'bolusStarted').filter((e) => e.kind === 'clinician');
    expect(clinician.map((e) => [e.atMs, e.volumeNl, e.durationMs])).toEqual([
      [at(1, 10), 100_000, 30 * 60_000],
    ]);
    const finished = ofType(result.events, 'bolusFinished').filter((e) => e.kind === 'clinician');
    expect(finished.map((e) => e.atMs)).toEqual([at(1, 10, 30)]);
    expect(result.summary.boluses).toEqual({ patient: 2, clinician: 1 });
  });

  it('delivers 2 days of basal, 2 patient boluses and the clinician bolus: 2.4 mg', () => {
    // 1 mL + 2 × 0.05 mL + 0.1 mL = 1.2 mL at 2 mg/mL.
    expect(result.summary.reservoir.estimateNl).toBe(20 * NL_PER_ML - 1_200_000);
    expect(result.summary.drugs).toEqual([
      { drug: 'morphine', programmedNg: mg(2.4), deliveredNg: mg(2.4), trueDeliveredNg: mg(2.4) },
    ]);
  });
});

describe('stop and resume', () => {
  // Stopped from 1d 00:00 to 1d 12:00: half a day of basal is not given and not caught up.
  // Delivered: 1.5 days × 0.5 mL/day = 0.75 mL = 1 500 strokes = 1.5 mg.
  const result = eachTest(() =>
    runScenario(
      scenario({
        ...morphineBase,
        duration: '2d',
        ptm,
        timeline: [
          { at: when(1, 0), stop: {} },
          { at: when(1, 6), press: {} },
          { at: when(1, 12), resume: {} },
          { at: when(1, 12, 1), resume: {} },
        ],
      }),
    ),
  );

  it('logs the stop and the resume, and refuses a second resume', () => {
    expect(ofType(result.events, 'stopped').map((e) => e.atMs)).toEqual([at(1, 0)]);
    expect(ofType(result.events, 'resumed').map((e) => e.atMs)).toEqual([0, at(1, 12)]);
    expect(ofType(result.events, 'refused').map((e) => [e.atMs, e.command, e.field])).toEqual([
      [at(1, 12, 1), 'cmd.resume', 'therapy'],
    ]);
  });

  it('denies a press while stopped', () => {
    expect(pressOutcomes(result.events)).toEqual([{ atMs: at(1, 6), outcome: 'stopped' }]);
  });

  it('delivers exactly 1.5 days of basal', () => {
    expect(result.summary.reservoir.estimateNl).toBe(20 * NL_PER_ML - 750_000);
    expect(result.summary.drugs).toEqual([
      { drug: 'morphine', programmedNg: mg(1.5), deliveredNg: mg(1.5), trueDeliveredNg: mg(1.5) },
    ]);
  });
});

describe('a clock change under a flex schedule', () => {
  // 0.5 mg/day from 00:00, 2 mg/day from 12:00 (250 000 and 1 000 000 nL/day at 2 mg/mL): 625 000 nL a day.
  // At monotonic 1d 13:00 the clinician sets the clock 6 h forward (RTC 13:00 → 19:00): the pump skips
  // 6 h of the high step and, by the end (monotonic 2d 00:00 = RTC 2d 06:00), has run 6 h into the next day.
  //   day 0:                               625 000
  //   1d 00:00–12:00 (RTC 00–12, low):     125 000
  //   1d 12:00–13:00 (RTC 12–13, high):     41 666⅔
  //   1d 13:00–18:00 (RTC 19–24, high):    208 333⅓
  //   1d 18:00–24:00 (RTC 00–06, low):      62 500
  // total 1 062 500 nL = 2 125 strokes = 2.125 mg, against 1 250 000 nL without the change.
  const input = {
    ...morphineBase,
    duration: '2d',
    prescription: {
      mode: 'flex',
      steps: [
        { at: '00:00', dose: '0.5 mg/day' },
        { at: '12:00', dose: '2 mg/day' },
      ],
    },
    timeline: [{ at: when(1, 13), setClock: { shift: '6 h' } }],
  };
  const result = eachTest(() => runScenario(scenario(input)));
  const unchanged = eachTest(() => runScenario(scenario({ ...input, timeline: [] })));

  it('logs the old and new real-time clock', () => {
    const start = Date.parse(morphineBase.startRtc);
    expect(ofType(result.events, 'clockSet').map((e) => [e.atMs, e.oldRtcMs, e.newRtcMs])).toEqual([
      [at(1, 13), start + at(1, 13), start + at(1, 19)],
    ]);
  });

  it('delivers the hand-computed 1.0625 mL', () => {
    expect(unchanged.summary.reservoir.estimateNl).toBe(20 * NL_PER_ML - 1_250_000);
    expect(result.summary.reservoir.estimateNl).toBe(20 * NL_PER_ML - 1_062_500);
    expect(result.summary.drugs).toEqual([
      {
        drug: 'morphine',
        programmedNg: mg(2.125),
        deliveredNg: mg(2.125),
        trueDeliveredNg: mg(2.125),
      },
    ]);
  });
});

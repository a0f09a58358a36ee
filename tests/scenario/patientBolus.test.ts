/**
 * Patient presses at chosen times with a 3-hour start-to-start lockout and at most 4 boluses in any
 * rolling 24 hours: which are granted and why the others are denied, worked out by hand below.
 */
import { describe, expect, it } from 'vitest';
import { NL_PER_ML } from '../../src/units.js';
import { Simulation, runScenario } from '../../sim/runner.js';
import { at, mg, morphineBase, ofType, pressOutcomes, ptm, scenario, when } from './helpers.js';
import { eachTest } from '../eachTest.js';

// Each press, with the reasoning (G = granted; lockout ends 3 h after a grant; the 24-h count is
// of grants strictly after now − 24 h):
const presses: { at: [number, number, number]; expected: string }[] = [
  { at: [1, 8, 0], expected: 'granted' }, //   G1, lockout to 1d 11:00
  { at: [1, 9, 0], expected: 'lockout' }, //   09:00 < 11:00
  { at: [1, 11, 0], expected: 'granted' }, //  G2 at the very end of the lockout; lockout to 14:00
  { at: [1, 13, 59], expected: 'lockout' }, // a minute early
  { at: [1, 14, 0], expected: 'granted' }, //  G3, lockout to 17:00
  { at: [1, 17, 0], expected: 'granted' }, //  G4: 4 grants in the window now
  { at: [1, 20, 0], expected: 'count24h' }, // lockout over, but G1..G4 all after 0d 20:00
  { at: [1, 20, 5], expected: 'count24h' },
  { at: [2, 8, 0], expected: 'granted' }, //   G1 at 1d 08:00 is exactly 24 h old, out of the window: G5
  { at: [2, 8, 5], expected: 'lockout' }, //   G5's bolus is still running (and its lockout)
  { at: [2, 11, 0], expected: 'granted' }, //  window after 1d 11:00 holds G3, G4, G5: G6
  { at: [2, 14, 0], expected: 'granted' }, //  window after 1d 14:00 holds G4, G5, G6: G7
  { at: [2, 16, 59], expected: 'lockout' },
  { at: [2, 17, 0], expected: 'granted' }, //  window after 1d 17:00 holds G5, G6, G7: G8
  { at: [2, 20, 0], expected: 'count24h' }, // G5..G8 all in the window
];
const granted = presses.filter((p) => p.expected === 'granted').length;

const input = {
  ...morphineBase,
  duration: '3d',
  ptm,
  timeline: presses.map((p) => ({ at: when(...p.at), press: {} })),
};

describe('presses against a 3 h lockout and 4 per 24 h', () => {
  const result = eachTest(() => runScenario(scenario(input)));

  it('grants and denies each press as worked out by hand, with one reason each', () => {
    expect(pressOutcomes(result.events)).toEqual(
      presses.map((p) => ({ atMs: at(...p.at), outcome: p.expected })),
    );
  });

  it('counts them in the summary', () => {
    expect(granted).toBe(8);
    expect(result.summary.presses).toEqual({
      requested: 15,
      granted: 8,
      denied: 7,
      deniedByReason: {
        stopped: 0,
        noPtm: 0,
        reservoirEmpty: 0,
        criticalAlarm: 0,
        lockout: 4,
        count24h: 3,
        bolusDoseCap: 0,
        dailyDoseCap: 0,
      },
    });
    expect(result.summary.boluses).toEqual({ patient: 8, clinician: 0 });
  });

  it('runs each bolus for exactly its 10 minutes', () => {
    // 0.1 mg ÷ 2 mg/mL = 50 000 nL over 600 000 ms: 7 200 000 nL/day, so the volume is complete at 10 min.
    const started = ofType(result.events, 'bolusStarted');
    const finished = ofType(result.events, 'bolusFinished');
    expect(started.map((e) => e.volumeNl)).toEqual(Array(8).fill(50_000));
    expect(finished.map((e) => e.atMs)).toEqual(started.map((e) => e.atMs + 10 * 60_000));
  });

  it('delivers 3 days of basal plus 8 boluses: 1.5 mL + 0.4 mL = 3.8 mg morphine', () => {
    expect(result.summary.drugs).toEqual([
      {
        drug: 'morphine',
        programmedNg: mg(3 + 8 * 0.1),
        deliveredNg: mg(3.8),
        trueDeliveredNg: mg(3.8),
      },
    ]);
    expect(result.summary.reservoir.estimateNl).toBe(20 * NL_PER_ML - 1_500_000 - 8 * 50_000);
  });

  it('sounds a tone for every press, granted or denied', () => {
    const sim = new Simulation(scenario(input), 1);
    sim.run();
    const tones = sim.annunciator.tones.filter(
      (t) => t.pattern === 'pressGranted' || t.pattern === 'pressDenied',
    );
    expect(tones).toEqual(
      presses.map((p) => ({
        atMs: at(...p.at),
        pattern: p.expected === 'granted' ? 'pressGranted' : 'pressDenied',
      })),
    );
  });
});

describe('deny reasons that come before the lockout', () => {
  it('denies presses while stopped (stopped) and without PTM settings (noPtm)', () => {
    const result = runScenario(
      scenario({
        ...morphineBase,
        duration: '2d',
        timeline: [
          { at: when(0, 6), press: {} }, // no PTM programmed
          { at: when(0, 7), program: { ptm } },
          { at: when(0, 8), stop: {} },
          { at: when(0, 9), press: {} }, // stopped outranks everything
          { at: when(0, 10), resume: {} },
          { at: when(0, 11), press: {} },
        ],
      }),
    );
    expect(pressOutcomes(result.events)).toEqual([
      { atMs: at(0, 6), outcome: 'noPtm' },
      { atMs: at(0, 9), outcome: 'stopped' },
      { atMs: at(0, 11), outcome: 'granted' },
    ]);
  });
});

/**
 * The rolling 24 hours of the patient-bolus count, end to end (statechart, log): a grant at t still
 * counts through the last minute of its window, t + 24 h − 1 min to t + 24 h, and no longer at t + 24 h.
 * A window even one minute short would grant the presses of that last minute. Worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../sim/runner.js';
import { at, morphineBase, pressOutcomes, ptm, scenario } from './helpers.js';
import { eachTest } from '../eachTest.js';

// PTM: lockout 3 h, at most 4 in 24 h. G1 at 1d 08:00, then G2..G4 3 h apart: the count is reached at
// 1d 17:00. G1's window ends at 2d 08:00 (the count is of grants strictly after now − 24 h).
type Moment = [day: number, hours: number, minutes: number, seconds: number];
const grants: Moment[] = [
  [1, 8, 0, 0],
  [1, 11, 0, 0],
  [1, 14, 0, 0],
  [1, 17, 0, 0],
];
// In the last minute of G1's window: 60 s, 30 s and 1 s before its end. Lockout long over (G4 at 17:00).
const lastMinute: Moment[] = [
  [2, 7, 59, 0],
  [2, 7, 59, 30],
  [2, 7, 59, 59],
];
/** G1 + 24 h: G1 has left the window. */
const windowEnd: Moment = [2, 8, 0, 0];
const clock = ([d, h, m, s]: Moment) =>
  `${d}d ${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;

describe('the 24-hour count in its last minute', () => {
  const result = eachTest(() =>
    runScenario(
      scenario({
        ...morphineBase,
        duration: '3d',
        ptm,
        timeline: [...grants, ...lastMinute, windowEnd].map((t) => ({ at: clock(t), press: {} })),
      }),
    ),
  );
  const outcomes = eachTest(() => pressOutcomes(result.events));

  it('reaches the count: the first four presses are granted', () => {
    expect(outcomes.slice(0, 4)).toEqual(
      grants.map((t) => ({ atMs: at(...t), outcome: 'granted' })),
    );
  });

  it('denies every press of the window’s last minute with count24h, and grants the one at its end', () => {
    expect(outcomes.slice(0, 4).every((o) => o.outcome === 'granted')).toBe(true);
    expect(outcomes.slice(4)).toEqual([
      ...lastMinute.map((t) => ({ atMs: at(...t), outcome: 'count24h' })),
      { atMs: at(...windowEnd), outcome: 'granted' },
    ]);
  });
});

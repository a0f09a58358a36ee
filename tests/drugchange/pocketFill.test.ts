/**
 * A pocket fill (docs/sources.md F1): part of a refill's injection goes under the skin. The patient gets
 * that drug at once, the pump's estimate and the true reservoir diverge by that volume, and the
 * true reservoir runs dry before the estimate reaches the empty threshold.
 *
 * Setting: morphine 2 mg/mL at 1 mg/day = 500 000 nL/day, 500 nL strokes every 86 400 ms from
 * 86 400 ms. At t0 = 28d 10:00 = 2 455 200 000 ms the clinician withdraws what is left (28 416
 * strokes done: 20 mL − 14.208 mL = 5.792 mL) and injects 20 mL, 5 mL of it into the pocket.
 * - Under the skin: 5 000 000 nL × 2 000 pg/nL = 10 mg of morphine.
 * - The estimate becomes 20 mL, the truth 15 mL.
 * - At t0 the programme is 57 600 ms into a stroke (333⅓ nL owed); strokes after t0 come at
 *   t0 + 28 800 + (j − 1) × 86 400. The truth runs dry on stroke 30 001 (30 000 × 500 nL =
 *   15 mL): t0 + 28 800 + 30 000 × 86 400 = 58d 10:00:28.8.
 * - The estimate reaches the 0.5 mL empty threshold on stroke 39 000 (20 mL − 39 000 × 500 nL):
 *   t0 + 28 800 + 38 999 × 86 400 = 67d 09:59:02.4, 8 days 23 h 58 min after the truth ran dry.
 */
import { describe, expect, it } from 'vitest';
import { NL_PER_ML } from '../../src/units.js';
import { formatSummary } from '../../sim/summary.js';
import { buildSummary } from '../../sim/summary.js';
import { at, morphineBase, ofType, scenario } from '../scenario/helpers.js';
import { runTo, runWhole, startRun } from './helpers.js';

const t0 = at(28, 10);
const dryMs = t0 + 28_800 + 30_000 * 86_400;
const alarmMs = t0 + 28_800 + 38_999 * 86_400;
const pocket = (duration: string, pocketFill = '5 mL') =>
  scenario({
    ...morphineBase,
    duration,
    timeline: [{ at: '28d 10:00', refill: { added: '20 mL', pocketFill } }],
  });

describe('a 5 mL pocket fill on a 20 mL refill', () => {
  it('gives 10 mg of morphine under the skin at once, and the estimate runs 5 mL above the truth', () => {
    const sim = startRun(pocket('75d'));
    runTo(sim, t0);
    expect(sim.drugPath!.subcutaneousPg.get('morphine')).toBe(10_000_000_000);
    expect(ofType(sim.events, 'refill').at(-1)).toMatchObject({
      withdrawnNl: 5_792_000,
      addedNl: 20 * NL_PER_ML,
      discrepancyFlagged: false,
    });
    expect(sim.reservoirEstimateNl()).toBe(20 * NL_PER_ML);
    expect(sim.motor.trueReservoirNl).toBe(15 * NL_PER_ML);
    runTo(sim, at(40));
    expect(sim.reservoirEstimateNl() - sim.motor.trueReservoirNl).toBe(5 * NL_PER_ML);
  });

  it('runs the true reservoir dry 9 days before the empty alarm sounds, and the summary names both times', () => {
    const sim = runWhole(pocket('75d'));
    expect(sim.motor.ranDryAtMs).toBe(dryMs);
    expect(
      ofType(sim.events, 'alarmRaised')
        .filter((e) => e.code === 'emptyReservoir')
        .map((e) => e.atMs),
    ).toEqual([alarmMs]);
    const summary = buildSummary(sim, 0);
    expect(summary.reservoir).toMatchObject({
      ranDryAtMs: dryMs,
      emptyAlarmAtMs: alarmMs,
      emptyAlarmProjected: false,
    });
    expect(summary.drugPath!.pocketFills).toEqual([
      { atMs: t0, volumeNl: 5 * NL_PER_ML, drugs: [{ drug: 'morphine', ng: 10_000_000 }] },
    ]);
    expect(summary.drugPath!.drugs[0]).toMatchObject({
      drug: 'morphine',
      subcutaneousNg: 10_000_000,
    });
    const text = formatSummary(summary);
    expect(text).toContain(
      'POCKET FILL at 28d 10:00:00: 5.000 mL under the skin (morphine 10.000 mg)',
    );
    expect(text).toContain('truly ran dry at 58d 10:00:28');
    expect(text).toContain(
      'empty alarm after the pocket fill: sounded at 67d 09:59:02, 8 d 23 h 58 min after the reservoir truly ran dry',
    );
  });

  it('projects the alarm from the estimate when the run ends before it', () => {
    const sim = runWhole(pocket('60d'));
    const summary = buildSummary(sim, 0);
    expect(summary.reservoir.emptyAlarmProjected).toBe(true);
    // From the estimate at 60d at 500 000 nL/day: within a stroke of the hand-computed time.
    expect(Math.abs(summary.reservoir.emptyAlarmAtMs! - alarmMs)).toBeLessThanOrEqual(86_400);
  });

  it('sends the whole injection under the skin at 100 %', () => {
    const sim = runWhole(pocket('30d', '100 %'));
    expect(sim.drugPath!.subcutaneousPg.get('morphine')).toBe(20 * NL_PER_ML * 2_000);
    expect(sim.motor.ranDryAtMs).toBe(t0 + 28_800); // the first stroke after the refill finds it empty
  });
});

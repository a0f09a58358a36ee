/**
 * REQ-DOS-1 at any moment: the volume the motor has pushed stays within one stroke of the volume
 * programmed so far (basal plus the patient boluses granted), for any stroke volume, basal dose and
 * press times. The programmed volume is computed here from the prescription and the grant times in
 * the pump's log, not from the pump's own accounting; and over months of boluses the pump must not
 * drift above the prescription.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/units.js';
import { Simulation, runScenario } from '../../sim/runner.js';
import { morphineBase, ofType, ptm, scenario } from './helpers.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 25 * Number(process.env.FC_RUNS_FACTOR ?? 1));

/** Programmed fine units (1/DAY_MS nL) by `t`: basal rate × t plus each bolus's linear profile. */
function programmedFine(
  t: number,
  basalNlPerDay: number,
  grantsMs: readonly number[],
  bolusNl: number,
  bolusMs: number,
): number {
  const bolusRate = Math.floor((bolusNl * DAY_MS) / bolusMs); // nL/day, rounded down as the pump does
  let fine = basalNlPerDay * t;
  for (const g of grantsMs) if (t > g) fine += Math.min(bolusNl * DAY_MS, bolusRate * (t - g));
  return fine;
}

describe('delivered volume within one stroke of the programmed volume', () => {
  it('holds at arbitrary moments, with patient boluses', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(250, 500, 1_000),
        fc.integer({ min: 100, max: 5_000 }), // µg/day of morphine at 2 mg/mL
        fc.array(fc.integer({ min: 0, max: 3 * DAY_MS - 1 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 3 * DAY_MS }), { minLength: 1, maxLength: 30 }),
        (strokeNl, doseUg, pressesMs, samplesMs) => {
          const sim = new Simulation(
            scenario({
              ...morphineBase,
              duration: '3d',
              pump: { ...morphineBase.pump, strokeVolume: `${strokeNl} nL` },
              prescription: { mode: 'continuous', dose: `${doseUg} ug/day` },
              ptm,
            }),
            1,
          );
          sim.setUp();
          for (const t of pressesMs) sim.clock.schedule(t, () => sim.button.press());
          const basalNlPerDay = Math.floor((doseUg * 1_000 * 1_000) / 2_000); // pg/day ÷ µg/mL, rounded down
          for (const t of [...samplesMs].sort((a, b) => a - b)) {
            sim.clock.runUntil(t);
            const grants = ofType(sim.events, 'pressGranted').map((e) => e.atMs);
            const programmed = programmedFine(t, basalNlPerDay, grants, 50_000, 10 * 60_000);
            const delivered = sim.strokesNow() * strokeNl * DAY_MS;
            expect(Math.abs(delivered - programmed), `at ${t} ms`).toBeLessThanOrEqual(
              strokeNl * DAY_MS,
            );
          }
        },
      ),
      { seed, numRuns },
    );
  });

  it('holds over 90 days with four patient boluses a day', () => {
    // 0.2 mg/day at 2 mg/mL = 100 000 nL/day; presses at 08, 12, 16 and 20 h are 4 h apart (lockout 3 h,
    // at most 4 in 24 h), so each day grants all four: 50 000 nL each.
    // Programmed over 90 days: 90 × (100 000 + 4 × 50 000) = 27 000 000 nL, in a 40 mL pump.
    const timeline = Array.from({ length: 90 }, (_, d) =>
      ['08:00', '12:00', '16:00', '20:00'].map((hhmm) => ({ at: `${d}d ${hhmm}`, press: {} })),
    ).flat();
    const result = runScenario(
      scenario({
        ...morphineBase,
        duration: '90d',
        pump: { ...morphineBase.pump, reservoirCapacity: '40 mL' },
        initialFill: { volume: '40 mL', mixture: [{ drug: 'morphine', concentration: '2 mg/mL' }] },
        prescription: { mode: 'continuous', dose: '0.2 mg/day' },
        ptm,
        timeline,
      }),
    );
    expect(result.summary.presses.granted).toBe(360);
    const programmedNl = 90 * (100_000 + 4 * 50_000);
    const deliveredNl = 40_000_000 - result.summary.reservoir.estimateNl;
    expect(Math.abs(deliveredNl - programmedNl)).toBeLessThanOrEqual(500);
    // The pump's own programmed dose is the prescription's: 27 mL × 2 mg/mL = 54 mg.
    expect(result.summary.drugs[0]!.programmedNg).toBe(54_000_000);
  });
});

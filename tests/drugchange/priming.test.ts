/**
 * The priming bolus after implant: the dead volume at a high rate instead of the basal rate, and
 * the mixing zone at the front of the drug column (src/dosing/priming.ts), through the simulator.
 *
 * Setting: a catheter of 100 cm × 2 600 nL/cm = 260 000 nL full of saline; morphine 2 mg/mL at
 * 1 mg/day (500 000 nL/day) with 500 nL strokes; a prime at 12 mL/day at time 0.
 * - The bolus: 260 000 nL for ⌈260 000 × 86 400 000 / 12 000 000⌉ = 1 872 000 ms (31 min 12 s):
 *   520 strokes, one every 3 600 ms, the last at 1 872 000 ms, the end of the bolus. No basal runs
 *   meanwhile, so no stroke is owed when it ends; basal strokes follow every 86 400 ms.
 * - The mixing zone is 20 % of 260 000 = 52 000 nL in 8 segments of 6 500 nL, centred on the
 *   interface: the concentration ramps 0 → 2 000 µg/mL over it. Segment i holds
 *   2 000 × 6 500 × (2i + 1) / 16 = 812 500 × (2i + 1) pg. Its front half (26 000 nL, 13 µg) sits
 *   in the catheter, ending at the tip side 234 000 nL from the tip; its back half (39 µg) enters
 *   first after the prime.
 * - Drug first leaves the tip with the stroke that pushes nL 234 001: stroke 469 of the bolus, at
 *   469 × 3 600 = 1 688 400 ms. The bolus delivers the front half: 13 µg. The back half leaves
 *   with the next 26 000 nL = 52 basal strokes; full strength comes with basal stroke 53, at
 *   1 872 000 + 53 × 86 400 = 6 451 200 ms.
 */
import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/units.js';
import { morphineBase, ofType, scenario } from '../scenario/helpers.js';
import { runTo, runWhole, startRun, tipPg } from './helpers.js';

const implant = (timeline: unknown[], catheter: Record<string, unknown> = {}) =>
  scenario({
    ...morphineBase,
    duration: '1d',
    pump: { ...morphineBase.pump, primingRate: '12 mL/day' },
    catheter: { length: '100 cm', volumePerCm: '2.6 uL', contents: 'saline', ...catheter },
    timeline,
  });
const prime = { at: '0d 00:00', primingBolus: { confirm: true } };

describe('a priming bolus into a saline-filled catheter', () => {
  it('delivers the dead volume at the priming rate instead of basal: 520 strokes in 31 min 12 s', () => {
    const sim = runWhole(implant([prime]));
    expect(
      ofType(sim.events, 'bolusStarted').map((e) => [e.atMs, e.kind, e.volumeNl, e.durationMs]),
    ).toEqual([[0, 'priming', 260_000, 1_872_000]]);
    expect(ofType(sim.events, 'bolusFinished').map((e) => [e.atMs, e.kind])).toEqual([
      [1_872_000, 'priming'],
    ]);
    // One day: the prime's 260 000 nL, then basal for the rest of the day (whole strokes).
    const basalNl = Math.floor((500_000 * (DAY_MS - 1_872_000)) / DAY_MS / 500) * 500;
    expect(sim.motor.strokesTotal * 500).toBe(260_000 + basalNl);
  });

  it('sends drug to the tip before the bolus ends, then a dilute tail, then full strength', () => {
    const sim = startRun(implant([prime]));
    expect(tipPg(runTo(sim, 1_688_400 - 1), 'morphine')).toBe(0);
    expect(tipPg(runTo(sim, 1_688_400), 'morphine')).toBeGreaterThan(0);
    expect(tipPg(runTo(sim, 1_872_000), 'morphine')).toBe(13_000_000); // the zone's front half
    expect(tipPg(runTo(sim, 1_872_000 + 52 * 86_400), 'morphine')).toBe(52_000_000); // + the back half, 39 µg
    expect(tipPg(runTo(sim, 1_872_000 + 53 * 86_400), 'morphine')).toBe(52_000_000 + 500 * 2_000); // full strength
    const [zone, full] = sim.drugPath!.arrivals;
    expect([zone!.label, zone!.atMs]).toEqual(['mixture 1 mixing zone', 1_688_400]);
    expect([full!.label, full!.atMs]).toEqual(['mixture 1', 6_451_200]);
  });

  it('conserves the drug: what left the tip plus what the catheter holds is what left the pump', () => {
    const sim = runWhole(implant([prime]));
    expect(tipPg(sim, 'morphine') + sim.drugPath!.inPathPg().get('morphine')!).toBe(
      sim.trueDeliveredPg.get('morphine'),
    );
  });

  it('with mixing off (0 %) is plug flow: nothing until the whole catheter has been pushed', () => {
    const sim = startRun(implant([prime], { mixingZone: '0 %' }));
    expect(tipPg(runTo(sim, 1_872_000), 'morphine')).toBe(0);
    expect(tipPg(runTo(sim, 1_872_000 + 86_400), 'morphine')).toBe(500 * 2_000);
  });
});

describe('a priming bolus refused', () => {
  it('without the statement that the catheter holds no drug', () => {
    const sim = runWhole(implant([{ at: '0d 00:00', primingBolus: {} }]));
    expect(ofType(sim.events, 'refused').map((e) => [e.command, e.field, e.value])).toEqual([
      ['cmd.primingBolus', 'primingBolus.confirm', 'false'],
    ]);
    expect(ofType(sim.events, 'bolusStarted')).toHaveLength(0);
  });

  it('when the pump has no catheter recorded, or while another bolus runs', () => {
    const unrecorded = runWhole(implant([prime], { recorded: false }));
    expect(ofType(unrecorded.events, 'refused').map((e) => [e.field, e.value])).toEqual([
      ['pumpConfig.catheterLengthCm', 'not recorded'],
    ]);
    const twice = runWhole(implant([prime, { at: '0d 00:10', primingBolus: { confirm: true } }]));
    expect(ofType(twice.events, 'refused').map((e) => [e.field, e.value])).toEqual([
      ['therapy', 'a bolus is running'],
    ]);
  });
});

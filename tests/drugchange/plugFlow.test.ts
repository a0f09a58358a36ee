/**
 * Dead volume as plug flow, through the whole simulator: a concentration change at a refill, with
 * and without the bridge, checked against plug-flow arithmetic done by hand.
 *
 * Setting (both runs): morphine 2 mg/mL at 1 mg/day = 0.5 mL/day = 500 000 nL/day, 500 nL strokes
 * every 86 400 ms, the first at 86 400 ms. Catheter 100 cm × 2 600 nL/cm = 260 000 nL, full of the
 * 2 mg/mL mixture at the start. At t0 = 1d 10:00 = 122 400 000 ms the reservoir is refilled with
 * 4 mg/mL; the prescription stays 1 mg/day, so the new rate is 250 000 nL/day (a stroke every
 * 172 800 ms).
 * - Before t0: strokes k × 86 400 ms for k = 1..1416 (1416 × 86 400 = 122 342 400 < t0 <
 *   1417 × 86 400). The tip delivered 1416 × 500 nL × 2 000 pg/nL = 1 416 000 000 pg. At t0 the
 *   programme is 57 600 ms into the next stroke: 57 600 × 500 000 / 86 400 000 = 333⅓ nL owed.
 * - Every nL that enters the path pushes one out of the tip: the new mixture's first nL leaves
 *   with the stroke that brings the volume pushed since t0 past 260 000 nL, the 521st.
 */
import { describe, expect, it } from 'vitest';
import { at, morphineBase, ofType, scenario } from '../scenario/helpers.js';
import { runTo, runWhole, startRun, tipPg } from './helpers.js';

const t0 = at(1, 10);
const D = 260_000;
const before = 1416 * 500 * 2_000; // pg that left the tip before t0

function change(bridge: boolean) {
  return scenario({
    ...morphineBase,
    duration: '4d',
    catheter: { length: '100 cm', volumePerCm: '2.6 uL' },
    timeline: [
      {
        at: '1d 10:00',
        refill: {
          added: '20 mL',
          confirm: true,
          bridge,
          mixture: [{ drug: 'morphine', concentration: '4 mg/mL' }],
        },
      },
    ],
  });
}

describe('a concentration change without a bridge: the old mixture at the new rate', () => {
  // The new rate starts at t0. The owed 333⅓ nL reach a stroke after 166⅔ nL at 250 000 nL/day
  // = 57 600 ms; stroke j after t0 comes at t0 + 57 600 + (j − 1) × 172 800 ms.
  const stroke = (j: number) => t0 + 57_600 + (j - 1) * 172_800;
  // Tip dose after j strokes since t0: 520 strokes of the old 2 000 pg/nL, then the new 4 000 pg/nL.
  const tipAfter = (j: number) =>
    before + Math.min(j, 520) * 500 * 2_000 + Math.max(0, j - 520) * 500 * 4_000;

  it('delivers at the tip, stroke by stroke, exactly what plug flow says', () => {
    const sim = startRun(change(false));
    for (const j of [1, 100, 519, 520, 521, 522, 1000]) {
      // Just before stroke j and just after it.
      expect(tipPg(runTo(sim, stroke(j) - 1), 'morphine'), `before stroke ${j}`).toBe(
        tipAfter(j - 1),
      );
      expect(tipPg(runTo(sim, stroke(j)), 'morphine'), `at stroke ${j}`).toBe(tipAfter(j));
    }
  });

  it('reports the new mixture first at the tip with stroke 521, 24 h 58 min 33.6 s after the refill', () => {
    const sim = runWhole(change(false));
    const arrival = t0 + 57_600 + 520 * 172_800; // t0 + 89 913 600 ms
    const path = sim.drugPath!;
    expect(path.arrivals.map((a) => [a.label, a.atMs])).toEqual([['mixture 2', arrival]]);
    // The pump logged why there is no bridge, and its own forecast: 260 000 nL at 250 000 nL/day.
    expect(
      ofType(sim.events, 'bridgeSkipped').map((e) => [e.atMs, e.reason, e.newMixtureAtTipAfterMs]),
    ).toEqual([[t0, 'declined', 89_856_000]]);
  });

  it('flags the transient: 520 µg at the tip where the new rate meant 1 040 µg', () => {
    const sim = runWhole(change(false));
    const [w] = sim.drugPath!.windows;
    expect(w!.basalTipPg.get('morphine')).toBe(D * 2_000); // the path's old content
    expect(w!.basalIntendedPg.get('morphine')).toBe(D * 4_000); // the same volume at the new concentration
  });

  it('totals over 4 days: 1292 strokes after t0, 3.48 mg at the tip, 0.26 mL of 4 mg/mL left in the catheter', () => {
    const sim = runWhole(change(false));
    // Strokes after t0 by 4d: t0 + 57 600 + (j − 1) × 172 800 ≤ 345 600 000 → j ≤ 1292.
    expect(tipPg(sim, 'morphine')).toBe(tipAfter(1292));
    expect(tipAfter(1292)).toBe(3_480_000_000);
    expect(sim.drugPath!.inPathPg().get('morphine')).toBe(D * 4_000);
  });
});

describe('the same change with the bridge: the old rate until the old mixture has left the tip', () => {
  // The old rate goes on: the owed 333⅓ nL reach a stroke after 166⅔ nL at 500 000 nL/day =
  // 28 800 ms, then every 86 400 ms. The pump ends the bridge when the old schedule has programmed
  // 260 000 nL: ⌈260 000 × 86 400 000 / 500 000⌉ = 44 928 000 ms after t0. By then 520 strokes
  // (the last at t0 + 28 800 + 519 × 86 400 = t0 + 44 870 400) have pushed exactly the path.
  const bridgeEnd = t0 + 44_928_000;
  // Owed at the end: 333⅓ nL again; at 250 000 nL/day the next stroke comes 57 600 ms later,
  // carrying the new mixture's first nL to the tip.
  const arrival = bridgeEnd + 57_600;

  it('keeps 1 mg/day at the tip: 520 µg in the 12 h 28 min 48 s of the bridge, then 4 mg/mL at 0.25 mL/day', () => {
    const sim = startRun(change(true));
    expect(tipPg(runTo(sim, t0), 'morphine')).toBe(before);
    expect(tipPg(runTo(sim, bridgeEnd), 'morphine')).toBe(before + D * 2_000);
    expect(tipPg(runTo(sim, arrival - 1), 'morphine')).toBe(before + D * 2_000);
    expect(tipPg(runTo(sim, arrival), 'morphine')).toBe(before + D * 2_000 + 500 * 4_000);
    // 1 day after the arrival: strokes every 172 800 ms, 500 strokes of 2 µg.
    expect(tipPg(runTo(sim, arrival + 499 * 172_800), 'morphine')).toBe(
      before + D * 2_000 + 500 * 500 * 4_000,
    );
  });

  it('logs the bridge with its end, and ends it there', () => {
    const sim = runWhole(change(true));
    expect(
      ofType(sim.events, 'bridgeStarted').map((e) => [
        e.atMs,
        e.volumeNl,
        e.oldRateNlPerDay,
        e.endMs,
      ]),
    ).toEqual([[t0, D, 500_000, bridgeEnd]]);
    expect(
      ofType(sim.events, 'bridgeFinished').map((e) => [e.atMs, e.startedAtMs, e.volumeNl]),
    ).toEqual([[bridgeEnd, t0, D]]);
    expect(sim.drugPath!.arrivals.map((a) => a.atMs)).toEqual([arrival]);
    const [w] = sim.drugPath!.windows;
    expect(w!.bridged).toBe(true);
    expect(w!.basalTipPg.get('morphine')).toBe(D * 2_000);
    expect(w!.basalIntendedPg.get('morphine')).toBe(D * 2_000);
  });

  it('delivers 4 mg at the tip over the 4 days, and 4.52 mg left the pump', () => {
    const result = runWhole(change(true));
    // After the arrival, strokes at arrival + (k − 1) × 172 800 ≤ 4d: k ≤ 1032.
    expect(tipPg(result, 'morphine')).toBe(before + D * 2_000 + 1032 * 500 * 4_000);
    expect(before + D * 2_000 + 1032 * 500 * 4_000).toBe(4_000_000_000);
    // What left the pump: the tip's dose plus the catheter's content now, less its content at the start.
    expect(result.trueDeliveredPg.get('morphine')).toBe(4_000_000_000 + D * 4_000 - D * 2_000);
  });
});

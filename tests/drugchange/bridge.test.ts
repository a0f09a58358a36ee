/**
 * The bridge bolus in the controller: the old schedule runs until the pump estimates that the new
 * mixture has reached the catheter tip, and it is moved by what pushes the catheter or stops it.
 *
 * Setting: morphine 2 mg/mL at 1 mg/day (500 000 nL/day, 500 nL strokes), 260 000 nL of catheter.
 * At t0 = 1d 10:00 the reservoir gets 4 mg/mL (the new schedule: 250 000 nL/day). Without
 * anything else the bridge ends after ⌈260 000 × 86 400 000 / 500 000⌉ = 44 928 000 ms
 * (tests/drugchange/plugFlow.test.ts checks that case stroke by stroke).
 */
import { describe, expect, it } from 'vitest';
import { boot } from '../../src/pump/commands.js';
import { initialContext } from '../../src/controller.js';
import { defaultDrugLibrary } from '../../src/therapy/drugLibrary.js';
import { pumpConfigOf } from '../../sim/scenario.js';
import { DAY_MS, HOUR_MS } from '../../src/units.js';
import { at, morphineBase, ofType, ptm, scenario, when } from '../scenario/helpers.js';
import { runWhole } from './helpers.js';
import { eachTest } from '../eachTest.js';

const t0 = at(1, 10);
const D = 260_000;
const plainEnd = t0 + 44_928_000;
const fourMg = [{ drug: 'morphine', concentration: '4 mg/mL' }];

const withBridge = (timeline: unknown[]) =>
  scenario({
    ...morphineBase,
    duration: '3d',
    ptm,
    timeline: [{ at: when(1, 10), refill: { added: '18 mL', mixture: fourMg } }, ...timeline],
  });

const arrivalsOf = (sim: ReturnType<typeof runWhole>) =>
  sim.drugPath!.arrivals.map((a) => [a.label, a.atMs]);
/** The true arrival is the first stroke after the estimate, at the old rate or the new one. */
const withinAStroke = (arrivalMs: number, endMs: number) =>
  arrivalMs >= endMs - 86_400 && arrivalMs <= endMs + 172_800;

describe('a patient bolus during the bridge', () => {
  // At 12:00 the old schedule has pushed 500 000 nL/day × 2 h = 41 666⅔ nL; the bolus (0.1 mg at
  // 4 mg/mL = 25 000 nL) pushes 25 000 nL more. Left: (260 000 × DAY − 500 000 × 7 200 000 −
  // 25 000 × DAY) fine = 16 704 000 000 000, pushed at 500 000 nL/day in 33 408 000 ms.
  const sim = eachTest(() => runWhole(withBridge([{ at: when(1, 12), press: {} }])));
  const end = at(1, 12) + 33_408_000;

  it('ends the bridge earlier by the bolus volume at the old rate: 72 min', () => {
    expect(ofType(sim.events, 'pressGranted').map((e) => e.atMs)).toEqual([at(1, 12)]);
    expect(ofType(sim.events, 'bridgeAdjusted').map((e) => [e.atMs, e.reason, e.endMs])).toEqual([
      [at(1, 12), 'bolus', end],
    ]);
    expect(plainEnd - end).toBe((25_000 * DAY_MS) / 500_000);
    expect(ofType(sim.events, 'bridgeFinished').map((e) => e.atMs)).toEqual([end]);
  });

  it('has the new mixture reach the tip within a stroke of that estimate', () => {
    const [[label, arrival]] = arrivalsOf(sim) as [[string, number]];
    expect(label).toBe('mixture 2');
    expect(withinAStroke(arrival, end)).toBe(true);
  });

  it('keeps the old basal dose at the tip; the bolus gave the old mixture, half the dose it was sized for', () => {
    const [w] = sim.drugPath!.windows;
    const pg = (m: Map<string, number>) => m.get('morphine')!;
    // The bolus's share of a batch is its rate over the batch's, so the split is exact to a stroke
    // (500 nL of 2 mg/mL = 1 µg); the sum is exact.
    const stroke = 500 * 2_000;
    expect(Math.abs(pg(w!.basalTipPg) - pg(w!.basalIntendedPg))).toBeLessThanOrEqual(stroke);
    // The whole catheter left at 2 mg/mL: 520 µg, 50 µg of it pushed by the bolus's 25 000 nL.
    expect(pg(w!.basalTipPg) + pg(w!.bolusTipPg)).toBeCloseTo(D * 2_000, 0);
    expect(Math.abs(pg(w!.bolusTipPg) - 25_000 * 2_000)).toBeLessThanOrEqual(stroke);
    expect(Math.abs(pg(w!.bolusIntendedPg) - 25_000 * 4_000)).toBeLessThanOrEqual(2 * stroke);
  });
});

describe('a patient bolus still running at a refill with a new mixture', () => {
  // Granted at 09:55: 0.1 mg at 2 mg/mL = 50 000 nL over 10 min, still running at 10:00. A bolus
  // keeps its volume, so the new 4 mg/mL under it would double its dose (QA finding #7): the
  // change of mixture is refused until the bolus has ended, and nothing changes.
  const sim = eachTest(() =>
    runWhole(
      scenario({
        ...morphineBase,
        duration: '2d',
        ptm,
        timeline: [
          { at: when(1, 9, 55), press: {} },
          { at: when(1, 10), refill: { added: '18 mL', mixture: fourMg } },
        ],
      }),
    ),
  );

  it('refuses the refill, naming the running bolus, and starts no bridge', () => {
    expect(ofType(sim.events, 'refused').map((e) => [e.atMs, e.field, e.value])).toEqual([
      [t0, 'mixture', 'a patient bolus is running'],
    ]);
    expect(ofType(sim.events, 'bridgeStarted')).toHaveLength(0);
    expect(ofType(sim.events, 'refill').filter((e) => e.atMs === t0)).toHaveLength(0);
  });
});

describe('a stop during the bridge', () => {
  const sim = eachTest(() =>
    runWhole(
      withBridge([
        { at: when(1, 14), stop: {} },
        { at: when(1, 16), resume: {} },
      ]),
    ),
  );

  it('pauses it and resumes it with what was left: it ends 2 h later than planned', () => {
    const adjusted = ofType(sim.events, 'bridgeAdjusted').map((e) => [e.atMs, e.reason]);
    expect(adjusted).toEqual([
      [at(1, 14), 'paused'],
      [at(1, 16), 'resumed'],
    ]);
    const [finished] = ofType(sim.events, 'bridgeFinished');
    expect(Math.abs(finished!.atMs - (plainEnd + 2 * HOUR_MS))).toBeLessThanOrEqual(1);
    expect(withinAStroke(sim.drugPath!.arrivals[0]!.atMs, finished!.atMs)).toBe(true);
  });
});

describe('a new prescription during the bridge', () => {
  const sim = eachTest(() =>
    runWhole(
      withBridge([
        { at: when(1, 11), program: { prescription: { mode: 'continuous', dose: '2 mg/day' } } },
      ]),
    ),
  );

  it('leaves the bridge as it is and takes over when it ends', () => {
    expect(
      ofType(sim.events, 'programmed')
        .filter((e) => e.field === 'prescription')
        .map((e) => e.atMs),
    ).toEqual([0, at(1, 11)]);
    expect(ofType(sim.events, 'bridgeAdjusted')).toHaveLength(0);
    expect(ofType(sim.events, 'bridgeFinished').map((e) => e.atMs)).toEqual([plainEnd]);
    // After the bridge: 2 mg/day of 4 mg/mL = 500 000 nL/day: 1 mg/day at the tip becomes 2 mg/day.
    expect(sim.controller.context.steps?.ratesNlPerDay).toEqual([500_000]);
  });
});

describe('a second drug change before the first has cleared', () => {
  // At 14:00 the catheter holds 2 mg/mL ahead of 4 mg/mL; a refill with 5 mg/mL starts a new bridge
  // on the schedule the tip runs on (the first bridge's 500 000 nL/day) for the whole catheter.
  const sim = eachTest(() =>
    runWhole(
      withBridge([
        {
          at: when(1, 14),
          refill: { added: '18 mL', mixture: [{ drug: 'morphine', concentration: '5 mg/mL' }] },
        },
      ]),
    ),
  );
  const secondEnd = at(1, 14) + 44_928_000;

  it('bridges the whole catheter again at the old schedule; each mixture reaches the tip in turn', () => {
    const started = ofType(sim.events, 'bridgeStarted');
    expect(started.map((e) => [e.atMs, e.oldRateNlPerDay, e.endMs])).toEqual([
      [t0, 500_000, plainEnd],
      [at(1, 14), 500_000, secondEnd],
    ]);
    expect(ofType(sim.events, 'bridgeFinished').map((e) => e.atMs)).toEqual([secondEnd]);
    const arrivals = arrivalsOf(sim) as [string, number][];
    expect(arrivals.map(([label]) => label)).toEqual(['mixture 2', 'mixture 3']);
    expect(withinAStroke(arrivals[0]![1], plainEnd)).toBe(true);
    expect(withinAStroke(arrivals[1]![1], secondEnd)).toBe(true);
  });
});

describe('a reset during the bridge', () => {
  it('keeps the bridge that the restored context holds: the old schedule overrides the new until its end', () => {
    const config = pumpConfigOf(withBridge([]));
    const ctx = initialContext(config, defaultDrugLibrary, 0);
    const bridge = {
      startMs: t0,
      volumeNl: D,
      steps: { startsMs: [0], ratesNlPerDay: [500_000] },
      oldMixture: [{ drug: 'morphine', concentrationUgPerMl: 2_000 }],
      remainingFine: D * DAY_MS,
      anchorMs: t0,
      endMs: plainEnd,
    };
    const restored = {
      context: {
        mixture: [{ drug: 'morphine', concentrationUgPerMl: 4_000 }],
        prescription: { mode: 'continuous' as const, doseNgPerDay: 1_000_000 },
        settledAtMs: t0 + HOUR_MS,
        mode: 'basal' as const,
        bridge,
      },
      therapy: 'infusing' as const,
      memoryError: false,
      inFlightStrokes: 0,
    };
    const step = boot(ctx, {
      type: 'boot',
      rtcMs: 0,
      battery: 'ok',
      lowBatteryReset: false,
      restored,
      nowMs: t0 + HOUR_MS,
    });
    expect(step.ctx.bridge).toEqual(bridge);
    expect(step.ctx.steps).toEqual({
      startsMs: [0],
      ratesNlPerDay: [250_000],
      override: { steps: bridge.steps, untilMs: plainEnd },
    });
  });
});

/**
 * Plug flow through the drug path, checked against arithmetic done by hand.
 *
 * Method: a path of 100 cm of Prometra catheter (2600 nL/cm, 0.26 mL) holding morphine 2 mg/mL +
 * bupivacaine 12 mg/mL is refilled with morphine 4 mg/mL + bupivacaine 30 mg/mL + clonidine
 * 100 µg/mL and run at 0.65 mL/day. The test pushes what a constant rate delivers in 6-minute
 * steps (cumulative volume rounded down, as strokes would) and compares the tip's output with the
 * volumes, times and per-drug doses worked out in the comments.
 */
import { describe, expect, it } from 'vitest';
import {
  createDrugPath,
  DrugPathError,
  drugPathVolumeNl,
  pathContentPg,
  PROMETRA_CATHETER_LENGTH_CM_UNTRIMMED,
  PROMETRA_CATHETER_VOLUME_NL_PER_CM,
  push,
  pushDurationMs,
  reservoirFluidAtTipAfterMs,
  segmentAtTipAfterMs,
  volumeAheadNl,
  volumeAheadOfNewestNl,
  type DosesPg,
  type DrugPath,
  type PathMixture,
} from '../../src/dosing/catheter.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/units.js';

const oldMixture: PathMixture = [
  { drug: 'morphine', concentrationUgPerMl: 2_000 },
  { drug: 'bupivacaine', concentrationUgPerMl: 12_000 },
];
const newMixture: PathMixture = [
  { drug: 'morphine', concentrationUgPerMl: 4_000 },
  { drug: 'bupivacaine', concentrationUgPerMl: 30_000 },
  { drug: 'clonidine', concentrationUgPerMl: 100 },
];
const rateNlPerDay = 650_000; // 0.65 mL/day

const pg = (doses: DosesPg, drug: string) => doses.get(drug) ?? 0;

/** Volume a constant rate has pushed by `timeMs`, rounded down (what whole strokes deliver). */
const pushedByNl = (timeMs: number, rate: number) => Math.floor((rate * timeMs) / DAY_MS);

interface Run {
  path: DrugPath;
  leftPg: Map<string, number>;
  /** Cumulative pg per drug at the end of each step. */
  history: { timeMs: number; clonidinePg: number; pushedNl: number }[];
}

/** Pushes `mixture` at a constant rate from 0 to `untilMs` in `stepMs` steps. */
function runAtRate(
  path: DrugPath,
  mixture: PathMixture,
  rate: number,
  untilMs: number,
  stepMs: number,
): Run {
  const leftPg = new Map<string, number>();
  const history: Run['history'] = [];
  for (let t = stepMs; t <= untilMs; t += stepMs) {
    const result = push(
      path,
      pushedByNl(t, rate) - pushedByNl(t - stepMs, rate),
      mixture,
      'fill 2',
    );
    path = result.path;
    for (const [drug, p] of result.leftPg) leftPg.set(drug, pg(leftPg, drug) + p);
    history.push({
      timeMs: t,
      clonidinePg: pg(leftPg, 'clonidine'),
      pushedNl: pushedByNl(t, rate),
    });
  }
  return { path, leftPg, history };
}

describe('drug path geometry', () => {
  it('is pump tubing plus catheter length × volume per cm (Prometra: 0.0026 mL/cm, 110 cm untrimmed)', () => {
    expect(
      drugPathVolumeNl({
        pumpTubingVolumeNl: 0,
        catheterLengthCm: 100,
        catheterVolumeNlPerCm: PROMETRA_CATHETER_VOLUME_NL_PER_CM,
      }),
    ).toBe(260_000);
    // 110 cm × 2600 nL/cm = 286 000 nL, the "about 0.29 mL untrimmed" of the IFU; plus 1.5 µL of tubing.
    expect(
      drugPathVolumeNl({
        pumpTubingVolumeNl: 1_500,
        catheterLengthCm: PROMETRA_CATHETER_LENGTH_CM_UNTRIMMED,
        catheterVolumeNlPerCm: 2_600,
      }),
    ).toBe(287_500);
  });

  it('refuses a negative or fractional length, naming the field, value and limit', () => {
    expect(() =>
      drugPathVolumeNl({
        pumpTubingVolumeNl: 0,
        catheterLengthCm: -1,
        catheterVolumeNlPerCm: 2_600,
      }),
    ).toThrow(/catheterLengthCm = -1: must be an integer from 0 to 1000/);
    expect(() =>
      drugPathVolumeNl({
        pumpTubingVolumeNl: 0.5,
        catheterLengthCm: 1,
        catheterVolumeNlPerCm: 2_600,
      }),
    ).toThrow(DrugPathError);
  });
});

describe('plug flow after a concentration change (0.26 mL path, 0.65 mL/day)', () => {
  const path = createDrugPath({ deadVolumeNl: 100 * 2_600, fill: oldMixture, label: 'fill 1' });

  it('puts the new mixture at the tip after 0.26 / 0.65 day = 0.4 day = 9 h 36 min', () => {
    expect(reservoirFluidAtTipAfterMs(path, rateNlPerDay)).toBe(9 * HOUR_MS + 36 * MINUTE_MS);
  });

  it('delivers by hand-computed doses in the first 12 h, and clonidine first at 9 h 36 min', () => {
    const run = runAtRate(path, newMixture, rateNlPerDay, 12 * HOUR_MS, 6 * MINUTE_MS);
    // 12 h at 0.65 mL/day = 325 000 nL: the 260 000 nL of old mixture, then 65 000 nL of the new.
    expect(run.history.at(-1)!.pushedNl).toBe(325_000);
    expect(pg(run.leftPg, 'morphine')).toBe(260_000 * 2_000 + 65_000 * 4_000); // 780 µg
    expect(pg(run.leftPg, 'bupivacaine')).toBe(260_000 * 12_000 + 65_000 * 30_000); // 5.07 mg
    expect(pg(run.leftPg, 'clonidine')).toBe(65_000 * 100); // 6.5 µg
    // Step 96 ends at 9 h 36 min with exactly 260 000 nL pushed and no clonidine out; step 97 has some.
    const atTip = run.history.findIndex((h) => h.timeMs === 9 * HOUR_MS + 36 * MINUTE_MS);
    expect(run.history[atTip]!.pushedNl).toBe(260_000);
    expect(run.history.slice(0, atTip + 1).every((h) => h.clonidinePg === 0)).toBe(true);
    // The next 6 min push floor(0.65 mL/day × 9.7 h) − 260 000 = 262 708 − 260 000 nL of new mixture.
    expect(run.history[atTip + 1]!.clonidinePg).toBe((262_708 - 260_000) * 100);
    // The path now holds only the new mixture.
    expect(run.path.segments).toEqual([
      { volumeNl: 260_000, mixture: newMixture, label: 'fill 2' },
    ]);
  });

  it('rounds the arrival time up to a whole ms when the division is not exact', () => {
    // 261 000 nL (1 µL of tubing more) at 650 000 nL/day: 261 000 × 86 400 000 / 650 000 = 34 692 923.08 ms.
    const longer = createDrugPath({ deadVolumeNl: 261_000, fill: oldMixture });
    const arrivalMs = reservoirFluidAtTipAfterMs(longer, rateNlPerDay);
    expect(arrivalMs).toBe(34_692_924);
    expect(pushedByNl(arrivalMs - 1, rateNlPerDay)).toBe(260_999);
    expect(pushedByNl(arrivalMs, rateNlPerDay)).toBe(261_000);
    const untilTip = push(longer, pushedByNl(arrivalMs, rateNlPerDay), newMixture);
    expect(pg(untilTip.leftPg, 'clonidine')).toBe(0);
    expect(pg(push(untilTip.path, 1, newMixture).leftPg, 'clonidine')).toBe(100);
  });
});

describe('push()', () => {
  const path = createDrugPath({ deadVolumeNl: 1_000, fill: oldMixture, label: 'fill 1' });

  it('returns what left the tip per segment, oldest first, with exact pg per drug', () => {
    const first = push(path, 300, newMixture, 'fill 2');
    const second = push(first.path, 900, [{ drug: 'morphine', concentrationUgPerMl: 1 }], 'fill 3');
    // 1 000 nL path: 300 nL of fill 1 leave first; then 700 nL of fill 1 and 200 nL of fill 2.
    expect(first.leftTip).toEqual([
      {
        volumeNl: 300,
        mixture: oldMixture,
        label: 'fill 1',
        dosePg: new Map([
          ['morphine', 600_000],
          ['bupivacaine', 3_600_000],
        ]),
      },
    ]);
    expect(second.leftTip.map((o) => [o.label, o.volumeNl])).toEqual([
      ['fill 1', 700],
      ['fill 2', 200],
    ]);
    expect(pg(second.leftPg, 'morphine')).toBe(700 * 2_000 + 200 * 4_000);
    expect(pg(second.leftPg, 'clonidine')).toBe(200 * 100);
    expect(second.path.segments.map((s) => [s.label, s.volumeNl])).toEqual([
      ['fill 2', 100],
      ['fill 3', 900],
    ]);
    expect(volumeAheadOfNewestNl(second.path)).toBe(100);
    expect(volumeAheadNl(second.path, 1)).toBe(100);
    // 100 nL ahead at 0.65 mL/day: 100 × 86 400 000 / 650 000 = 13 292.3 ms, rounded up.
    expect(segmentAtTipAfterMs(second.path, 1, rateNlPerDay)).toBe(13_293);
  });

  it('sends part of the pushed fluid straight through when the push exceeds the path', () => {
    const result = push(path, 2_500, newMixture, 'fill 2');
    expect(result.leftTip.map((o) => [o.label, o.volumeNl])).toEqual([
      ['fill 1', 1_000],
      ['fill 2', 1_500],
    ]);
    expect(pg(result.leftPg, 'clonidine')).toBe(1_500 * 100);
    expect(result.path.segments).toEqual([
      { volumeNl: 1_000, mixture: newMixture, label: 'fill 2' },
    ]);
  });

  it('merges pushes of the same fluid into one segment, so steady delivery keeps the queue short', () => {
    let current = path;
    for (let i = 0; i < 20; i++) current = push(current, 37, newMixture, 'fill 2').path;
    expect(current.segments.map((s) => [s.label, s.volumeNl])).toEqual([
      ['fill 1', 1_000 - 20 * 37],
      ['fill 2', 20 * 37],
    ]);
  });

  it('does nothing for a zero push', () => {
    const result = push(path, 0, newMixture);
    expect(result.path).toBe(path);
    expect(result.leftTip).toEqual([]);
  });

  it('refuses bad input with the field, value and limit, and leaves the path as it was', () => {
    const before = structuredClone(path);
    expect(() => push(path, -1, newMixture)).toThrow(
      'volumeNl = -1: must be an integer from 0 to 100000000',
    );
    expect(() => push(path, 10, [{ drug: 'morphine', concentrationUgPerMl: 2.5 }])).toThrow(
      /mixture\[0\]\.concentrationUgPerMl = 2.5/,
    );
    expect(() =>
      push(path, 10, [
        ...newMixture,
        { drug: 'ziconotide', concentrationUgPerMl: 25 },
        { drug: 'baclofen', concentrationUgPerMl: 500 },
      ]),
    ).toThrow('mixture.length = 5: must be from 0 to 4 drugs');
    expect(() =>
      push(path, 10, [
        { drug: 'morphine', concentrationUgPerMl: 1 },
        { drug: 'morphine', concentrationUgPerMl: 2 },
      ]),
    ).toThrow(/mixture\[1\]\.drug = "morphine": must be a drug not already in the mixture/);
    expect(path).toEqual(before);
  });

  it('keeps a path of no volume (bench set-up without catheter) working: everything passes straight out', () => {
    const empty = createDrugPath({ deadVolumeNl: 0, fill: [] });
    const result = push(empty, 500, newMixture);
    expect(pg(result.leftPg, 'morphine')).toBe(500 * 4_000);
    expect(pathContentPg(result.path).size).toBe(0);
  });
});

describe('pushDurationMs()', () => {
  it('is exact when the rate divides, and refuses a zero rate', () => {
    expect(pushDurationMs(650_000, 650_000)).toBe(DAY_MS);
    expect(() => pushDurationMs(1, 0)).toThrow(
      'rateNlPerDay = 0: must be an integer from 1 to 24000000',
    );
  });
});

/**
 * The reservoir: low and empty alarms at times computed by hand from the fill, the rate and the
 * thresholds; the safe minimum rate and `reservoirEmpty` denials after empty; a refill above
 * capacity refused, naming the field, the value and the limit, and changing nothing else.
 */
import { describe, expect, it } from 'vitest';
import { NL_PER_ML } from '../../src/units.js';
import { runScenario, type RunResult } from '../../sim/runner.js';
import { at, mg, morphineBase, ofType, pressOutcomes, ptm, scenario, when } from './helpers.js';
import { eachTest } from '../eachTest.js';

// Fill 4.2 mL at 0.5 mL/day (morphine 1 mg/day at 2 mg/mL), strokes of 500 nL every 86.4 s.
// The estimate falls one stroke at a time; an alarm fires at the stroke that takes it to ≤ its threshold.
// Every figure below is worked out by hand from those numbers:
const fillNl = 4_200_000;
const strokeNl = 500;
// 500 nL ÷ 500 000 nL/day × 86 400 000 ms/day = 86 400 ms: an exact interval, so no stroke is early.
const strokeMs = 86_400;
// (4.2 − 2) mL ÷ 500 nL = 4 400 strokes to the low threshold; (4.2 − 0.5) mL ÷ 500 nL = 7 400 to empty.
const strokesToEmpty = 7_400;
const lowAtMs = at(4, 9, 36); // 4 400 × 86.4 s = 380 160 s = 4 d 9 h 36 min
const emptyAtMs = at(7, 9, 36); // 7 400 × 86.4 s = 639 360 s = 7 d 9 h 36 min
// Then the safe minimum rate, 0.048 mL/day: a stroke every 500 nL ÷ 48 000 nL/day = 1/96 day = 15 min, from empty.
const minimumStrokeMs = 15 * 60_000;
const durationMs = emptyAtMs + 2 * 86_400_000; // two more days: 2 × 96 strokes

describe('low and empty reservoir', () => {
  const result = eachTest(() =>
    runScenario(
      scenario({
        ...morphineBase,
        duration: `${durationMs} ms`,
        initialFill: {
          volume: '4.2 mL',
          mixture: [{ drug: 'morphine', concentration: '2 mg/mL' }],
        },
        ptm,
        timeline: [
          { at: when(8, 0), press: {} },
          { at: when(8, 12), press: {} },
          { at: when(8, 12, 5), clinicianBolus: { dose: '0.1 mg', duration: '10 min' } },
        ],
      }),
    ),
  );

  it('strokes every 86.4 s until empty, then every 15 min: the hourly reservoir, estimate and true, follows by hand', () => {
    // By t the pump has made the strokes due by t: ⌊t / 86.4 s⌋ up to empty (stroke 7 400 at
    // 7d 09:36), then 7 400 + ⌊(t − 7d 09:36) / 15 min⌋. The run ends two days after empty.
    expect(result.trace.at(-1)!.timeMs).toBe(durationMs);
    for (const row of result.trace) {
      const t = row.timeMs;
      const strokes =
        t <= emptyAtMs
          ? Math.floor(t / strokeMs)
          : strokesToEmpty + Math.floor((t - emptyAtMs) / minimumStrokeMs);
      expect([row.reservoirEstimateNl, row.reservoirTrueNl], `at ${t} ms`).toEqual([
        fillNl - strokes * strokeNl,
        fillNl - strokes * strokeNl,
      ]);
    }
  });

  it('raises the low-reservoir alarm at the stroke that reaches 2 mL, and the empty alarm at 0.5 mL', () => {
    expect(
      ofType(result.events, 'alarmRaised').map((e) => ({
        code: e.code,
        priority: e.priority,
        atMs: e.atMs,
      })),
    ).toEqual([
      { code: 'lowReservoir', priority: 'nonCritical', atMs: lowAtMs },
      { code: 'emptyReservoir', priority: 'critical', atMs: emptyAtMs },
    ]);
    expect(result.summary.alarms).toEqual([
      { code: 'lowReservoir', priority: 'nonCritical', raisedAtMs: lowAtMs, clearedAtMs: null },
      { code: 'emptyReservoir', priority: 'critical', raisedAtMs: emptyAtMs, clearedAtMs: null },
    ]);
  });

  it('drops to the safe minimum rate at empty', () => {
    expect(ofType(result.events, 'minimumRate').map((e) => e.atMs)).toEqual([emptyAtMs]);
    expect(result.summary.finalState.therapy).toBe('minimumRate');
    // 2 days at 15 min a stroke: 192 strokes after the 7 400 (the last falls exactly at the end).
    const strokes = strokesToEmpty + (durationMs - emptyAtMs) / minimumStrokeMs;
    expect(strokes).toBe(7_592);
    expect(result.summary.reservoir.estimateNl).toBe(fillNl - strokes * strokeNl);
    expect(result.summary.drugs).toEqual([
      {
        drug: 'morphine',
        programmedNg: mg(7.592),
        deliveredNg: mg(7.592),
        trueDeliveredNg: mg(7.592),
      },
    ]);
  });

  it('denies patient presses with reservoirEmpty and refuses a clinician bolus', () => {
    expect(pressOutcomes(result.events)).toEqual([
      { atMs: at(8, 0), outcome: 'reservoirEmpty' },
      { atMs: at(8, 12), outcome: 'reservoirEmpty' },
    ]);
    const refused = ofType(result.events, 'refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ atMs: at(8, 12, 5), command: 'cmd.clinicianBolus' });
  });
});

describe('a refill above capacity', () => {
  const base = { ...morphineBase, duration: '3d', ptm, timeline: [{ at: when(1, 8), press: {} }] };
  const overfill = { at: when(1, 10), refill: { added: '25 mL' } };
  const plain = eachTest(() => runScenario(scenario(base)));
  const refused = eachTest(() =>
    runScenario(scenario({ ...base, timeline: [...base.timeline, overfill] })),
  );

  it('is refused with a log record naming the field, the value and the limit', () => {
    const records = ofType(refused.events, 'refused');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      atMs: at(1, 10),
      command: 'cmd.refill',
      field: 'addedNl',
      value: '25.000 mL',
    });
    expect(records[0]!.limit).toContain('20.000 mL');
    expect(records[0]!.message).toMatch(/addedNl.*25\.000 mL.*20\.000 mL/);
    expect(ofType(refused.events, 'refill')).toHaveLength(1); // the initial fill only
  });

  it('changes nothing else: same deliveries, reservoir, trace and log as without it', () => {
    const strip = (r: RunResult) =>
      r.events.filter((e) => e.type !== 'refused').map(({ seq: _seq, ...rest }) => rest);
    expect(strip(refused)).toEqual(strip(plain));
    // The pump's side of the trace. (The harness's delivered and true columns count a motor batch
    // when it ends, or when a refill command flushes it, so they may move earlier; the totals below
    // are the same.)
    const pumpSide = (r: RunResult) =>
      r.trace.map((row) => [row.timeMs, row.reservoirEstimateNl, row.therapy]);
    expect(pumpSide(refused)).toEqual(pumpSide(plain));
    const {
      wallTimeMs: _a,
      refusals: r1,
      refusedCommands: listed1,
      controllerEvents: _c1,
      ...a
    } = refused.summary;
    const {
      wallTimeMs: _b,
      refusals: r0,
      refusedCommands: listed0,
      controllerEvents: _c0,
      ...b
    } = plain.summary;
    expect([r1, r0]).toEqual([1, 0]);
    // The refusal is listed under its YAML path, and is all that differs.
    expect(listed0).toEqual([]);
    expect(listed1.map((r) => r.field)).toEqual(['timeline[1].refill.added']);
    expect(a).toEqual(b);
  });
});

/**
 * The controller's pure decisions (src/pump/decide.ts), one function at a time, on contexts built
 * by hand: the press denial and its reasons, the alarm conditions and tones, the batch records
 * and the 24-hour ledger they feed, mode changes, and the preconditions our own code asserts.
 *
 * The QA suite (tests/model, tests/properties) drives these through the statechart; the cases
 * here pin the boundaries and branches random runs seldom reach (a stroke exactly at the 24-hour
 * cut-off, a bolus exactly at the hard maximum, a clear while the condition still holds). Each
 * figure is worked out in a comment beside it. Mutation testing (docs/testing.md) showed each
 * of these branches unchecked before.
 */
import { describe, expect, it } from 'vitest';
import { AssertionFailure } from '../../src/assert.js';
import { alarmCatalogue, type AlarmCode } from '../../src/alarms.js';
import { recentBatchesMax } from '../../src/constants.js';
import { FINE_PER_NL, startBolus } from '../../src/dosing/delivery.js';
import { rateSteps } from '../../src/dosing/rates.js';
import {
  alarmConditionHolds,
  batchObsolete,
  dailyCapExcess,
  deliveredPgLast24h,
  denyPress,
  enterMode,
  finishBolus,
  grantPress,
  isCurrentBatchReport,
  missedNl,
  nextBatch,
  pressDenial,
  programmedNlAt,
  raiseAlarm,
  recordBatch,
  reportedStall,
  safeMinimumRateNlPerDay,
  settle,
  settleOnly,
  soundDueAlarms,
  stallRetryDue,
  startBatch,
  Step,
  strokesBeforeThreshold,
  strokeHistory,
  tipMixtureWorstCase,
} from '../../src/pump/decide.js';
import type { DoneBatch, PumpContext, PumpEvent, RunningBatch } from '../../src/pump/types.js';
import { defaultPumpConfig } from '../../testing/harness.js';
import type { Bridge, Mixture, Prescription } from '../../src/therapy/schema.js';
import { infusing, morphine, prescription } from './contexts.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/units.js';

const strokeNl = defaultPumpConfig.strokeVolumeNl; // 500 nL
const strokeFine = strokeNl * FINE_PER_NL;
const strokePg = strokeNl * 10_000; // one stroke of morphine: 5,000,000 pg = 5 µg

const wake = (nowMs: number): PumpEvent => ({ type: 'hal.clock.wake', nowMs });
const batchEnded = (
  nowMs: number,
  batchId: number,
  strokesDone: number,
  reason: 'completed' | 'stopped' | 'stalled' | 'linkLost' = 'completed',
): PumpEvent => ({
  type: 'hal.motor.batchEnded',
  nowMs,
  batchId,
  strokesDone,
  reason,
});
const running = (over: Partial<RunningBatch> = {}): RunningBatch => ({
  batchId: 7,
  count: 10,
  leadMs: 1_000,
  intervalMs: MINUTE_MS,
  startMs: 0,
  rateNlPerDay: 720_000,
  version: 0,
  mixture: morphine,
  ...over,
});

describe('Step', () => {
  it('starts with no effects, and a reprogramming counts the programme version up', () => {
    const step = new Step(infusing());
    expect(step.effects).toEqual([]);
    step.reprogrammed();
    step.reprogrammed();
    expect(step.ctx.programmeVersion).toBe(2);
  });

  it('settling backwards in time is our bug: asserted, naming both times', () => {
    const step = new Step(infusing(5_000));
    expect(() => settle(step, 4_999)).toThrow(
      new AssertionFailure('event time 4999 before settled time 5000'),
    );
  });

  it('settling to the settled time accrues nothing; one hour later accrues an hour of basal', () => {
    const step = settleOnly(infusing(0), wake(0));
    expect(step.ctx.owedFine).toBe(0);
    settle(step, HOUR_MS);
    // 500,000 nL/day for an hour: 500,000 × 3,600,000 fine units (1 fine = 1/DAY_MS nL).
    expect(step.ctx.owedFine).toBe(500_000 * HOUR_MS);
    expect(step.ctx.settledAtMs).toBe(HOUR_MS);
  });
});

describe('safeMinimumRateNlPerDay', () => {
  it("keeps the pump model's rate for a drug the library does not list (its limits cannot lower it)", () => {
    const ctx = infusing(0, { mixture: [{ drug: 'saline', concentrationUgPerMl: 1 }] });
    expect(safeMinimumRateNlPerDay(ctx)).toBe(defaultPumpConfig.safeMinimumRateNlPerDay);
  });
});

describe('deliveredPgLast24h (REQ-LIM-5)', () => {
  it('counts only the strokes of a finished batch after the cut-off, a stroke exactly at it excluded', () => {
    // Strokes at 1,000 + k·60,000 ms (k = 0..9). At now = 1 d + 181,000 ms the cut-off is 181,000 ms:
    // strokes k = 0..3 fall at or before it, k = 4..9 (six strokes) inside the window.
    const done: DoneBatch = {
      startMs: 0,
      leadMs: 1_000,
      intervalMs: MINUTE_MS,
      strokes: 10,
      mixture: morphine,
    };
    const ctx = infusing(0, { recentBatches: [done] });
    expect(deliveredPgLast24h(ctx, DAY_MS + 181_000).get('morphine')).toBe(6 * strokePg);
  });

  it('counts the running batch from the cut-off up to now, at each stroke’s own time', () => {
    // Running since 0, strokes at 1,000 + k·60,000 ms. At now = 121,000 ms strokes k = 0..2 are done.
    expect(deliveredPgLast24h(infusing(0, { batch: running() }), 121_000).get('morphine')).toBe(
      3 * strokePg,
    );
    // A day and 181,000 ms in: all ten are done, four of them at or before the cut-off.
    expect(
      deliveredPgLast24h(infusing(0, { batch: running() }), DAY_MS + 181_000).get('morphine'),
    ).toBe(6 * strokePg);
  });
});

describe('pressDenial: one reason, true at that moment (REQ-PTM-5)', () => {
  it('grants a press of a pump infusing with PTM settings and nothing against it', () => {
    expect(pressDenial(infusing(), 0)).toBeUndefined();
  });

  it('denies at the safe minimum rate even with no alarm, and under any critical alarm, but not a non-critical one', () => {
    expect(pressDenial(infusing(0, { mode: 'minimum' }), 0)).toBe('criticalAlarm');
    const raised = (code: AlarmCode) => [{ code, raisedAtMs: 0, nextToneMs: HOUR_MS }];
    expect(pressDenial(infusing(0, { alarms: raised('motorStall') }), 0)).toBe('criticalAlarm');
    expect(pressDenial(infusing(0, { alarms: raised('lowReservoir') }), 0)).toBeUndefined();
  });

  it('denies with noPtm when the settings, the mixture or a bolus volume is missing', () => {
    expect(pressDenial(infusing(0, { ptm: undefined }), 0)).toBe('noPtm');
    expect(pressDenial(infusing(0, { mixture: undefined }), 0)).toBe('noPtm');
    // A PTM dose too small for one nanolitre of this mixture rounds to no volume at all.
    expect(pressDenial(infusing(0, { ptmBolusNl: 0 }), 0)).toBe('noPtm');
  });

  it('grants a bolus of exactly the hard bolus maximum and denies one nanolitre more (bolusDoseCap)', () => {
    // Hard maximum 1 mg = 10^9 pg; at 10,000 pg/nL that is 100,000 nL.
    expect(pressDenial(infusing(0, { ptmBolusNl: 100_000 }), 0)).toBeUndefined();
    expect(pressDenial(infusing(0, { ptmBolusNl: 100_001 }), 0)).toBe('bolusDoseCap');
  });

  it('judges a bolus only on the drugs the library lists', () => {
    const mixture: Mixture = [...morphine, { drug: 'saline', concentrationUgPerMl: 1 }];
    expect(pressDenial(infusing(0, { mixture }), 0)).toBeUndefined();
  });

  it('a granted press needs PTM settings, and a denied press a reason: both asserted', () => {
    expect(() =>
      grantPress(infusing(0, { ptm: undefined }), { type: 'hal.button.pressed', nowMs: 0 }),
    ).toThrow(new AssertionFailure('a granted press needs PTM settings'));
    expect(() => denyPress(infusing(), { type: 'hal.button.pressed', nowMs: 0 })).toThrow(
      new AssertionFailure('denyPress on a press that would be granted'),
    );
  });
});

describe('pressDenial at the boundary of each deny reason, in order of precedence (REQ-PTM-5)', () => {
  // Each reason as a pair: just inside it (denied with that reason) and just outside it (the reason
  // no longer holds: the press is granted, or falls to the next reason of src/pump/types.ts
  // `denyReasons`). The default context (tests/unit/contexts.ts) is granted: morphine 10 mg/mL,
  // 0.5 mL/day (5 mg/day), a PTM bolus of 50,000 nL (0.5 mg), an hour's lockout, four a day.
  const now = 2 * DAY_MS;
  const empty = defaultPumpConfig.emptyReservoirNl; // 500,000 nL
  const raised = (code: AlarmCode) => ({ code, raisedAtMs: 0, nextToneMs: now + HOUR_MS });

  it('stopped: off is denied before anything else; infusing, the press falls to the next reason', () => {
    expect(pressDenial(infusing(now, { mode: 'off' }), now)).toBe('stopped');
    expect(pressDenial(infusing(now, { mode: 'basal' }), now)).toBeUndefined();
    // With the reservoir empty too: stopped outranks it, and once infusing the empty reservoir shows.
    expect(pressDenial(infusing(now, { mode: 'off', reservoirNl: empty }), now)).toBe('stopped');
    expect(pressDenial(infusing(now, { mode: 'basal', reservoirNl: empty }), now)).toBe(
      'reservoirEmpty',
    );
  });

  it('reservoirEmpty: an estimate exactly at the empty threshold is denied, one nanolitre above is granted', () => {
    expect(pressDenial(infusing(now, { reservoirNl: empty }), now)).toBe('reservoirEmpty');
    expect(pressDenial(infusing(now, { reservoirNl: empty + 1 }), now)).toBeUndefined();
  });

  it('criticalAlarm: a critical alarm denies; with only a non-critical one left, the press is granted', () => {
    const alarms = [raised('lowReservoir'), raised('motorStall')];
    expect(pressDenial(infusing(now, { alarms }), now)).toBe('criticalAlarm');
    expect(pressDenial(infusing(now, { alarms: alarms.slice(0, 1) }), now)).toBeUndefined();
    // Above noPtm: a critical alarm without PTM settings is criticalAlarm, then noPtm once cleared.
    expect(pressDenial(infusing(now, { alarms, ptm: undefined }), now)).toBe('criticalAlarm');
    expect(pressDenial(infusing(now, { alarms: [], ptm: undefined }), now)).toBe('noPtm');
  });

  it('noPtm: a bolus volume of 0 nL is no bolus; 1 nL is granted', () => {
    expect(pressDenial(infusing(now, { ptmBolusNl: 0 }), now)).toBe('noPtm');
    expect(pressDenial(infusing(now, { ptmBolusNl: 1 }), now)).toBeUndefined();
  });

  it('lockout: 1 ms before lockoutUntilMs is denied, exactly at it granted; a running bolus locks out too', () => {
    const lockedUntil = infusing(now - 1, { lockoutUntilMs: now });
    expect(pressDenial(lockedUntil, now - 1)).toBe('lockout');
    expect(pressDenial(lockedUntil, now)).toBeUndefined();
    // A bolus still running (started 5 min ago, 10 min long) locks out after the lockout time has passed.
    const bolus = startBolus('patient', now - 5 * MINUTE_MS, 50_000, 10 * MINUTE_MS);
    expect(pressDenial(infusing(now, { lockoutUntilMs: now - HOUR_MS, bolus }), now)).toBe(
      'lockout',
    );
    expect(
      pressDenial(infusing(now, { lockoutUntilMs: now - HOUR_MS, bolus: undefined }), now),
    ).toBeUndefined();
  });

  it('count24h: a grant 24 h − 1 ms before now still counts, one exactly 24 h before no longer does', () => {
    // Four a day allowed; three grants in the last 6 h (the last one's hour of lockout is over) and
    // one at the far edge of the window, which is (now − 24 h, now].
    const recent = [now - 6 * HOUR_MS, now - 4 * HOUR_MS, now - 2 * HOUR_MS];
    const withOldest = (oldestMs: number) =>
      infusing(now, { grantsMs: [oldestMs, ...recent], lockoutUntilMs: now - HOUR_MS });
    expect(pressDenial(withOldest(now - DAY_MS + 1), now)).toBe('count24h');
    expect(pressDenial(withOldest(now - DAY_MS), now)).toBeUndefined();
  });

  it('count24h: presses in the window’s last minute still count the grant of 24 h before', () => {
    // A grant at t, three more 3 h apart: the count (4) is reached. Presses at t + 24 h − 59 s,
    // − 30 s and − 1 ms fall in the last minute of t's window; at t + 24 h t has left it.
    const t = DAY_MS + 8 * HOUR_MS;
    const grantsMs = [t, t + 3 * HOUR_MS, t + 6 * HOUR_MS, t + 9 * HOUR_MS];
    const ctx = (nowMs: number) => infusing(nowMs, { grantsMs, lockoutUntilMs: t + 10 * HOUR_MS });
    expect(pressDenial(ctx(t + 10 * HOUR_MS), t + 10 * HOUR_MS)).toBe('count24h');
    for (const before of [59_000, 30_000, 1]) {
      const pressMs = t + DAY_MS - before;
      expect(pressDenial(ctx(pressMs), pressMs), `${before} ms before`).toBe('count24h');
    }
    expect(pressDenial(ctx(t + DAY_MS), t + DAY_MS)).toBeUndefined();
  });

  it('bolusDoseCap: during a bridge, a bolus pushing exactly the hard bolus maximum of the path’s drug is granted, 1 nL more is denied', () => {
    // The path still holds morphine 25 mg/mL (25,000 pg/nL): 40,000 nL is 10^9 pg = 1 mg, the hard
    // bolus maximum; 40,001 nL is 25,000 pg over. In the reservoir's 10 mg/mL it would be only 0.4 mg.
    const bridge: Bridge = {
      startMs: now - HOUR_MS,
      volumeNl: 260_000,
      steps: { startsMs: [0], ratesNlPerDay: [500_000] },
      oldMixture: [{ drug: 'morphine', concentrationUgPerMl: 25_000 }],
      remainingFine: 0,
      anchorMs: now - HOUR_MS,
      endMs: now + DAY_MS,
      pathMixture: [{ drug: 'morphine', concentrationUgPerMl: 25_000 }],
    };
    expect(pressDenial(infusing(now, { bridge, ptmBolusNl: 40_000 }), now)).toBeUndefined();
    expect(pressDenial(infusing(now, { bridge, ptmBolusNl: 40_001 }), now)).toBe('bolusDoseCap');
    // Without the bridge the same bolus is judged on the reservoir's mixture, and granted.
    expect(pressDenial(infusing(now, { ptmBolusNl: 40_001 }), now)).toBeUndefined();
  });

  it('dailyDoseCap: during a bridge, the cap counts the bridge a new bolus pushes through, and the basal after it (mutation survivor)', () => {
    // A bridge (same morphine 10 mg/mL) with 40,000 nL left to push at 100,000 nL/day: on its own it
    // runs 9.6 h before the 500,000 nL/day basal takes over. The press's 50,000 nL bolus over
    // 10 min pushes those 40,000 nL in about 8 min, so the basal is back almost at once. History:
    // N strokes in the hour after now − 1 h, inside every window ending before now + 23 h. The
    // window ending just before then holds N + the bolus (100 strokes) + about 23 h of basal
    // (958 strokes): about N + 1,058 against the cap's 4,000. Counting the bridge at its own
    // length instead (40,000 nL, then 13.4 h of basal) would make it N + 738.
    const bridge: Bridge = {
      startMs: now - HOUR_MS,
      volumeNl: 300_000,
      steps: { startsMs: [0], ratesNlPerDay: [100_000] },
      oldMixture: morphine,
      remainingFine: 40_000 * FINE_PER_NL,
      anchorMs: now,
      endMs: now + (4 * DAY_MS) / 10,
      pathMixture: morphine,
    };
    const bridging = (strokes: number) =>
      infusing(now, {
        bridge,
        steps: {
          ...rateSteps(prescription, morphine),
          override: { steps: bridge.steps, untilMs: bridge.endMs },
        },
        recentBatches: [
          { startMs: now - HOUR_MS, leadMs: 0, intervalMs: 1, strokes, mixture: morphine },
        ],
      });
    // 2,800 strokes: about 3,858 with the press, granted (the press is judged near the cap) ...
    expect(pressDenial(bridging(2_800), now)).toBeUndefined();
    // ... 3,100: about 4,158, denied; at the bridge's own length it would have been 3,838.
    expect(pressDenial(bridging(3_100), now)).toBe('dailyDoseCap');
  });

  it('dailyDoseCap: a bolus that fits the last 24 hours is granted; with the window holding just enough more, the same press is denied', () => {
    // Delivery of the last hour as one finished batch of N strokes, one per ms (5 µg each, all
    // well inside the window). Hard daily maximum 20 mg; the bolus is 0.5 mg. A full bolus of
    // margin either side, and room for a whole day of basal still to come, so that the outcome does
    // not depend on how far ahead the cap looks.
    const delivered = (strokes: number, over: Partial<PumpContext> = {}) =>
      infusing(now, {
        recentBatches: [
          { startMs: now - HOUR_MS, leadMs: 0, intervalMs: 1, strokes, mixture: morphine },
        ],
        ...over,
      });
    // 2,800 strokes = 14 mg: + the bolus 0.5 mg + a day of basal 5 mg = 19.5 mg, a bolus under 20.
    expect(pressDenial(delivered(2_800), now)).toBeUndefined();
    // 4,000 strokes = 20 mg: the bolus takes it to 20.5 mg, a full bolus over, whatever comes next.
    expect(pressDenial(delivered(4_000), now)).toBe('dailyDoseCap');
    // With no basal at all the pair is tighter: 3,800 strokes (19 mg) + 0.5 mg leaves a bolus spare.
    const noBasal = { mode: 'continuous', doseNgPerDay: 0 } as const;
    const zero = { prescription: noBasal, steps: rateSteps(noBasal, morphine) };
    expect(pressDenial(delivered(3_800, zero), now)).toBeUndefined();
    expect(pressDenial(delivered(4_000, zero), now)).toBe('dailyDoseCap');
  });
});

describe('grantPress (REQ-PTM-4)', () => {
  it('forgets a grant exactly 24 hours old and keeps one a millisecond younger', () => {
    const now = 2 * DAY_MS;
    const step = grantPress(infusing(now, { grantsMs: [now - DAY_MS, now - DAY_MS + 1] }), {
      type: 'hal.button.pressed',
      nowMs: now,
    });
    expect(step.ctx.grantsMs).toEqual([now - DAY_MS + 1, now]);
    expect(step.ctx.lockoutUntilMs).toBe(now + HOUR_MS);
  });
});

describe('finishBolus', () => {
  it('with no bolus running logs nothing and still marks the programme changed', () => {
    const step = finishBolus(infusing(), wake(0));
    expect(step.effects).toEqual([]);
    expect(step.ctx.programmeVersion).toBe(1);
  });
});

describe('tipMixtureWorstCase', () => {
  it('asked without a mixture is our bug: asserted', () => {
    expect(() => tipMixtureWorstCase(infusing(0, { mixture: undefined }))).toThrow(
      new AssertionFailure('the tip mixture asked without a mixture'),
    );
  });
});

describe('enterMode', () => {
  const bolus = {
    kind: 'patient' as const,
    startMs: 0,
    volumeNl: 50_000,
    rateNlPerDay: 7_200_000,
    endMs: 10 * MINUTE_MS,
  };
  const cancelledReason = (step: Step) =>
    step.effects.flatMap((e) =>
      e.type === 'log' && e.body.type === 'bolusCancelled' ? [e.body.reason] : [],
    );

  it('cancels a running bolus with the reason: stopped, or the safe minimum rate', () => {
    expect(cancelledReason(enterMode(infusing(0, { bolus }), wake(1_000), 'off'))).toEqual([
      'stopped',
    ]);
    expect(cancelledReason(enterMode(infusing(0, { bolus }), wake(1_000), 'minimum'))).toEqual([
      'safe minimum rate',
    ]);
  });

  it('records when therapy stopped, and a second stop keeps the first time', () => {
    const stopped = enterMode(infusing(), wake(5_000), 'off').ctx;
    expect(stopped.stoppedSinceMs).toBe(5_000);
    expect(enterMode(stopped, wake(9_000), 'off').ctx.stoppedSinceMs).toBe(5_000);
    expect(enterMode(stopped, wake(9_000), 'basal').ctx.stoppedSinceMs).toBeUndefined();
    expect(enterMode(infusing(), wake(9_000), 'minimum').ctx.stoppedSinceMs).toBeUndefined();
  });

  it('re-plans only on a change of mode: entering the same mode leaves a running batch current', () => {
    expect(enterMode(infusing(), wake(0), 'basal').ctx.programmeVersion).toBe(0);
    expect(enterMode(infusing(), wake(0), 'minimum').ctx.programmeVersion).toBe(1);
  });
});

describe('alarms (REQ-ALM-1, REQ-ALM-4)', () => {
  const { lowReservoirNl: low, emptyReservoirNl: empty } = defaultPumpConfig;

  it.each([
    ['lowReservoir', { reservoirNl: low }, true],
    ['lowReservoir', { reservoirNl: low + 1 }, false],
    ['emptyReservoir', { reservoirNl: empty }, true],
    ['emptyReservoir', { reservoirNl: empty + 1 }, false],
    ['memoryError', { prescription: undefined }, true],
    ['memoryError', {}, false],
    ['batteryEri', { battery: 'eri' }, true],
    ['batteryEri', { battery: 'eos' }, true],
    ['batteryEri', { battery: 'ok' }, false],
    ['batteryEos', { battery: 'eos' }, true],
    ['batteryEos', { battery: 'eri' }, false],
    ['lowBatteryReset', { reservoirNl: 0, battery: 'eos', prescription: undefined }, false],
  ] as [AlarmCode, Partial<PumpContext>, boolean][])(
    '%s with %o: the condition holds = %s',
    (code, over, holds) => {
      expect(alarmConditionHolds(infusing(0, over), code, false)).toBe(holds);
      expect(alarmConditionHolds(infusing(0, over), code, true)).toBe(holds); // only a stall reads the motor
    },
  );

  it('a motor stall holds while the motor is stalled, whatever the rest of the context', () => {
    expect(alarmConditionHolds(infusing(), 'motorStall', true)).toBe(true);
    expect(
      alarmConditionHolds(infusing(0, { reservoirNl: 0, battery: 'eos' }), 'motorStall', false),
    ).toBe(false);
  });

  it('raises an alarm once, sounding it and setting its repeat one interval later', () => {
    const step = new Step(infusing(1_000));
    raiseAlarm(step, 'lowReservoir');
    raiseAlarm(step, 'lowReservoir');
    expect(step.ctx.alarms).toEqual([
      { code: 'lowReservoir', raisedAtMs: 1_000, nextToneMs: 1_000 + HOUR_MS },
    ]);
    expect(step.effects.filter((e) => e.type === 'tone')).toEqual([
      { type: 'tone', pattern: 'alarmNonCritical' },
    ]);
  });

  it('repeats only the alarms that are due, once, and sets the next repeat after now', () => {
    expect(alarmCatalogue.emptyReservoir.repeatMs).toBe(10 * MINUTE_MS);
    const alarms = [
      { code: 'lowReservoir' as const, raisedAtMs: 0, nextToneMs: HOUR_MS },
      { code: 'emptyReservoir' as const, raisedAtMs: 0, nextToneMs: 10 * MINUTE_MS },
    ];
    // At 35 min the empty alarm was due at 10, 20 and 30 min: one tone now, the next at 40 min.
    const step = soundDueAlarms(infusing(0, { alarms }), wake(35 * MINUTE_MS));
    expect(step.effects).toEqual([{ type: 'tone', pattern: 'alarmCritical' }]);
    expect(step.ctx.alarms).toEqual([alarms[0], { ...alarms[1], nextToneMs: 40 * MINUTE_MS }]);
    // Before either is due: nothing sounds and nothing changes.
    const quiet = soundDueAlarms(infusing(0, { alarms }), wake(9 * MINUTE_MS));
    expect(quiet.effects).toEqual([]);
    expect(quiet.ctx.alarms).toEqual(alarms);
  });
});

describe('batches', () => {
  it('below the empty threshold allows the strokes the estimate holds, no more', () => {
    // 0.4 mL left, under both thresholds: 400,000 / 500 = 800 strokes.
    expect(strokesBeforeThreshold(infusing(0, { reservoirNl: 400_000 }))).toBe(800);
    // 2.2 mL left: 200 µL to the low threshold = 400 strokes.
    expect(strokesBeforeThreshold(infusing(0, { reservoirNl: 2_200_000 }))).toBe(400);
  });

  it('never plans a stroke the estimate cannot cover, and the estimate never goes below zero (REQ-RES-1)', () => {
    // Less than a stroke left (300 nL of a 500 nL stroke): no stroke; 1,300 nL: two, not three.
    expect(strokesBeforeThreshold(infusing(0, { reservoirNl: 300 }))).toBe(0);
    expect(strokesBeforeThreshold(infusing(0, { reservoirNl: 1_300 }))).toBe(2);
    // A motor that reports more strokes than the estimate held (the estimate was low: the world is
    // not the model) leaves the estimate at zero, a whole number, never negative.
    const ctx = infusing(0, { reservoirNl: 300, batch: running({ count: 2 }) });
    const after = recordBatch(ctx, batchEnded(0, 7, 2)).ctx;
    expect(after.reservoirNl).toBe(0);
    expect(Number.isInteger(after.reservoirNl)).toBe(true);
  });

  it('starting a batch with nothing due is our bug: asserted', () => {
    expect(() => startBatch(infusing(0, { mode: 'off' }), wake(0))).toThrow(
      new AssertionFailure('startBatch without a plan'),
    );
  });

  it('numbers batches upwards, and at the retry after a stall drops what is owed beyond one stroke as missed (REQ-MOT-2)', () => {
    const stall = { sinceMs: 0, attempts: 1, retryAtMs: 0 };
    const first = startBatch(infusing(0, { owedFine: 3 * strokeFine, stall }), wake(0));
    expect(first.ctx.missedFine).toBe(2 * strokeFine);
    expect(first.ctx.owedFine).toBe(strokeFine);
    expect(first.ctx.batch?.batchId).toBe(1);
    expect(first.ctx.nextBatchId).toBe(2);
    expect(startBatch(first.ctx, wake(0)).ctx.batch?.batchId).toBe(2);
    // Exactly one stroke owed is kept whole, and so is less.
    expect(startBatch(infusing(0, { owedFine: strokeFine }), wake(0)).ctx.missedFine).toBe(0);
    const half = startBatch(infusing(0, { owedFine: strokeFine / 2 }), wake(0)).ctx;
    expect([half.missedFine, half.owedFine]).toEqual([0, strokeFine / 2]);
  });

  it('with no blockage, more than a stroke owed is one stroke at once and keeps the rest owed (FOUND-BUGS #25)', () => {
    // A stroke fell due in the millisecond the last batch ended: 1 ms of a 200 000 nL/day basal
    // beyond the stroke. It is due, not missed; the stroke after it is planned from what is left.
    const step = startBatch(infusing(0, { owedFine: strokeFine + 200_000 }), wake(0));
    expect(step.ctx.missedFine).toBe(0);
    expect(step.ctx.owedFine).toBe(strokeFine + 200_000);
    expect(step.ctx.batch).toMatchObject({ count: 1, leadMs: 0 });
  });

  it('exactly one whole stroke owed under a running basal is the planned batch, not a stroke alone (mutation survivor)', () => {
    // 500,000 nL/day is a stroke every 86.4 s. One stroke owed is due now: the plan starts with it
    // and goes on at the basal interval, one command for many strokes (a rig answers each command).
    const { plan } = nextBatch(infusing(0, { owedFine: strokeFine }));
    expect(plan).toMatchObject({ leadMs: 0, intervalMs: 86_400 });
    expect(plan!.count).toBeGreaterThan(1);
  });

  it('stopped, no stroke is due however much is owed (REQ-CMD-1, mutation survivor)', () => {
    // A stop keeps the volume owed (the stopped batch's strokes are still to be reported): three
    // strokes owed while off plan nothing. Resumed, the same context owes a stroke at once.
    const stopped = infusing(0, { mode: 'off', owedFine: 3 * strokeFine });
    expect(nextBatch(stopped).plan).toBeUndefined();
    expect(nextBatch({ ...stopped, mode: 'basal' }).plan).toMatchObject({ count: 1, leadMs: 0 });
  });

  it('after a memory error (contents unknown) counts strokes without attributing a dose', () => {
    const ctx = infusing(0, {
      mode: 'minimum',
      mixture: undefined,
      prescription: undefined,
      steps: undefined,
      owedFine: strokeFine,
    });
    expect(startBatch(ctx, wake(0)).ctx.batch?.mixture).toEqual([]);
  });

  it('knows an obsolete batch and the report of the running one', () => {
    expect(batchObsolete(infusing())).toBe(false);
    expect(batchObsolete(infusing(0, { batch: running({ version: 0 }) }))).toBe(false);
    expect(
      batchObsolete(infusing(0, { batch: running({ version: 0 }), programmeVersion: 1 })),
    ).toBe(true);
    expect(isCurrentBatchReport(infusing(0, { batch: running() }), batchEnded(0, 7, 1))).toBe(true);
    expect(isCurrentBatchReport(infusing(0, { batch: running() }), batchEnded(0, 6, 1))).toBe(
      false,
    );
    expect(isCurrentBatchReport(infusing(), batchEnded(0, 7, 1))).toBe(false);
    expect(isCurrentBatchReport(infusing(0, { batch: running() }), wake(0))).toBe(false);
  });

  it('recording anything but the running batch’s report is our bug: asserted', () => {
    expect(() => recordBatch(infusing(0, { batch: running() }), wake(0))).toThrow(
      new AssertionFailure('recordBatch on a batch report'),
    );
    expect(() => recordBatch(infusing(), batchEnded(0, 7, 1))).toThrow(AssertionFailure);
    expect(() => recordBatch(infusing(0, { batch: running() }), batchEnded(0, 8, 1))).toThrow(
      new AssertionFailure('report for the running batch'),
    );
  });

  it('keeps for the ledger the batches with a stroke after the cut-off, and at most recentBatchesMax', () => {
    const now = 2 * DAY_MS;
    const cutoff = now - DAY_MS;
    // Last stroke of A: cutoff − 1,000 + 1 + 9·111 = cutoff (out); of B: one millisecond later (in).
    const a: DoneBatch = {
      startMs: cutoff - 1_000,
      leadMs: 1,
      intervalMs: 111,
      strokes: 10,
      mixture: morphine,
    };
    const b: DoneBatch = { ...a, startMs: cutoff - 999 };
    const ctx = infusing(now, {
      batch: running({ startMs: now - MINUTE_MS }),
      recentBatches: [a, b],
    });
    const after = recordBatch(ctx, batchEnded(now, 7, 1)).ctx;
    expect(after.recentBatches.map((r) => r.startMs)).toEqual([b.startMs, now - MINUTE_MS]);

    const full = Array.from(
      { length: recentBatchesMax },
      (_, i): DoneBatch => ({
        startMs: cutoff + 1 + i,
        leadMs: 0,
        intervalMs: 1,
        strokes: 1,
        mixture: morphine,
      }),
    );
    const capped = recordBatch(
      infusing(now, { batch: running({ startMs: now }), recentBatches: full }),
      batchEnded(now, 7, 1),
    ).ctx.recentBatches;
    expect(capped).toHaveLength(recentBatchesMax);
    expect(capped[0]).toBe(full[1]);
    expect(capped.at(-1)?.startMs).toBe(now);
  });

  it('keeps no ledger entry for a batch that did no stroke', () => {
    const after = recordBatch(
      infusing(0, { batch: running() }),
      batchEnded(0, 7, 0, 'stopped'),
    ).ctx;
    expect(after.recentBatches).toEqual([]);
    expect(after.batch).toBeUndefined();
  });

  it('logs a motor a whole stroke ahead of the programme, and not one less than a stroke ahead', () => {
    const ahead = (owedFine: number) =>
      recordBatch(
        infusing(0, { owedFine, batch: running({ count: 1 }) }),
        batchEnded(0, 7, 1),
      ).effects.flatMap((e) =>
        e.type === 'log' && e.body.type === 'deliveryAhead' ? [e.body] : [],
      );
    expect(ahead(0)).toEqual([{ type: 'deliveryAhead', volumeNl: strokeNl }]);
    expect(ahead(-FINE_PER_NL)).toEqual([{ type: 'deliveryAhead', volumeNl: strokeNl + 1 }]);
    expect(ahead(1)).toEqual([]);
  });

  it('a completed stroke after a stall proves the motor turns: logged with the stall’s length, and the stall cleared', () => {
    const stall = { sinceMs: 1_000, attempts: 1, retryAtMs: 2_000 };
    const recover = (strokesDone: number, reason: 'completed' | 'stopped') =>
      recordBatch(
        infusing(0, { stall, batch: running() }),
        batchEnded(5_000, 7, strokesDone, reason),
      );
    const recovered = recover(1, 'completed');
    expect(recovered.ctx.stall).toBeUndefined();
    expect(recovered.effects).toContainEqual({
      type: 'log',
      body: { type: 'motorRecovered', stalledForMs: 4_000 },
    });
    expect(recover(0, 'completed').ctx.stall).toEqual(stall);
    expect(recover(1, 'stopped').ctx.stall).toEqual(stall);
  });

  it('retries a stall at its retry time, and reads stalls and lost links as stalls', () => {
    expect(stallRetryDue(infusing(1_999))).toBe(false);
    expect(
      stallRetryDue(infusing(1_999, { stall: { sinceMs: 0, attempts: 1, retryAtMs: 2_000 } })),
    ).toBe(false);
    expect(
      stallRetryDue(infusing(2_000, { stall: { sinceMs: 0, attempts: 1, retryAtMs: 2_000 } })),
    ).toBe(true);
    const withBatch = infusing(0, { batch: running({ count: 3 }) });
    expect(reportedStall(withBatch, batchEnded(0, 1, 0, 'stalled'))).toBe(true);
    expect(reportedStall(withBatch, batchEnded(0, 1, 3, 'linkLost'))).toBe(true);
    expect(reportedStall(withBatch, batchEnded(0, 1, 3, 'completed'))).toBe(false);
    expect(reportedStall(withBatch, batchEnded(0, 1, 0, 'stopped'))).toBe(false);
    expect(reportedStall(withBatch, wake(0))).toBe(false);
    // "Completed" one stroke short contradicts itself: the motor did not do what it was told.
    expect(reportedStall(withBatch, batchEnded(0, 1, 2, 'completed'))).toBe(true);
  });
});

describe('report figures', () => {
  it('programmed volume is delivered + owed + missed; missed is rounded down to whole nL', () => {
    // Stopped (nothing pending): 4 strokes (2,000 nL) + 2 nL owed + 3.5 nL missed = 2,005.5 → 2,005 nL.
    const ctx = infusing(0, {
      mode: 'off',
      deliveredStrokes: 4,
      owedFine: 2 * FINE_PER_NL,
      missedFine: 3 * FINE_PER_NL + FINE_PER_NL / 2,
    });
    expect(programmedNlAt(ctx, HOUR_MS)).toBe(2_005);
    expect(missedNl(ctx)).toBe(3);
  });
});

describe('dailyCapExcess on the controller context (REQ-LIM-6)', () => {
  // Morphine 10 mg/mL: a 500 nL stroke is 5 µg, the 20 mg daily hard maximum 4,000 strokes.
  it('counts a running batch’s strokes once, from its first stroke, as a finished batch would be (mutation survivors)', () => {
    // A batch started at 1 h with a 20-minute lead and a stroke a minute has done 41 strokes by
    // 2 h (at 1 h 20 min ... 2 h 00 min); 3,990 strokes are owed in all, its own included. The same
    // moment told the other way: the batch finished with 41 strokes, 3,949 still owed. The two
    // contexts are one pump: the first window over the cap, its dose and its strokes to come agree.
    const nowMs = 2 * HOUR_MS;
    const batch = running({ startMs: HOUR_MS, leadMs: 20 * MINUTE_MS, count: 100 });
    const owedFine = 3_990 * strokeFine;
    const mid = infusing(nowMs, { batch, owedFine });
    expect(strokeHistory(mid, nowMs)).toEqual([
      { firstMs: HOUR_MS + 20 * MINUTE_MS, intervalMs: MINUTE_MS, strokes: 41, mixture: morphine },
    ]);
    const done: DoneBatch = {
      startMs: HOUR_MS,
      leadMs: 20 * MINUTE_MS,
      intervalMs: MINUTE_MS,
      strokes: 41,
      mixture: morphine,
    };
    const finished = infusing(nowMs, {
      recentBatches: [done],
      owedFine: owedFine - 41 * strokeFine,
    });
    const excess = dailyCapExcess(mid);
    // Reached: over the cap, in the window that still holds the batch's first stroke.
    expect(excess).toBeDefined();
    expect(excess!.windowEndMs).toBe(HOUR_MS + 20 * MINUTE_MS + DAY_MS - 1);
    expect(excess).toEqual(dailyCapExcess(finished));
  });

  it('at the safe minimum rate judges the minimum rate too, where it delivers more than the programme (mutation survivor)', () => {
    // A flex programme at zero until noon, 5 mg/day after; the pump at its safe minimum rate,
    // 48,000 nL/day (a stroke every 15 min). 4,000 strokes (the cap) were done in the 4 s up to
    // noon yesterday: they count in every window ending before noon today. Back at the programme,
    // nothing is added before noon and the pump stays within the cap; at the minimum rate the
    // first stroke to come, 15 min on, passes it.
    const flex: Prescription = {
      mode: 'flex',
      steps: [
        { startMinute: 0, doseNgPerDay: 0 },
        { startMinute: 720, doseNgPerDay: 5_000_000 },
      ],
    };
    const nowMs = DAY_MS; // midnight, the clock at UTC
    const history: DoneBatch = {
      startMs: nowMs - 12 * HOUR_MS - 3_999,
      leadMs: 0,
      intervalMs: 1,
      strokes: 4_000,
      mixture: morphine,
    };
    const atMinimum = infusing(nowMs, {
      mode: 'minimum',
      prescription: flex,
      steps: rateSteps(flex, morphine),
      recentBatches: [history],
      owedFine: 0,
    });
    const excess = dailyCapExcess(atMinimum);
    expect(excess).toBeDefined();
    expect(excess!.windowEndMs).toBeLessThan(nowMs + 12 * HOUR_MS);
    expect(excess!.dosePg).toBeGreaterThan(excess!.limitPg);
    // The programme alone stays within the cap.
    expect(dailyCapExcess({ ...atMinimum, mode: 'basal' })).toBeUndefined();
  });
});

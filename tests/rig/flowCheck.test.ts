/**
 * The bench flow check (sim/rig/flowCheck.ts, issue 13): every batch the rig reports is weighed
 * on the balance. The band at its exact edges, what counts on which side, and, against the rig
 * emulator in virtual time, a rig that under-reports its strokes caught within one batch, a rig
 * whose strokes do not arrive caught, and an honest rig with noise, evaporation, a cable cut and
 * a reset never stopped.
 */
import { describe, expect, it } from 'vitest';
import {
  FLOW_CHECK_NOISE_SIGMAS,
  FLOW_CHECK_SETTLE_MS,
  FLOW_CHECK_SLACK_STROKES,
  FlowCheck,
} from '../../sim/rig/flowCheck.js';
import { formatSummary } from '../../sim/summary.js';
import { linkLostMs } from '../../src/protocol/index.js';
import { HOUR_MS, MINUTE_MS } from '../../src/units.js';
import { finishVirtualRun, smallScenario, startVirtualRun } from './virtualRig.js';

const quietBalance = { strokeVolumeNl: 500, balanceNoiseUg: 0, evaporationUgPerHour: 0 };

describe('the band', () => {
  it('high side: reported plus running strokes, +10 %, plus the strokes in flight; one nL more fails', () => {
    const at = (deliveredNl: number) => {
      const check = new FlowCheck(quietBalance);
      check.batchReported(0, 100, true);
      check.reading(60_000, deliveredNl, 20);
      return check.failure;
    };
    const highNl = (100 + 20) * 500 * 1.1 + FLOW_CHECK_SLACK_STROKES * 500;
    expect(at(highNl)).toBeNull();
    const failure = at(highNl + 1);
    expect(failure).toMatchObject({ side: 'high', accountedStrokes: 100, highNl });
    expect(failure!.message).toMatch(
      /^flow check failed: the balance shows 67\.0 µL delivered, but the rig reported 100 strokes \(50\.0 µL\) and the running batch is due 20 more; .*under-reports/,
    );
  });

  it('low side: only batches reported a settle time ago, −10 %, minus the strokes in flight; one nL less fails', () => {
    const lowNl = 100 * 500 * 0.9 - FLOW_CHECK_SLACK_STROKES * 500;
    const at = (timeMs: number, deliveredNl: number) => {
      const check = new FlowCheck(quietBalance);
      check.batchReported(0, 100, true);
      check.reading(timeMs, deliveredNl, 0);
      return check.failure;
    };
    // Before the settle time the batch's drops may still be falling: nothing is owed yet.
    expect(at(FLOW_CHECK_SETTLE_MS - 1, 0)).toBeNull();
    expect(at(FLOW_CHECK_SETTLE_MS, lowNl)).toBeNull();
    expect(at(FLOW_CHECK_SETTLE_MS, lowNl - 1)).toMatchObject({ side: 'low', lowNl });
  });

  it('a batch ended by a lost link (perhaps counted at its upper bound) never counts on the low side', () => {
    const check = new FlowCheck(quietBalance);
    check.batchReported(0, 100, false);
    expect(check.reading(HOUR_MS, 0, 0)).toMatchObject({ lowNl: -1_000 });
    expect(check.failure).toBeNull();
  });

  it('noise widens both sides by six σ of a difference of two readings; evaporation the low side, by the hour since the tare', () => {
    const check = new FlowCheck({
      strokeVolumeNl: 500,
      balanceNoiseUg: 100,
      evaporationUgPerHour: 500,
    });
    check.batchReported(0, 100, true);
    const row = check.reading(2 * HOUR_MS, 0, 0)!;
    const noiseNl = FLOW_CHECK_NOISE_SIGMAS * 100 * Math.SQRT2;
    expect(row.lowNl).toBe(Math.floor(45_000 - noiseNl - 1_000 - 1_000));
    expect(row.highNl).toBe(Math.ceil(55_000 + noiseNl + 1_000));
  });

  it('after the first failure it judges no more, and the summary keeps that failure', () => {
    const check = new FlowCheck(quietBalance);
    check.reading(1_000, 5_000, 0);
    expect(check.failure).toMatchObject({ side: 'high', timeMs: 1_000 });
    expect(check.reading(2_000, 0, 0)).toBeUndefined();
    expect(check.summary()).toMatchObject({ readings: 1, failure: { timeMs: 1_000 } });
  });
});

describe('a rig run weighed by its balance', () => {
  // A press at 20 min ends the day-long basal batch: its report is the first the balance can judge.
  const pressed = () =>
    smallScenario(`
timeline:
  - { at: 20 min, press: {} }
`);
  /** The first batch report the controller received, by the pump's event log. */
  const firstBatchEndMs = (v: Awaited<ReturnType<typeof startVirtualRun>>) =>
    v.rigLog.map((l) => /^(\d+) batch \d+ (completed|stopped)/.exec(l)).find((m) => m)?.[1];

  it('a rig that reports none of its strokes is caught within one batch: delivery stops, the rig sounds the alarm', async () => {
    const v = await startVirtualRun(pressed(), { rig: { reportedStrokesPpm: 0 } });
    v.clock.runUntil(v.run.endMs);
    const failure = v.run.flowCheck.failure;
    // The situation: the rig made strokes, the controller was told of none.
    const executed = v.emulator.core.strokesExecuted;
    expect(executed).toBeGreaterThan(FLOW_CHECK_SLACK_STROKES * 2);
    expect(v.run.controller.context.deliveredStrokes).toBe(0);
    // Caught on the high side, at the first reading after the first batch's report.
    expect(failure).toMatchObject({ side: 'high', accountedStrokes: 0 });
    const endedAtMs = Number(firstBatchEndMs(v));
    expect(endedAtMs).toBeGreaterThan(0);
    expect(failure!.timeMs).toBeLessThanOrEqual(endedAtMs - v.run.startMs + 60_000 + 1_000);
    // Delivery stopped at once, the bench alarm sounded on the rig, and nothing moved after.
    expect(v.run.controller.state.therapy).toBe('stopped');
    expect(v.run.ended).toBe(true);
    expect(v.emulator.core.tones.map((t) => t.pattern)).toContain('alarmCritical');
    const strokesAtStop = v.emulator.core.strokesExecuted;
    v.clock.runUntil(v.run.endMs + HOUR_MS);
    expect(v.emulator.core.strokesExecuted).toBe(strokesAtStop);
    expect(v.run.result().summary.flowCheck?.failure?.side).toBe('high');
  });

  it('a rig that reports half its strokes is caught too', async () => {
    const v = await startVirtualRun(pressed(), { rig: { reportedStrokesPpm: 500_000 } });
    v.clock.runUntil(v.run.endMs);
    expect(v.run.controller.context.deliveredStrokes).toBeGreaterThan(0);
    expect(v.run.flowCheck.failure?.side).toBe('high');
  });

  it('strokes that do not arrive (a third of each lost before the balance) are caught on the low side', async () => {
    const v = await startVirtualRun(pressed(), { rig: { strokeVolumeErrorPpm: -330_000 } });
    v.clock.runUntil(v.run.endMs);
    expect(v.run.controller.context.deliveredStrokes).toBeGreaterThan(0);
    expect(v.run.flowCheck.failure?.side).toBe('low');
    expect(v.run.controller.state.therapy).toBe('stopped');
  });

  it('an honest rig with a noisy, evaporating balance, a 7 % weak stroke, a cable cut and a reset runs to the end', async () => {
    const v = await startVirtualRun(
      smallScenario(`
timeline:
  - { at: 1h, clinicianBolus: { dose: 0.2 mg, duration: 30 min, confirm: true } }
`),
      {
        rig: {
          strokeVolumeErrorPpm: -70_000,
          noiseMg: 0.1,
          evaporationMgPerHour: 0.5,
          balanceIntervalMs: 10_000,
        },
      },
    );
    v.clock.runUntil(v.run.startMs + HOUR_MS + 10 * MINUTE_MS);
    expect(v.run.controller.context.bolus).toBeDefined();
    v.emulator.disconnect(linkLostMs + 1_000);
    v.clock.runUntil(v.run.startMs + 2 * HOUR_MS);
    v.emulator.reboot();
    v.clock.runUntil(v.run.endMs);
    const r = finishVirtualRun(v);
    expect(v.host.session.stats.linkLosses).toBeGreaterThan(0);
    expect(v.host.session.stats.rigReboots).toBe(1);
    expect(r.executed).toBeGreaterThan(400);
    const summary = v.run.flowCheck.summary();
    expect(summary.failure).toBeNull();
    expect(summary.readings).toBeGreaterThan(900); // every 10 s for three hours, a cut aside
    expect(summary.marginNl).toBeGreaterThan(0);
    // Both sides were in play: the low edge rose above zero once batches were reported.
    expect(v.run.balance.some((r) => (r.check?.lowNl ?? 0) > 100 * 500)).toBe(true);
  });

  it('the summary says what the check found: passed, failed, or not made without readings', async () => {
    const v = await startVirtualRun(smallScenario());
    v.clock.runUntil(v.run.startMs + HOUR_MS);
    finishVirtualRun(v);
    const summary = v.run.result().summary;
    const f = summary.flowCheck!;
    expect(f.readings).toBeGreaterThan(0);
    expect(formatSummary(summary)).toMatch(
      new RegExp(
        `^flow check: ${f.readings} balance readings within ±10 % of the reported strokes \\(closest `,
        'm',
      ),
    );
    expect(formatSummary({ ...summary, flowCheck: { ...f, readings: 0, marginNl: null } })).toMatch(
      /^flow check: not made \(no balance reading came/m,
    );
    const failure = {
      ...f,
      failure: {
        timeMs: 90_000,
        side: 'high' as const,
        deliveredNl: 0,
        accountedStrokes: 0,
        lowNl: 0,
        highNl: 0,
        message: '',
      },
    };
    expect(formatSummary({ ...summary, flowCheck: failure })).toMatch(
      /^flow check: FAILED at 0d 00:01:30 \(the balance above the reported strokes\); delivery stopped there$/m,
    );
  });
});

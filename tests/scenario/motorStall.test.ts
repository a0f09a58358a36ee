/**
 * A motor stall window: the pump retries every 10 min, raises the critical motor-stall alarm on the
 * third stalled attempt, drops to the safe minimum rate, and never counts a stroke it did not make.
 */
import { describe, expect, it } from 'vitest';
import { MINUTE_MS, NL_PER_ML } from '../../src/units.js';
import { runScenario } from '../../sim/runner.js';
import { at, morphineBase, ofType, pressOutcomes, ptm, scenario, when } from './helpers.js';
import { eachTest } from '../eachTest.js';

// Basal strokes every 86.4 s: stroke k at k × 86 400 ms. Stroke 1 000 would fall at exactly 1d 00:00,
// where a one-hour stall window [1d 00:00, 1d 01:00) starts: 999 strokes are made before it.
// Attempts at 00:00 (the batch is cut there), 00:10, 00:20 (third: alarm, minimum rate), 00:30, 00:40,
// 00:50; the retry at 01:00 is outside the window and runs at the minimum rate, a stroke every 15 min.
const strokesBefore = 999;
const retryMs = 10 * MINUTE_MS;
const attemptsMs = [0, 1, 2, 3, 4, 5].map((i) => at(1) + i * retryMs);

describe('a one-hour motor stall', () => {
  const result = eachTest(() =>
    runScenario(
      scenario({
        ...morphineBase,
        duration: '3d',
        pump: { ...morphineBase.pump, stallRetry: '10 min', stallAttemptsMax: 3 },
        ptm,
        timeline: [
          { at: when(1, 0), motorStall: { for: '1 h' } },
          { at: when(1, 0, 25), press: {} },
          { at: when(1, 0, 30), clearAlarms: {} },
          { at: when(2, 2), clearAlarms: {} },
        ],
      }),
      { traceEveryMs: 5 * MINUTE_MS },
    ),
  );

  it('logs each stalled attempt, 10 min apart, and raises motorStall on the third', () => {
    expect(
      ofType(result.events, 'motorStall').map((e) => [e.atMs, e.attempt, e.strokesDone]),
    ).toEqual(attemptsMs.map((t, i) => [t, i + 1, 0]));
    const raised = ofType(result.events, 'alarmRaised');
    expect(raised.map((e) => [e.code, e.priority, e.atMs])).toEqual([
      ['motorStall', 'critical', attemptsMs[2]],
    ]);
    expect(ofType(result.events, 'minimumRate').map((e) => e.atMs)).toEqual([attemptsMs[2]]);
  });

  it('does not decrement the reservoir estimate while stalled', () => {
    const during = result.trace.filter((r) => r.timeMs >= at(1) && r.timeMs < at(1, 1));
    expect(during).toHaveLength(12);
    for (const row of during) {
      expect(row.reservoirEstimateNl, `at ${row.timeMs}`).toBe(
        20 * NL_PER_ML - strokesBefore * 500,
      );
      expect(row.reservoirTrueNl).toBe(20 * NL_PER_ML - strokesBefore * 500);
    }
    // The first stroke after the window, at the minimum rate, is at 01:00 itself.
    expect(result.trace.find((r) => r.timeMs === at(1, 1))!.reservoirEstimateNl).toBe(
      20 * NL_PER_ML - (strokesBefore + 1) * 500,
    );
  });

  it('denies presses under the critical alarm and keeps the alarm until the motor has recovered', () => {
    expect(pressOutcomes(result.events)).toEqual([
      { atMs: at(1, 0, 25), outcome: 'criticalAlarm' },
    ]);
    // After a stall the pump retries one stroke at a time; the first after the window, at 01:00,
    // completes and proves the motor turns again.
    const recoveredAt = at(1, 1);
    expect(ofType(result.events, 'motorRecovered').map((e) => e.atMs)).toEqual([recoveredAt]);
    expect(ofType(result.events, 'refused').map((e) => [e.atMs, e.field])).toEqual([
      [at(1, 0, 30), 'alarms.motorStall'],
    ]);
    expect(ofType(result.events, 'alarmCleared').map((e) => [e.atMs, e.code])).toEqual([
      [at(2, 2), 'motorStall'],
    ]);
    expect(ofType(result.events, 'resumed').map((e) => e.atMs)).toEqual([0, at(2, 2)]);
    expect(result.summary.alarms).toEqual([
      {
        code: 'motorStall',
        priority: 'critical',
        raisedAtMs: attemptsMs[2],
        clearedAtMs: at(2, 2),
      },
    ]);
  });
});

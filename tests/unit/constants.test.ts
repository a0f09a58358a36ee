/** Relations between the firmware's bounds (src/constants.ts), asserted as TigerBeetle asserts comptime constants. */
import { describe, expect, it } from 'vitest';
import * as k from '../../src/constants.js';
import { alarmCatalogue, alarmCodes } from '../../src/alarms.js';
import { DAY_MS } from '../../src/units.js';

describe('constants', () => {
  it('keep the arithmetic exact and the windows consistent', () => {
    // The largest product the planner forms: a day of the highest rate, in fine units, is a safe integer.
    expect(Number.isSafeInteger(k.rateNlPerDayMax * DAY_MS * 2)).toBe(true);
    expect(Number.isSafeInteger(k.reservoirCapacityNlMax * 100_000)).toBe(true); // nL × µg/mL = pg
    expect(k.lockoutMsMax).toBeLessThanOrEqual(k.rollingWindowMs);
    expect(k.bolusDurationMsMin).toBeLessThanOrEqual(k.bolusDurationMsMax);
    expect(k.batchDurationMsMax).toBeLessThanOrEqual(k.rollingWindowMs);
    expect(k.longStopMs).toBeGreaterThan(k.rollingWindowMs);
    expect(k.activeAlarmsMax).toBeGreaterThanOrEqual(alarmCodes.length);
  });

  it('give every alarm a repeat and a priority', () => {
    for (const code of alarmCodes) {
      const a = alarmCatalogue[code];
      expect(a.code).toBe(code);
      expect(a.repeatMs).toBeGreaterThan(0);
      expect(a.tone).toBe(a.priority === 'critical' ? 'alarmCritical' : 'alarmNonCritical');
      // The run report's alarm table shows it to the clinician beside the code.
      expect(a.description.length).toBeGreaterThan(10);
    }
  });
});

/**
 * Delivered doses computed by hand: a continuous prescription, a mixture whose every drug follows
 * from the one flow rate, and a flex schedule. Every expectation is derived in the test from the
 * scenario's numbers; the simulator's results must match exactly (whole strokes, integer units).
 */
import { describe, expect, it } from 'vitest';
import { HOUR_MS, NL_PER_ML } from '../../src/units.js';
import { runScenario } from '../../sim/runner.js';
import { mg, morphineBase, scenario } from './helpers.js';
import { eachTest } from '../eachTest.js';

const strokeNl = 500;

describe('continuous morphine 1 mg/day at 2 mg/mL for exactly 10 days', () => {
  // 1 mg/day ÷ 2 mg/mL = 0.5 mL/day = 500 000 nL/day; 10 days → 5 000 000 nL = 10 000 strokes of 500 nL.
  // Morphine: 5 mL × 2 mg/mL = 10 mg. Bupivacaine rides on the same flow: 5 mL × 12 mg/mL = 60 mg.
  const rateNlPerDay = 500_000;
  const strokes = 10_000;
  const result = eachTest(() =>
    runScenario(
      scenario({
        ...morphineBase,
        initialFill: {
          volume: '20 mL',
          mixture: [
            { drug: 'morphine', concentration: '2 mg/mL' },
            { drug: 'bupivacaine', concentration: '12 mg/mL' },
          ],
        },
      }),
    ),
  );
  const drug = (name: string) => result.summary.drugs.find((d) => d.drug === name)!;

  it('pushes exactly 5.000 mL: 10 000 strokes', () => {
    expect(result.settings.initialBasalRatesNlPerDay).toEqual([rateNlPerDay]);
    expect(result.summary.reservoir.estimateNl).toBe(20 * NL_PER_ML - strokes * strokeNl);
    expect(result.summary.reservoir.trueNl).toBe(20 * NL_PER_ML - strokes * strokeNl);
    // One stroke each 86.4 s (500 nL ÷ 500 000 nL/day): at each midnight, exactly 1 000 more.
    for (let d = 0; d <= 10; d++)
      expect(20 * NL_PER_ML - result.trace[24 * d]!.reservoirEstimateNl, `day ${d}`).toBe(
        d * 1_000 * strokeNl,
      );
  });

  it('delivers exactly 10 mg morphine and 60 mg bupivacaine, as programmed (pump accounting and truth)', () => {
    expect(drug('morphine')).toEqual({
      drug: 'morphine',
      programmedNg: mg(10),
      deliveredNg: mg(10),
      trueDeliveredNg: mg(10),
    });
    expect(drug('bupivacaine')).toEqual({
      drug: 'bupivacaine',
      programmedNg: mg(60),
      deliveredNg: mg(60),
      trueDeliveredNg: mg(60),
    });
  });

  it('keeps the hourly reservoir estimate within one stroke of 20 mL minus the programmed volume', () => {
    expect(result.trace).toHaveLength(10 * 24 + 1);
    for (const row of result.trace) {
      // Programmed by t: 500 000 nL/day × t / 24 h, exact in units of 1/24 nL per hour.
      const programmedNlTimes24 = (rateNlPerDay * row.timeMs) / HOUR_MS;
      const deliveredNl = 20 * NL_PER_ML - row.reservoirEstimateNl;
      expect(
        Math.abs(24 * deliveredNl - programmedNlTimes24),
        `at ${row.timeMs} ms`,
      ).toBeLessThanOrEqual(24 * strokeNl);
      expect(deliveredNl % strokeNl).toBe(0);
    }
  });

  it('logs no alarm, no refusal and no press', () => {
    expect(result.summary.alarms).toEqual([]);
    expect(result.summary.refusals).toBe(0);
    expect(result.summary.presses.requested).toBe(0);
  });
});

describe('a flex schedule: 1 mg/day from 00:00, 2.4 mg/day from 06:00, 0.8 mg/day from 18:00', () => {
  // Rates at 2 mg/mL: 500 000, 1 200 000 and 400 000 nL/day, for 6 h, 12 h and 6 h of each day:
  // 500 000/4 + 1 200 000/2 + 400 000/4 = 125 000 + 600 000 + 100 000 = 825 000 nL/day (1.65 mg/day).
  // Four days: 3 300 000 nL = 6 600 strokes; morphine 3.3 mL × 2 mg/mL = 6.6 mg.
  const steps = [
    { fromHour: 0, rateNlPerDay: 500_000 },
    { fromHour: 6, rateNlPerDay: 1_200_000 },
    { fromHour: 18, rateNlPerDay: 400_000 },
  ];
  const dailyNl = 825_000;
  const result = eachTest(() =>
    runScenario(
      scenario({
        ...morphineBase,
        duration: '4d',
        prescription: {
          mode: 'flex',
          steps: [
            { at: '00:00', dose: '1 mg/day' },
            { at: '06:00', dose: '2.4 mg/day' },
            { at: '18:00', dose: '0.8 mg/day' },
          ],
        },
      }),
    ),
  );

  it('runs each step at its hand-computed rate: 125 000, 600 000 and 100 000 nL in its hours, every day', () => {
    expect(result.settings.initialBasalRatesNlPerDay).toEqual(steps.map((s) => s.rateNlPerDay));
    // What left the reservoir over each step, from the pump's hourly trace. Each step boundary is a
    // whole number of strokes (250, 1 450 and 1 650 into the day), so the volumes are exact.
    const deliveredBy = (hour: number) => 20 * NL_PER_ML - result.trace[hour]!.reservoirEstimateNl;
    for (let d = 0; d < 4; d++) {
      const [h0, h6, h18, h24] = [0, 6, 18, 24].map((h) => deliveredBy(24 * d + h));
      expect([h6! - h0!, h18! - h6!, h24! - h18!], `day ${d}`).toEqual([125_000, 600_000, 100_000]);
    }
  });

  it('delivers exactly 4 days of the daily volume: 3.300 mL, 6.6 mg morphine', () => {
    expect(result.summary.reservoir.estimateNl).toBe(20 * NL_PER_ML - 4 * dailyNl);
    expect(result.summary.drugs).toEqual([
      { drug: 'morphine', programmedNg: mg(6.6), deliveredNg: mg(6.6), trueDeliveredNg: mg(6.6) },
    ]);
  });

  it('follows the steps hour by hour, within one stroke', () => {
    // Programmed by the end of hour h, in 1/24 nL: the sum of each hour's rate.
    const rateOfHour = (h: number) =>
      [...steps].reverse().find((s) => h % 24 >= s.fromHour)!.rateNlPerDay;
    let programmedTimes24 = 0;
    for (const [h, row] of result.trace.entries()) {
      expect(row.timeMs).toBe(h * HOUR_MS);
      const deliveredNl = 20 * NL_PER_ML - row.reservoirEstimateNl;
      expect(Math.abs(24 * deliveredNl - programmedTimes24), `hour ${h}`).toBeLessThanOrEqual(
        24 * strokeNl,
      );
      programmedTimes24 += rateOfHour(h);
    }
    // At each midnight the programmed volume is a whole number of strokes, and exactly delivered.
    for (let d = 0; d <= 4; d++)
      expect(20 * NL_PER_ML - result.trace[d * 24]!.reservoirEstimateNl).toBe(d * dailyNl);
  });
});

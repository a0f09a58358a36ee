/**
 * The rig accuracy test's report (sim/report/rigReport.ts) and its start-up graph
 * (sim/analysis/flowRate.ts): the flow of each Δt from interpolated balance readings, by this
 * test's own arithmetic, and a page with the balance, the start-up graph and the trumpet curve.
 */
import { describe, expect, it } from 'vitest';
import { flowRateSeries } from '../../sim/analysis/flowRate.js';
import { analyseTrumpet } from '../../sim/analysis/trumpet.js';
import { buildAccuracyReport } from '../../sim/report/rigReport.js';
import { DAY_MS, HOUR_MS } from '../../src/units.js';

describe('the start-up graph', () => {
  it('gives the flow of each interval from readings interpolated at the grid times', () => {
    // Readings every 20 s of a delivery at 2 % above 12 mL/day: the grid is every 30 s, so every
    // other grid time falls between two readings.
    const rateNlPerDay = 12_000_000 * 1.02;
    const samples = Array.from({ length: 31 }, (_, i) => ({
      timeMs: i * 20_000,
      deliveredNl: (rateNlPerDay * i * 20_000) / DAY_MS,
    }));
    const flow = flowRateSeries(samples, 30_000);
    expect(flow.map((p) => p.timeMs)).toEqual(
      Array.from({ length: 20 }, (_, k) => (k + 1) * 30_000),
    );
    for (const p of flow) expect(p.rateNlPerDay).toBeCloseTo(rateNlPerDay, 3);
  });

  it('a step in the delivered volume shows in the interval that holds it, and a gap leaves intervals out', () => {
    // One stroke of 500 nL lands between 40 s and 50 s; then no reading from 60 s to 200 s.
    const samples = [
      { timeMs: 0, deliveredNl: 0 },
      { timeMs: 40_000, deliveredNl: 0 },
      { timeMs: 50_000, deliveredNl: 500 },
      { timeMs: 60_000, deliveredNl: 500 },
      { timeMs: 200_000, deliveredNl: 500 },
      { timeMs: 210_000, deliveredNl: 500 },
    ];
    const flow = flowRateSeries(samples, 30_000);
    // Grid 0, 30, 60 s hold 0, 0, 500 nL: the interval ending at 60 s carries the stroke. Grid
    // times 90–180 s lie in the 140-s gap (more than 2 Δt), so no interval that needs one of them
    // is drawn, up to the one ending at 210 s (it starts at 180 s).
    expect(flow).toEqual([
      { timeMs: 30_000, rateNlPerDay: 0 },
      { timeMs: 60_000, rateNlPerDay: (500 * DAY_MS) / 30_000 },
    ]);
  });
});

describe('the accuracy report', () => {
  it('has the balance, the start-up graph and the trumpet curve, with the figures of the test', async () => {
    const rateNlPerDay = 12_000_000;
    const samples = Array.from({ length: 241 }, (_, i) => ({
      timeMs: i * 30_000,
      deliveredNl: (rateNlPerDay * 1.01 * i * 30_000) / DAY_MS,
    }));
    const trumpet = analyseTrumpet(samples, { programmedRateNlPerDay: rateNlPerDay });
    const { html, charts } = await buildAccuracyReport({
      samples,
      trumpet,
      durationMs: 2 * HOUR_MS,
      firmwareId: 'itpump-emu x720',
      strokeVolumeNl: 500,
      strokeVolumeSource: "the pump's configuration (not calibrated)",
    });
    expect(charts.map((c) => c.file)).toEqual(['balance.svg', 'flow.svg', 'trumpet.svg']);
    for (const c of charts) expect(c.svg).toMatch(/^<svg/);
    expect(charts[1]!.svg).toMatch(/Flow rate against time/);
    for (const heading of ['Balance', 'Flow rate against time', 'Trumpet curve'])
      expect(html).toContain(`<h2>${heading}</h2>`);
    // A steady +1 % delivery: the mean flow error says so in the summary.
    expect(trumpet.meanFlowErrorPercent).toBeCloseTo(1, 6);
    expect(html).toMatch(/Mean flow error A<\/th>\s*<td[^>]*>\+?1\.00 %/);
    expect(html).toContain('240 intervals');
  });
});

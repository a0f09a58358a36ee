/**
 * Every chart renders a standalone SVG with its title, axis titles with units and a legend;
 * rendering is deterministic; long runs stay small.
 */
import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/units.js';
import { AnalysisInputError } from '../../sim/analysis/inputError.js';
import { createSketch, recordObservation } from '../../sim/analysis/sketch.js';
import { analyseTrumpet, type DeliverySample } from '../../sim/analysis/trumpet.js';
import {
  alarmChartSvg,
  batteryChartSvg,
  doseChartSvg,
  histogramChartSvg,
  normaliseSvgIds,
  pressChartSvg,
  reservoirChartSvg,
  timeAxisFor,
  trumpetChartSvg,
} from '../../sim/report/charts.js';
import type { AlarmRecord, DoseSample, PressRecord, VolumeSample } from '../../sim/report/types.js';

const SIZE_LIMIT_BYTES = 300_000;

/** A 20 mL reservoir draining 1 mL/day and refilled when 3 mL are left, one row per `stepMs`. */
function reservoirRun(days: number, stepMs: number) {
  const estimate: VolumeSample[] = [];
  const truth: VolumeSample[] = [];
  const refillTimesMs: number[] = [];
  let estimateNl = 20_000_000;
  let truthNl = 20_000_000;
  for (let t = 0; t <= days * DAY_MS; t += stepMs) {
    if (estimateNl < 3_000_000) {
      refillTimesMs.push(t);
      estimateNl = truthNl = 20_000_000;
    }
    estimate.push({ timeMs: t, volumeNl: Math.round(estimateNl) });
    truth.push({ timeMs: t, volumeNl: Math.round(truthNl) });
    estimateNl -= (1_000_000 * stepMs) / DAY_MS;
    truthNl -= (1_030_000 * stepMs) / DAY_MS;
  }
  return { estimate, truth, refillTimesMs, lowReservoirNl: 4_000_000, emptyNl: 2_000_000 };
}

/** 5 mg/day basal in 10-min steps plus a 0.1 mg bolus every 7 h. */
function doseRun(days: number): DoseSample[] {
  const samples: DoseSample[] = [];
  let doseNg = 0;
  for (let t = 0; t <= days * DAY_MS; t += 10 * MINUTE_MS) {
    doseNg += 5_000_000 / 144 + (t % (7 * HOUR_MS) === 0 ? 100_000 : 0);
    samples.push({ timeMs: t, doseNg: Math.round(doseNg) });
  }
  return samples;
}

function pressRun(count: number, days: number): PressRecord[] {
  const reasons = ['lockout', 'maxBolusesPerDay', 'dailyLimit'];
  return Array.from({ length: count }, (_, i): PressRecord => {
    const timeMs = Math.floor((i * days * DAY_MS) / count);
    return i % 3 === 0
      ? { timeMs, granted: false, reason: reasons[Math.floor(i / 3) % reasons.length]! }
      : { timeMs, granted: true };
  });
}

function trumpetResult() {
  const samples: DeliverySample[] = [];
  let delivered = 0;
  for (let k = 0; k <= 240; k++) {
    samples.push({ timeMs: k * 30_000, deliveredNl: delivered });
    delivered += 1_000 + ((k * 37) % 11) * 20 - 100; // ±10 % ripple, deterministic
  }
  return analyseTrumpet(samples, { programmedRateNlPerDay: 2_880_000 });
}

function daysToEmptySketch() {
  const sketch = createSketch({ unit: 'ms', lowest: 0, highest: 60 * DAY_MS, binCount: 60 });
  for (let i = 0; i < 2_000; i++)
    recordObservation(sketch, 20 * DAY_MS + ((i * 7_919) % 20_000) * 60_000);
  return sketch;
}

function expectChart(svg: string, texts: readonly string[]): void {
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.endsWith('</svg>')).toBe(true);
  expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
  for (const text of texts) expect(svg, `missing text ${text}`).toContain(`>${text}<`);
  // Minimal well-formedness: every text element closed.
  expect(svg.match(/<text\b/g)?.length).toBe(svg.match(/<\/text>/g)?.length);
  expect(Buffer.byteLength(svg)).toBeLessThan(SIZE_LIMIT_BYTES);
}

describe('charts', () => {
  it('reservoir: estimate, truth, refills, thresholds, time in days and volume in mL', async () => {
    const svg = await reservoirChartSvg(reservoirRun(60, 30 * MINUTE_MS));
    expectChart(svg, [
      'Reservoir volume',
      'Volume (mL)',
      'Time since start of run (days)',
      'firmware estimate',
      'true volume',
      'refill',
      'low-reservoir threshold (4.0 mL)',
      'empty (2.0 mL)',
    ]);
  });

  it('dose: cumulative and 24-h rolling dose against the hard and soft daily maximum', async () => {
    const svg = await doseChartSvg({
      drugName: 'morphine',
      cumulative: doseRun(30),
      hardDailyMaxNg: 6_000_000,
      softDailyMaxNg: 5_500_000,
    });
    expectChart(svg, [
      'Dose of morphine',
      'Cumulative dose (mg)',
      '24-h dose (mg)',
      'Time since start of run (days)',
      'cumulative dose',
      '24-h rolling dose',
      'hard daily maximum (6 mg/day)',
      'soft daily maximum (5.5 mg/day)',
    ]);
  });

  it('dose: a microgram drug is drawn in µg', async () => {
    const cumulative = Array.from({ length: 100 }, (_, i) => ({
      timeMs: i * HOUR_MS,
      doseNg: i * 500,
    }));
    const svg = await doseChartSvg({ drugName: 'ziconotide', cumulative, hardDailyMaxNg: 19_200 });
    expectChart(svg, [
      'Dose of ziconotide',
      'Cumulative dose (µg)',
      '24-h dose (µg)',
      'hard daily maximum (19.2 µg/day)',
    ]);
  });

  it('presses: one tick per press, granted and denied by reason', async () => {
    const svg = await pressChartSvg({ presses: pressRun(300, 30), runEndMs: 30 * DAY_MS });
    expectChart(svg, [
      'Patient presses',
      'Outcome',
      'granted',
      'denied: dailyLimit',
      'denied: lockout',
      'denied: maxBolusesPerDay',
    ]);
    expect(svg).toContain('300 presses: 200 granted, 100 denied');
  });

  it('presses: many presses become counts per day, still bounded', async () => {
    const svg = await pressChartSvg({
      presses: pressRun(20_000, 180),
      runEndMs: 180 * DAY_MS,
      maxMarks: 1_500,
    });
    expectChart(svg, ['Patient presses', 'Presses per day', 'granted', 'denied: lockout']);
  });

  it('alarms: raised-to-cleared bars by priority, joined when too many', async () => {
    const alarms: AlarmRecord[] = [
      {
        alarm: 'motorStall',
        priority: 'critical',
        raisedAtMs: 3 * DAY_MS,
        clearedAtMs: 3 * DAY_MS + HOUR_MS,
      },
      {
        alarm: 'lowReservoir',
        priority: 'nonCritical',
        raisedAtMs: 10 * DAY_MS,
        clearedAtMs: 12 * DAY_MS,
      },
      { alarm: 'batteryEri', priority: 'nonCritical', raisedAtMs: 25 * DAY_MS, clearedAtMs: null },
    ];
    const svg = await alarmChartSvg({ alarms, runEndMs: 30 * DAY_MS });
    expectChart(svg, [
      'Alarms',
      'Alarm',
      'Priority',
      'critical',
      'nonCritical',
      'motorStall',
      'lowReservoir',
      'batteryEri',
    ]);
    expect(svg).toContain('3 alarms raised, 1 still active at the end');

    const many = Array.from(
      { length: 5_000 },
      (_, i): AlarmRecord => ({
        alarm: i % 2 ? 'occlusionSuspected' : 'lowReservoir',
        priority: i % 2 ? 'critical' : 'nonCritical',
        raisedAtMs: i * HOUR_MS,
        clearedAtMs: i * HOUR_MS + 10 * MINUTE_MS,
      }),
    );
    const joined = await alarmChartSvg({ alarms: many, runEndMs: 5_000 * HOUR_MS, maxBars: 200 });
    expectChart(joined, ['Alarms', 'occlusionSuspected', 'lowReservoir']);
    expect(joined).toMatch(/episodes less than [0-9.]+ [a-z]+ apart joined/);
  });

  it('battery: remaining charge in mAh with ERI and EOS levels', async () => {
    const samples = Array.from({ length: 500 }, (_, i) => ({
      timeMs: i * 6 * HOUR_MS,
      remainingUah: 1_500_000 - i * 2_000,
    }));
    const svg = await batteryChartSvg({ samples, eriUah: 600_000, eosUah: 300_000 });
    expectChart(svg, [
      'Battery',
      'Remaining charge (mAh)',
      'Time since start of run (days)',
      'remaining charge',
      'ERI (600 mAh)',
      'EOS (300 mAh)',
    ]);
  });

  it('battery: a gauge that projects ERI from the drain gets a marker when ERI was raised, no ERI level', async () => {
    const samples = Array.from({ length: 100 }, (_, i) => ({
      timeMs: i * DAY_MS,
      remainingUah: 1_500_000 - i * 5_000,
    }));
    const svg = await batteryChartSvg({ samples, eriAtMs: 60 * DAY_MS, eosUah: 50_000 });
    expectChart(svg, ['Battery', 'remaining charge', 'ERI raised (60d 00:00:00)', 'EOS (50 mAh)']);
    expect(svg).not.toMatch(/>ERI \([0-9.]+ mAh\)</);
  });

  it('trumpet: Ep(max) and Ep(min) against the observation window, with the mean error', async () => {
    const svg = await trumpetChartSvg(trumpetResult());
    expectChart(svg, [
      'Trumpet curve (IEC 60601-2-24 method)',
      'Observation window P (min)',
      'Flow error (%)',
      'Ep(max)',
      'Ep(min)',
    ]);
    expect(svg).toMatch(/>mean flow error A \([+-]?[0-9.]+ %\)</);
  });

  it('fleet histogram: counts per bin from a sketch, in display units, with the mean', async () => {
    const svg = await histogramChartSvg(daysToEmptySketch(), {
      metric: 'Days to empty',
      displayUnit: 'days',
      perDisplayUnit: DAY_MS,
    });
    expectChart(svg, ['Days to empty', 'Days to empty (days)', 'Patients', 'patients per bin']);
    expect(svg).toMatch(/>mean \([0-9.]+ days\)</);
    expect(svg).toContain('n = 2000');
  });

  it('takes a title from the options', async () => {
    const svg = await batteryChartSvg(
      { samples: [{ timeMs: 0, remainingUah: 1_000 }], eriUah: 500, eosUah: 100 },
      { title: 'Cell of pump 7' },
    );
    expectChart(svg, ['Cell of pump 7']);
  });

  it('renders byte-identical SVG for the same input, whatever was rendered in between', async () => {
    const run = reservoirRun(30, HOUR_MS);
    const first = await reservoirChartSvg(run);
    await doseChartSvg({ drugName: 'morphine', cumulative: doseRun(5), hardDailyMaxNg: 6_000_000 });
    const [second, third] = await Promise.all([reservoirChartSvg(run), reservoirChartSvg(run)]);
    expect(second).toBe(first);
    expect(third).toBe(first);
  });

  it('decimates a six-month run of 100,000+ rows to a chart no bigger than a short run', async () => {
    const sixMonths = reservoirRun(180, 2 * MINUTE_MS + 30_000); // 103,680 rows per series
    expect(sixMonths.estimate.length).toBeGreaterThan(100_000);
    const big = await reservoirChartSvg(sixMonths);
    const small = await reservoirChartSvg(reservoirRun(180, 2 * HOUR_MS)); // 2,161 rows
    expect(Buffer.byteLength(big)).toBeLessThan(SIZE_LIMIT_BYTES);
    expect(Buffer.byteLength(big)).toBeLessThan(Buffer.byteLength(small) * 1.1);
    const fewer = await reservoirChartSvg(sixMonths, { maxPointsPerSeries: 100 });
    expect(Buffer.byteLength(fewer)).toBeLessThan(Buffer.byteLength(big));
  });

  it('rejects a series that goes back in time, naming the row', async () => {
    const run = reservoirRun(2, HOUR_MS);
    [run.estimate[3], run.estimate[4]] = [run.estimate[4]!, run.estimate[3]!];
    const error = await reservoirChartSvg(run).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnalysisInputError);
    expect((error as AnalysisInputError).field).toBe('estimate[4].timeMs');
  });

  it('picks the time axis unit from the span', () => {
    expect(timeAxisFor(90 * MINUTE_MS).label).toBe('min');
    // The standard's two-hour accuracy test reads best in minutes.
    expect(timeAxisFor(2 * HOUR_MS).label).toBe('min');
    expect(timeAxisFor(3 * HOUR_MS + 1).label).toBe('h');
    expect(timeAxisFor(2 * DAY_MS).label).toBe('days');
  });

  it('renumbers clip-path ids in order of appearance', () => {
    const svg =
      '<svg><clipPath id="clip17"/><g clip-path="url(#clip17)"/><clipPath id="clip9"/><use href="#clip9"/></svg>';
    expect(normaliseSvgIds(svg)).toBe(
      '<svg><clipPath id="def1"/><g clip-path="url(#def1)"/><clipPath id="def2"/><use href="#def2"/></svg>',
    );
  });
});

/**
 * Trumpet-curve arithmetic on hand-built delivery series whose errors can be worked out on paper.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/units.js';
import { AnalysisInputError } from '../../sim/analysis/inputError.js';
import {
  analyseTrumpet,
  formatRateMlPerDay,
  trumpetTable,
  TRUMPET_DEFAULTS,
  type DeliverySample,
} from '../../sim/analysis/trumpet.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 100 * Number(process.env.FC_RUNS_FACTOR ?? 1));

const DT_MS = 30_000;
/** 1000 nL per 30 s: 2880 intervals a day. */
const RATE_NL_PER_DAY = 2_880_000;
const NOMINAL_NL = 1_000;

/** Two hours of 30-s samples where interval i (ending at sample i) delivers `perInterval(i)` nL. */
function series(
  perInterval: (intervalStartMs: number) => number,
  durationMs = 2 * HOUR_MS,
): DeliverySample[] {
  const samples: DeliverySample[] = [{ timeMs: 0, deliveredNl: 0 }];
  for (let t = DT_MS; t <= durationMs; t += DT_MS) {
    samples.push({
      timeMs: t,
      deliveredNl: samples[samples.length - 1]!.deliveredNl + perInterval(t - DT_MS),
    });
  }
  return samples;
}

function expectInputError(
  run: () => unknown,
  field: string | RegExp,
  kind?: AnalysisInputError['kind'],
): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AnalysisInputError);
    const e = error as AnalysisInputError;
    if (typeof field === 'string') expect(e.field).toBe(field);
    else expect(e.field).toMatch(field);
    if (kind !== undefined) expect(e.kind).toBe(kind);
    return;
  }
  throw new Error('expected an AnalysisInputError');
}

describe('analyseTrumpet', () => {
  it('gives zero error in every window for perfectly constant flow', () => {
    const result = analyseTrumpet(
      series(() => NOMINAL_NL),
      { programmedRateNlPerDay: RATE_NL_PER_DAY },
    );
    expect(result.meanFlowErrorPercent).toBe(0);
    expect(result.deliveredNl).toBe(120 * NOMINAL_NL);
    expect(result.expectedNl).toBe(120 * NOMINAL_NL);
    for (const w of result.windows) {
      expect(w.epMaxPercent).toBe(0);
      expect(w.epMinPercent).toBe(0);
    }
  });

  it('uses the defaults: second hour of two, Δt 30 s, p × Δt windows of 2, 5, 11, 19, 31 min', () => {
    const result = analyseTrumpet(
      series(() => NOMINAL_NL),
      { programmedRateNlPerDay: RATE_NL_PER_DAY },
    );
    expect(result.analysisStartMs).toBe(HOUR_MS);
    expect(result.analysisDurationMs).toBe(HOUR_MS);
    expect(result.sampleIntervalMs).toBe(DT_MS);
    expect(result.windows.map((w) => w.windowMs / MINUTE_MS)).toEqual([2, 5, 11, 19, 31]);
    // p = P / Δt and m = (T − P) / Δt + 1 with T = 60 min, Δt = 0.5 min.
    expect(result.windows.map((w) => w.samplesPerWindow)).toEqual([4, 10, 22, 38, 62]);
    expect(result.windows.map((w) => w.windowCount)).toEqual([117, 111, 99, 83, 59]);
  });

  it('finds a 10 % overdelivery over one aligned 2-minute interval', () => {
    // From 90:00 to 92:00 every 30-s interval delivers 1100 nL instead of 1000: 400 nL extra.
    const burstFromMs = 90 * MINUTE_MS;
    const burstToMs = 92 * MINUTE_MS;
    const samples = series((t) => (t >= burstFromMs && t < burstToMs ? 1_100 : NOMINAL_NL));
    const result = analyseTrumpet(samples, { programmedRateNlPerDay: RATE_NL_PER_DAY });
    const byMinutes = new Map(result.windows.map((w) => [w.windowMs / MINUTE_MS, w]));
    // A window of P minutes expects P × 2000 nL; the worst one holds all 400 nL extra.
    expect(byMinutes.get(2)!.epMaxPercent).toBeCloseTo(10, 12); // 400 / 4000
    expect(byMinutes.get(2)!.epMaxStartMs).toBe(burstFromMs);
    expect(byMinutes.get(5)!.epMaxPercent).toBeCloseTo(4, 12); // 400 / 10000
    expect(byMinutes.get(11)!.epMaxPercent).toBeCloseTo((100 * 400) / 22_000, 12);
    expect(byMinutes.get(19)!.epMaxPercent).toBeCloseTo((100 * 400) / 38_000, 12);
    expect(byMinutes.get(31)!.epMaxPercent).toBeCloseTo((100 * 400) / 62_000, 12);
    // Windows away from the burst deliver exactly the programmed volume; none underdelivers. Every
    // 31-min window (starting 60:00 to 89:00) holds at least 90:00 to 91:00: 200 nL of 62,000 extra.
    for (const w of result.windows.slice(0, 4)) expect(w.epMinPercent).toBe(0);
    expect(byMinutes.get(31)!.epMinPercent).toBeCloseTo((100 * 200) / 62_000, 12);
    // Mean over the hour: 400 nL extra on 120,000 nL expected.
    expect(result.meanFlowErrorPercent).toBeCloseTo(100 / 300, 12);
  });

  it('finds a 10 % overdelivery over one minute, diluted over the 2-minute window', () => {
    // 75:00 to 76:00 delivers 1100 nL per interval: 200 nL extra in any window holding that minute.
    const samples = series((t) => (t >= 75 * MINUTE_MS && t < 76 * MINUTE_MS ? 1_100 : NOMINAL_NL));
    const result = analyseTrumpet(samples, {
      programmedRateNlPerDay: RATE_NL_PER_DAY,
      windowsMs: [MINUTE_MS, 2 * MINUTE_MS],
    });
    const [oneMinute, twoMinutes] = result.windows;
    expect(oneMinute!.epMaxPercent).toBeCloseTo(10, 12); // 200 / 2000
    expect(twoMinutes!.epMaxPercent).toBeCloseTo(5, 12); // 200 / 4000
    // The first 2-minute window holding the whole minute starts one minute before it.
    expect(twoMinutes!.epMaxStartMs).toBe(74 * MINUTE_MS);
  });

  it('reports underdelivery as Ep(min), and ignores the first hour', () => {
    // A pause in the first hour must not count; a 25 % shortfall from 100:00 to 105:00 must.
    const samples = series((t) =>
      t < 30 * MINUTE_MS ? 0 : t >= 100 * MINUTE_MS && t < 105 * MINUTE_MS ? 750 : NOMINAL_NL,
    );
    const result = analyseTrumpet(samples, { programmedRateNlPerDay: RATE_NL_PER_DAY });
    const [two, five, eleven] = result.windows;
    expect(two!.epMinPercent).toBeCloseTo(-25, 12);
    expect(five!.epMinPercent).toBeCloseTo(-25, 12);
    expect(five!.epMinStartMs).toBe(100 * MINUTE_MS);
    expect(eleven!.epMinPercent).toBeCloseTo((-100 * 10 * 250) / 22_000, 12);
    expect(two!.epMaxPercent).toBe(0);
    expect(result.meanFlowErrorPercent).toBeCloseTo((-100 * 2_500) / 120_000, 12);
  });

  it('interpolates readings that jitter around the grid', () => {
    // Exactly linear delivery, read a few milliseconds off the 30-s grid: still zero error. One
    // reading past the end, since the last on-grid one may come a few milliseconds early.
    const samples: DeliverySample[] = [];
    for (let k = 0; k <= 241; k++) {
      const timeMs = k * DT_MS + ((k * 7919) % 41) - 20; // −20..+20 ms, deterministic
      samples.push({ timeMs, deliveredNl: (timeMs * RATE_NL_PER_DAY) / DAY_MS });
    }
    const result = analyseTrumpet(samples, { programmedRateNlPerDay: RATE_NL_PER_DAY });
    expect(result.meanFlowErrorPercent).toBeCloseTo(0, 9);
    for (const w of result.windows) {
      expect(w.epMaxPercent).toBeCloseTo(0, 9);
      expect(w.epMinPercent).toBeCloseTo(0, 9);
    }
  });

  it('analyses days for a low-rate implant with the period and windows as parameters', () => {
    // 250 nL strokes every 90 min: 4000 nL/day, far too coarse for minutes, fine over days.
    const strokeNl = 250;
    const strokeEveryMs = 90 * MINUTE_MS;
    const samples: DeliverySample[] = [];
    for (let t = 0; t <= 10 * DAY_MS; t += HOUR_MS)
      samples.push({ timeMs: t, deliveredNl: Math.floor(t / strokeEveryMs) * strokeNl });
    const result = analyseTrumpet(samples, {
      programmedRateNlPerDay: 4_000,
      sampleIntervalMs: HOUR_MS,
      analysisStartMs: 2 * DAY_MS,
      analysisDurationMs: 7 * DAY_MS,
      windowsMs: [6 * HOUR_MS, DAY_MS, 3 * DAY_MS],
    });
    expect(result.windows.map((w) => w.windowCount)).toEqual([
      7 * 24 - 6 + 1,
      7 * 24 - 24 + 1,
      7 * 24 - 72 + 1,
    ]);
    // 7 days hold exactly 112 strokes and start and end on a stroke boundary: A = 0.
    expect(result.meanFlowErrorPercent).toBe(0);
    // A window is off by at most one stroke against its expected volume.
    for (const w of result.windows) {
      const oneStrokePercent = (100 * strokeNl) / ((4_000 * w.windowMs) / DAY_MS);
      expect(w.epMaxPercent).toBeLessThanOrEqual(oneStrokePercent + 1e-9);
      expect(w.epMinPercent).toBeGreaterThanOrEqual(-oneStrokePercent - 1e-9);
    }
  });

  it('bounds every window error by one stroke for any stroke-quantised constant flow (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5_000 }), // stroke volume, nL
        fc.integer({ min: 1, max: 40 }), // seconds between strokes
        fc.integer({ min: 0, max: 39_999 }), // phase of the first stroke, ms
        fc.integer({ min: 1, max: 20 }), // window length in Δt
        (strokeNl, strokeEverySeconds, phaseMs, p) => {
          const strokeEveryMs = strokeEverySeconds * 1_000;
          const rate = (strokeNl * DAY_MS) / strokeEveryMs;
          fc.pre(Number.isInteger(rate));
          const delivered = (t: number) =>
            t < phaseMs ? 0 : (Math.floor((t - phaseMs) / strokeEveryMs) + 1) * strokeNl;
          const samples = series(() => 0).map((s) => ({
            timeMs: s.timeMs,
            deliveredNl: delivered(s.timeMs),
          }));
          const result = analyseTrumpet(samples, {
            programmedRateNlPerDay: rate,
            windowsMs: [p * DT_MS],
          });
          const w = result.windows[0]!;
          const expectedNl = (rate * w.windowMs) / DAY_MS;
          const bound = (100 * strokeNl) / expectedNl + 1e-9;
          expect(w.epMaxPercent).toBeLessThanOrEqual(bound);
          expect(w.epMinPercent).toBeGreaterThanOrEqual(-bound);
          expect(w.epMinPercent).toBeLessThanOrEqual(w.epMaxPercent);
        },
      ),
      { seed, numRuns },
    );
  });

  it('keeps the mean error between Ep(min) and Ep(max) when windows tile the period (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 240, maxLength: 240 }),
        (volumes) => {
          const samples = series((t) => volumes[t / DT_MS]!);
          // 2, 4, 5, 6, 10, 12, 15, 20, 30 min all divide the 60-min period.
          const result = analyseTrumpet(samples, {
            programmedRateNlPerDay: RATE_NL_PER_DAY,
            windowsMs: [2, 4, 5, 6, 10, 12, 15, 20, 30].map((m) => m * MINUTE_MS),
          });
          for (const w of result.windows) {
            expect(w.epMinPercent).toBeLessThanOrEqual(result.meanFlowErrorPercent + 1e-9);
            expect(w.epMaxPercent).toBeGreaterThanOrEqual(result.meanFlowErrorPercent - 1e-9);
          }
        },
      ),
      { seed, numRuns },
    );
  });

  it('rejects bad input with an error naming the field', () => {
    const good = series(() => NOMINAL_NL);
    const rate = { programmedRateNlPerDay: RATE_NL_PER_DAY };
    expectInputError(
      () => analyseTrumpet(good, { programmedRateNlPerDay: 0 }),
      'programmedRateNlPerDay',
      'invalidValue',
    );
    expectInputError(
      () => analyseTrumpet(good, { ...rate, windowsMs: [45_000] }),
      'windowsMs[0]',
      'invalidValue',
    );
    expectInputError(
      () => analyseTrumpet(good, { ...rate, windowsMs: [2 * HOUR_MS] }),
      'windowsMs[0]',
      'invalidValue',
    );
    expectInputError(() => analyseTrumpet(good, { ...rate, windowsMs: [] }), 'windowsMs');
    expectInputError(
      () => analyseTrumpet(good, { ...rate, analysisDurationMs: HOUR_MS + 1 }),
      'analysisDurationMs',
    );
    expectInputError(() => analyseTrumpet(good.slice(0, 200), rate), 'samples', 'notCovered');
    expectInputError(() => analyseTrumpet(good.slice(150), rate), 'samples', 'notCovered');
    const holed = good.filter((s) => s.timeMs < 80 * MINUTE_MS || s.timeMs > 82 * MINUTE_MS);
    expectInputError(() => analyseTrumpet(holed, rate), /^samples\[\d+\]\.timeMs$/, 'notCovered');
    const swapped = [...good];
    [swapped[10], swapped[11]] = [swapped[11]!, swapped[10]!];
    expectInputError(() => analyseTrumpet(swapped, rate), 'samples[11].timeMs', 'unordered');
    expectInputError(
      () =>
        analyseTrumpet(
          [...good.slice(0, 5), { timeMs: 150_000, deliveredNl: Number.NaN }, ...good.slice(6)],
          rate,
        ),
      'samples[5].deliveredNl',
    );
  });
});

describe('trumpetTable', () => {
  it('prints one row per window with p, m, Ep(max) and Ep(min), and the mean error', () => {
    const samples = series((t) => (t >= 90 * MINUTE_MS && t < 92 * MINUTE_MS ? 1_100 : NOMINAL_NL));
    const text = trumpetTable(analyseTrumpet(samples, { programmedRateNlPerDay: RATE_NL_PER_DAY }));
    const lines = text.trimEnd().split('\n');
    expect(text).toContain('Programmed rate r   2.880 mL/day');
    expect(text).toContain('Mean flow error A   +0.33 %');
    const rows = lines.slice(-TRUMPET_DEFAULTS.windowsMs.length);
    expect(rows[0]!.split(/\s{2,}/)).toEqual(['2 min', '4', '117', '+10.00', '0.00']);
    expect(rows[1]!.split(/\s{2,}/)).toEqual(['5 min', '10', '111', '+4.00', '0.00']);
    expect(rows[4]!.split(/\s{2,}/)).toEqual(['31 min', '62', '59', '+0.65', '+0.32']);
    // Columns line up: every row as long as the header.
    const header = lines[lines.length - TRUMPET_DEFAULTS.windowsMs.length - 2]!;
    expect(header).toMatch(/^Window P/);
    for (const row of rows) expect(row.length).toBe(header.length);
  });
});

describe('formatRateMlPerDay', () => {
  it('shows a rate with the decimals it needs, three at least', () => {
    expect(formatRateMlPerDay(500_000)).toBe('0.500 mL/day');
    expect(formatRateMlPerDay(4_500)).toBe('0.0045 mL/day');
    expect(formatRateMlPerDay(48_001)).toBe('0.048001 mL/day');
    expect(formatRateMlPerDay(24_000_000)).toBe('24.000 mL/day');
  });
});

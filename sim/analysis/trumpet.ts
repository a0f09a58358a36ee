/**
 * Flow-accuracy analysis in the manner of IEC 60601-2-24 (the "trumpet curve").
 *
 * Input is a cumulative delivered-volume series sampled every Δt: on the rig it is balance mass ÷
 * density, in the simulator the simulated motor's true delivery. The analysis period (by default
 * the second hour of a two-hour test, as the standard's test does) is cut into windows of P = p × Δt
 * that slide one Δt at a time; for each window length we report the largest and smallest
 * percentage flow error, Ep(max) and Ep(min), and over the whole period the mean flow error A.
 * The formulas are in docs/reports.md.
 *
 * Rules:
 * - Pure function over plain data; no I/O, no clock. Same input, same result.
 * - Samples need not fall exactly on the Δt grid (a rig's balance readings jitter by a few
 *   milliseconds): the cumulative volume at each grid time is interpolated linearly between the
 *   two readings around it, and a grid time whose readings are more than `maxSampleGapMs` apart is
 *   an error, not a guess.
 * - The analysis period and the window lengths are parameters. An implant delivering a few hundred
 *   microlitres a day moves one stroke every few minutes, so a 2-minute window holds zero or one
 *   stroke and its error is meaningless: the simulator analyses days with windows of hours.
 * - The default window list (2, 5, 11, 19, 31 min) is UNCONFIRMED (docs/sources.md §5.1): configurable.
 *
 * It must not know where the samples came from, nor draw anything (sim/report/charts.ts does).
 */
import {
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  SECOND_MS,
  formatDurationMs,
  formatMl,
  formatTimeMs,
} from '../../src/units.js';
import { AnalysisInputError, requireFinite, requireInteger } from './inputError.js';

/** One reading of the cumulative volume delivered since the start of the test. */
export interface DeliverySample {
  timeMs: number;
  /** May be fractional: a balance reading divided by density is not a whole number of nL. */
  deliveredNl: number;
}

export interface TrumpetOptions {
  /** The rate the pump was programmed to deliver, r. */
  programmedRateNlPerDay: number;
  /** Δt, the sampling interval the analysis uses. Default 30 s (docs/sources.md §5.1, T1/T2). */
  sampleIntervalMs?: number;
  /** Start of the analysis period on the samples' time axis. Default 1 h (second hour of two). */
  analysisStartMs?: number;
  /** Length T of the analysis period; a multiple of Δt. Default 1 h. */
  analysisDurationMs?: number;
  /** Observation window lengths P, each a multiple of Δt and at most T. Default 2, 5, 11, 19, 31 min. */
  windowsMs?: readonly number[];
  /** Largest distance between two readings that a grid time may be interpolated across. Default 2 Δt. */
  maxSampleGapMs?: number;
}

export const TRUMPET_DEFAULTS = {
  sampleIntervalMs: 30 * SECOND_MS,
  analysisStartMs: HOUR_MS,
  analysisDurationMs: HOUR_MS,
  /** UNCONFIRMED window list (docs/sources.md §5.1): commonly quoted for the standard, not seen in its text. */
  windowsMs: [2, 5, 11, 19, 31].map((minutes) => minutes * MINUTE_MS),
} as const;

export interface TrumpetWindow {
  /** P, the observation window length. */
  windowMs: number;
  /** p = P / Δt. */
  samplesPerWindow: number;
  /** m = (T − P) / Δt + 1, how many windows of this length slide through the period. */
  windowCount: number;
  epMaxPercent: number;
  /** Start time of the (first) window whose error is Ep(max). */
  epMaxStartMs: number;
  epMinPercent: number;
  /** Start time of the (first) window whose error is Ep(min). */
  epMinStartMs: number;
}

export interface TrumpetResult {
  programmedRateNlPerDay: number;
  sampleIntervalMs: number;
  analysisStartMs: number;
  analysisDurationMs: number;
  /** Volume delivered over the analysis period (interpolated at its ends). */
  deliveredNl: number;
  /** Volume the programmed rate would deliver over the analysis period, r × T. */
  expectedNl: number;
  /** A, the mean flow error over the analysis period, in percent of r. */
  meanFlowErrorPercent: number;
  /** One entry per window length, shortest first. */
  windows: TrumpetWindow[];
}

/** 100 × (delivered − expected) / expected for a volume delivered over `durationMs` at rate r. */
function flowErrorPercent(deliveredNl: number, durationMs: number, rateNlPerDay: number): number {
  // Both terms in nL·ms/day units, so an exact delivery gives an exact 0.
  const expected = rateNlPerDay * durationMs;
  return (100 * (deliveredNl * DAY_MS - expected)) / expected;
}

function validateSamples(samples: readonly DeliverySample[]): void {
  samples.forEach((sample, index) => {
    requireFinite(sample.timeMs, `samples[${index}].timeMs`);
    requireFinite(sample.deliveredNl, `samples[${index}].deliveredNl`);
    const previous = samples[index - 1];
    if (previous !== undefined && sample.timeMs <= previous.timeMs) {
      throw new AnalysisInputError(
        'unordered',
        `samples[${index}].timeMs`,
        `must be later than samples[${index - 1}].timeMs (${previous.timeMs}), got ${sample.timeMs}`,
      );
    }
  });
}

/** Cumulative volume at each grid time start + k·Δt, k = 0..n, by linear interpolation. */
function volumesOnGrid(
  samples: readonly DeliverySample[],
  startMs: number,
  intervalMs: number,
  intervalCount: number,
  maxGapMs: number,
): number[] {
  const volumes: number[] = [];
  let right = 0; // index of the first sample at or after the current grid time
  for (let k = 0; k <= intervalCount; k++) {
    const gridMs = startMs + k * intervalMs;
    while (right < samples.length && samples[right]!.timeMs < gridMs) right++;
    const after = samples[right];
    if (after === undefined) {
      const last = samples[samples.length - 1];
      throw new AnalysisInputError(
        'notCovered',
        'samples',
        `end at ${last === undefined ? 'nothing (empty)' : `${last.timeMs} ms`} but the analysis needs a reading at ${gridMs} ms`,
      );
    }
    if (after.timeMs === gridMs) {
      volumes.push(after.deliveredNl);
      continue;
    }
    const before = samples[right - 1];
    if (before === undefined) {
      throw new AnalysisInputError(
        'notCovered',
        'samples',
        `start at ${after.timeMs} ms but the analysis needs a reading at ${gridMs} ms`,
      );
    }
    const gapMs = after.timeMs - before.timeMs;
    if (gapMs > maxGapMs) {
      throw new AnalysisInputError(
        'notCovered',
        `samples[${right}].timeMs`,
        `readings around ${gridMs} ms are ${gapMs} ms apart, more than maxSampleGapMs (${maxGapMs})`,
      );
    }
    const fraction = (gridMs - before.timeMs) / gapMs;
    volumes.push(before.deliveredNl + fraction * (after.deliveredNl - before.deliveredNl));
  }
  return volumes;
}

/** The windows: at least one, each a multiple of Δt, none past the analysis, none twice. */
function validateWindows(
  windowsMs: readonly number[],
  intervalMs: number,
  durationMs: number,
): void {
  if (windowsMs.length === 0)
    throw new AnalysisInputError('invalidValue', 'windowsMs', 'must list at least one window');
  windowsMs.forEach((windowMs, index) => {
    requireInteger(windowMs, `windowsMs[${index}]`, intervalMs);
    if (windowMs % intervalMs !== 0) {
      throw new AnalysisInputError(
        'invalidValue',
        `windowsMs[${index}]`,
        `must be a multiple of sampleIntervalMs (${intervalMs}), got ${windowMs}`,
      );
    }
    if (windowMs > durationMs) {
      throw new AnalysisInputError(
        'invalidValue',
        `windowsMs[${index}]`,
        `must be at most analysisDurationMs (${durationMs}), got ${windowMs}`,
      );
    }
    if (windowMs === windowsMs[index - 1])
      throw new AnalysisInputError('invalidValue', 'windowsMs', `lists ${windowMs} twice`);
  });
}

/** Ep(max) and Ep(min) of one observation window, and where in the analysis period they start. */
function trumpetWindow(
  volumes: readonly number[],
  g: {
    windowMs: number;
    intervalMs: number;
    intervalCount: number;
    startMs: number;
    rateNlPerDay: number;
  },
): TrumpetWindow {
  const { windowMs, intervalMs, intervalCount, startMs, rateNlPerDay } = g;
  const p = windowMs / intervalMs;
  const windowCount = intervalCount - p + 1;
  let epMaxPercent = -Infinity;
  let epMinPercent = Infinity;
  let epMaxStartMs = startMs;
  let epMinStartMs = startMs;
  // Window j covers the p sampling intervals from grid time j to grid time j + p. The mean of the
  // p per-interval errors equals the error of the volume delivered over the window.
  for (let j = 0; j < windowCount; j++) {
    const ep = flowErrorPercent(volumes[j + p]! - volumes[j]!, windowMs, rateNlPerDay);
    if (ep > epMaxPercent) {
      epMaxPercent = ep;
      epMaxStartMs = startMs + j * intervalMs;
    }
    if (ep < epMinPercent) {
      epMinPercent = ep;
      epMinStartMs = startMs + j * intervalMs;
    }
  }
  return {
    windowMs,
    samplesPerWindow: p,
    windowCount,
    epMaxPercent,
    epMaxStartMs,
    epMinPercent,
    epMinStartMs,
  };
}

/**
 * The trumpet curve of a cumulative delivery series.
 *
 * Throws `AnalysisInputError` when an option is out of range or the samples do not cover the
 * analysis period; computes nothing in that case.
 */
export function analyseTrumpet(
  samples: readonly DeliverySample[],
  options: TrumpetOptions,
): TrumpetResult {
  const rateNlPerDay = options.programmedRateNlPerDay;
  const intervalMs = options.sampleIntervalMs ?? TRUMPET_DEFAULTS.sampleIntervalMs;
  const startMs = options.analysisStartMs ?? TRUMPET_DEFAULTS.analysisStartMs;
  const durationMs = options.analysisDurationMs ?? TRUMPET_DEFAULTS.analysisDurationMs;
  const windowsMs = [...(options.windowsMs ?? TRUMPET_DEFAULTS.windowsMs)].sort((a, b) => a - b);
  const maxGapMs = options.maxSampleGapMs ?? 2 * intervalMs;

  requireInteger(rateNlPerDay, 'programmedRateNlPerDay', 1);
  requireInteger(intervalMs, 'sampleIntervalMs', 1);
  requireInteger(startMs, 'analysisStartMs');
  requireInteger(durationMs, 'analysisDurationMs', intervalMs);
  requireFinite(maxGapMs, 'maxSampleGapMs');
  if (durationMs % intervalMs !== 0) {
    throw new AnalysisInputError(
      'invalidValue',
      'analysisDurationMs',
      `must be a multiple of sampleIntervalMs (${intervalMs}), got ${durationMs}`,
    );
  }
  validateWindows(windowsMs, intervalMs, durationMs);
  validateSamples(samples);

  const intervalCount = durationMs / intervalMs;
  const volumes = volumesOnGrid(samples, startMs, intervalMs, intervalCount, maxGapMs);
  const deliveredNl = volumes[intervalCount]! - volumes[0]!;

  const windows = windowsMs.map((windowMs) =>
    trumpetWindow(volumes, { windowMs, intervalMs, intervalCount, startMs, rateNlPerDay }),
  );

  return {
    programmedRateNlPerDay: rateNlPerDay,
    sampleIntervalMs: intervalMs,
    analysisStartMs: startMs,
    analysisDurationMs: durationMs,
    deliveredNl,
    expectedNl: (rateNlPerDay * durationMs) / DAY_MS,
    meanFlowErrorPercent: flowErrorPercent(deliveredNl, durationMs, rateNlPerDay),
    windows,
  };
}

/** A rate in mL/day with as many decimals as it needs to be exact (3 to 6): "0.500", "0.0045". */
export function formatRateMlPerDay(rateNlPerDay: number): string {
  let places = 3;
  while (places < 6 && rateNlPerDay % 10 ** (6 - places) !== 0) places++;
  return `${formatMl(rateNlPerDay, places)}/day`;
}

/** "+1.23" / "-0.50" / "0.00": a signed percentage with two decimals (no "-0.00"). */
export function formatPercent(value: number): string {
  const text = value.toFixed(2);
  if (/^-?0\.00$/.test(text)) return '0.00';
  return value > 0 ? `+${text}` : text;
}

/** The trumpet result as a plain-text table, for terminals and the report's preformatted block. */
export function trumpetTable(result: TrumpetResult): string {
  const endMs = result.analysisStartMs + result.analysisDurationMs;
  const lines = [
    'Flow accuracy, IEC 60601-2-24 trumpet method',
    `Programmed rate r   ${formatRateMlPerDay(result.programmedRateNlPerDay)}`,
    `Sampling interval   ${formatDurationMs(result.sampleIntervalMs)}`,
    `Analysis period     ${formatTimeMs(result.analysisStartMs)} to ${formatTimeMs(endMs)} (${formatDurationMs(result.analysisDurationMs)})`,
    `Delivered           ${formatMl(Math.round(result.deliveredNl))} (expected ${formatMl(Math.round(result.expectedNl))})`,
    `Mean flow error A   ${formatPercent(result.meanFlowErrorPercent)} %`,
    '',
  ];
  const header = ['Window P', 'p', 'Windows m', 'Ep(max) %', 'Ep(min) %'];
  const rows = result.windows.map((w) => [
    formatDurationMs(w.windowMs),
    String(w.samplesPerWindow),
    String(w.windowCount),
    formatPercent(w.epMaxPercent),
    formatPercent(w.epMinPercent),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  // First column left-aligned (a label), numbers right-aligned so their decimals line up.
  const format = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join('  ');
  lines.push(format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(format));
  return `${lines.join('\n')}\n`;
}

/**
 * The rig's flow-accuracy test in the manner of IEC 60601-2-24 (`itpump rig accuracy`,
 * docs/rig.md "Accuracy test"): the controller delivers one constant rate into the balance for
 * two hours, the balance is read throughout, and the second hour is analysed as a trumpet curve.
 *
 * The analysis is sim/analysis/trumpet.ts, the chart sim/report/charts.ts: this module only builds
 * the test's scenario and turns balance readings into the cumulative delivered volume the analysis
 * takes (mass since the start ÷ density 1.0 g/mL; the readings' own timestamps, so the 30-s grid
 * is interpolated between real readings, never guessed across a gap of more than two intervals).
 *
 * Pure: no I/O, no clock.
 */
import {
  analyseTrumpet,
  TRUMPET_DEFAULTS,
  type DeliverySample,
  type TrumpetResult,
} from '../analysis/trumpet.js';
import { parseScenario, type Scenario } from '../scenario.js';
import { formatDurationMs } from '../../src/units.js';
import type { BalanceRow } from './rigRun.js';

/** The test fluid's "concentration": 1 mg/mL makes the dose in ng/day equal the rate in nL/day. */
const waterConcentration = '1 mg/mL';

export interface AccuracyTestOptions {
  rateNlPerDay: number;
  durationMs: number;
  strokeVolumeNl: number;
  seed?: number;
}

/** The test as a scenario: water at one constant rate, no boluses, for `durationMs`. */
export function accuracyScenario(options: AccuracyTestOptions): Scenario {
  const scenario = {
    name: 'rig-accuracy',
    description: `flow accuracy at ${options.rateNlPerDay} nL/day for ${formatDurationMs(options.durationMs)} (IEC 60601-2-24 manner)`,
    seed: options.seed ?? 1,
    duration: `${options.durationMs} ms`,
    pump: { strokeVolume: `${options.strokeVolumeNl} nL` },
    drugLibrary: {
      name: 'rig accuracy test (water)',
      drugs: [
        {
          drug: 'water',
          maxConcentration: waterConcentration,
          dailySoftMax: '1000 mg/day',
          dailyHardMax: '1000 mg/day',
          bolusSoftMax: '0 mg',
          bolusHardMax: '0 mg',
        },
      ],
    },
    initialFill: {
      volume: '20 mL',
      mixture: [{ drug: 'water', concentration: waterConcentration }],
    },
    prescription: { mode: 'continuous', dose: `${options.rateNlPerDay} ng/day` },
    confirm: true,
  };
  return parseScenario(JSON.stringify(scenario), 'rig-accuracy.json');
}

/** Balance rows as the cumulative delivery series of the trumpet analysis (times strictly rising). */
export function deliverySamples(rows: readonly BalanceRow[]): DeliverySample[] {
  const samples: DeliverySample[] = [];
  for (const r of rows) {
    const last = samples.at(-1);
    if (last !== undefined && r.timeMs <= last.timeMs) continue; // a repeated or reordered stamp
    samples.push({ timeMs: r.timeMs, deliveredNl: r.deliveredNl });
  }
  return samples;
}

/**
 * The trumpet curve of the second half of the test (the second hour of two), with the default
 * 30-s interval and the standard's windows that fit in the analysis period.
 */
export function analyseAccuracy(
  rows: readonly BalanceRow[],
  rateNlPerDay: number,
  durationMs: number,
  timeScale = 1,
): TrumpetResult {
  const intervalMs = TRUMPET_DEFAULTS.sampleIntervalMs;
  // A reading may come late by the host's scheduling jitter (a quarter second, say), which a
  // compressed test multiplies by its time scale: allow that on top of two sampling intervals.
  const maxSampleGapMs = 2 * intervalMs + Math.ceil(250 * timeScale);
  const halfMs = Math.floor(durationMs / 2 / intervalMs) * intervalMs;
  const windowsMs = TRUMPET_DEFAULTS.windowsMs.filter((w) => w <= halfMs);
  return analyseTrumpet(deliverySamples(rows), {
    programmedRateNlPerDay: rateNlPerDay,
    sampleIntervalMs: intervalMs,
    analysisStartMs: durationMs - halfMs,
    analysisDurationMs: halfMs,
    windowsMs: windowsMs.length > 0 ? windowsMs : [halfMs],
    maxSampleGapMs,
  });
}

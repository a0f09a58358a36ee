/**
 * The fleet report's percentile bands over time and its fitted axes. A fleet of five patients over
 * six days, run in this thread; each patient's series is checked against its own full run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS } from '../../src/units.js';
import { rollingWindowSums } from '../../sim/analysis/rolling.js';
import {
  createSketch,
  recordObservation,
  sketchQuantile,
  type HistogramSketch,
} from '../../sim/analysis/sketch.js';
import { BAND_POINTS_MAX, bandPointsOf, type FleetAggregate } from '../../sim/fleet/aggregate.js';
import { writeFleetOutputs } from '../../sim/fleet/output.js';
import {
  drawPatient,
  patientScenario,
  type FleetVariation,
  type PatientOutcome,
} from '../../sim/fleet/patient.js';
import { runFleet } from '../../sim/fleet/runFleet.js';
import { histogramDomain } from '../../sim/report/charts.js';
import { runScenario } from '../../sim/runner.js';
import { parseScenario } from '../../sim/scenario.js';
import { smallFleetScenarioText } from './smallFleet.js';

const SCENARIO = parseScenario(
  smallFleetScenarioText('fleet-bands-test', 900),
  'fleet-bands-test.yaml',
);
const VARIATION: FleetVariation = {
  motorErrorSdPpm: 30_000,
  stallsPerYear: 20,
  stallDurationMs: 2 * HOUR_MS,
  clinicResponseMs: 36 * HOUR_MS,
};
const PATIENTS = 5;

let root = '';
let fleet: FleetAggregate;
const outcomes: PatientOutcome[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'itpump-bands-'));
  fleet = await runFleet({
    scenario: SCENARIO,
    patients: PATIENTS,
    workers: 0,
    variation: VARIATION,
    onPatient: (outcome) => outcomes.push(outcome),
  });
}, 60_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The exact q-quantile by nearest rank. */
const exactQuantile = (values: readonly number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.max(0, Math.ceil(q * values.length) - 1)]!;
const binWidth = (s: HistogramSketch) => (s.spec.highest - s.spec.lowest) / s.spec.binCount;

describe('percentile bands over time', () => {
  it('keep each patient at hourly points: the true reservoir and 24-h dose of its own run', () => {
    expect(fleet.spec.bandStepMs).toBe(HOUR_MS);
    expect(fleet.spec.bandPoints).toBe(6 * 24 + 1);
    const patient = outcomes[2]!;
    const lived = patientScenario(
      SCENARIO,
      drawPatient(SCENARIO, patient.seed, VARIATION),
      VARIATION,
    );
    const run = runScenario(lived, { seed: patient.seed });
    const at = (k: number) => run.trace.find((r) => r.timeMs === k * HOUR_MS)!;
    const points = Array.from({ length: fleet.spec.bandPoints }, (_, k) => k);
    expect(patient.series.reservoirNl).toEqual(points.map((k) => at(k).reservoirTrueNl));
    expect(patient.series.reservoirNl[0]).toBe(4_000_000);
    fleet.spec.drugs.forEach(({ drug }, j) => {
      const rolling = rollingWindowSums(
        run.trace.map((r) => ({ timeMs: r.timeMs, value: r.trueDeliveredPg[drug] ?? 0 })),
        DAY_MS,
      );
      const dose = (k: number) =>
        [...rolling].reverse().find((r) => r.timeMs === k * HOUR_MS)!.value;
      expect(patient.series.dailyDosePg[j], drug).toEqual(points.map(dose));
    });
  });

  it("are, at every point, the patients' percentiles within one bin, min and max exact", () => {
    const check = (sketch: HistogramSketch, values: number[], what: string) => {
      expect(sketch.count, what).toBe(PATIENTS);
      expect(sketch.min, what).toBe(Math.min(...values));
      expect(sketch.max, what).toBe(Math.max(...values));
      for (const q of [0.05, 0.25, 0.5, 0.75, 0.95])
        expect(
          Math.abs(sketchQuantile(sketch, q)! - exactQuantile(values, q)),
          `${what} q ${q}`,
        ).toBeLessThan(binWidth(sketch));
    };
    for (let k = 0; k < fleet.spec.bandPoints; k++) {
      check(
        fleet.bands.reservoirNl[k]!,
        outcomes.map((o) => o.series.reservoirNl[k]!),
        `reservoir at ${k} h`,
      );
      fleet.spec.drugs.forEach(({ drug, dailyDoseNgHardMax }, j) =>
        check(
          fleet.bands.dailyDoseOfHardMax[drug]![k]!,
          outcomes.map((o) =>
            Math.round((o.series.dailyDosePg[j]![k]! * 10_000) / (dailyDoseNgHardMax * 1_000)),
          ),
          `${drug} at ${k} h`,
        ),
      );
    }
    // The patients do spread: the band is not one line.
    const last = fleet.bands.reservoirNl[fleet.spec.bandPoints - 1]!;
    expect(last.max! - last.min!).toBeGreaterThan(100_000);
  });

  it('are drawn on the report page: the reservoir and each drug, with their bands and median', async () => {
    const dir = join(root, 'report');
    const files = await writeFleetOutputs(fleet, dir);
    expect(files).toContain(join(dir, 'reservoir-bands.svg'));
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    for (const title of [
      'True reservoir volume across patients',
      'Dose of morphine in the last 24 h across patients',
      'Dose of clonidine in the last 24 h across patients',
    ])
      expect(html).toContain(title);
    const svg = readFileSync(join(dir, 'daily-dose-bands-morphine.svg'), 'utf8');
    for (const label of ['5th–95th percentile', '25th–75th percentile', 'median'])
      expect(svg).toContain(`>${label}<`);
    expect(svg).toContain('100 % is the hard daily maximum, 20 mg/day');
    // No patient comes near the limit: it is said, not drawn (it would squash the bands).
    expect(svg).not.toContain('>hard daily maximum (20 mg/day)<');
  });

  it('have at most BAND_POINTS_MAX points, on the sampling grid, whatever the run length', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 * 365 * 24 }),
        fc.constantFrom(HOUR_MS, 15 * 60_000, 6 * HOUR_MS),
        (hours, sampleEveryMs) => {
          const durationMs = hours * HOUR_MS;
          const { bandStepMs, bandPoints } = bandPointsOf(durationMs, sampleEveryMs);
          expect(bandPoints).toBeLessThanOrEqual(BAND_POINTS_MAX);
          expect(bandStepMs % sampleEveryMs).toBe(0);
          expect((bandPoints - 1) * bandStepMs).toBeLessThanOrEqual(durationMs);
          expect(bandPoints * bandStepMs).toBeGreaterThan(durationMs);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });
});

describe('fleet histograms', () => {
  const sketchOf = (values: number[]) => {
    const sketch = createSketch({ unit: 'ms', lowest: 0, highest: 60 * DAY_MS, binCount: 60 });
    for (const v of values) recordObservation(sketch, v);
    return sketch;
  };

  it('fit their x axis to the data: one bin either side of the bins that hold patients', () => {
    const days = (d: number) => Math.round(d * DAY_MS);
    expect(histogramDomain(sketchOf([30.2, 31.5, 33.9].map(days)))).toEqual([
      29 * DAY_MS,
      35 * DAY_MS,
    ]);
    // At the edges of the range, the range's edges.
    expect(histogramDomain(sketchOf([0, 59.5 * DAY_MS]))).toEqual([0, 60 * DAY_MS]);
    // Beyond the bins, out to the min or max.
    expect(histogramDomain(sketchOf([days(10), days(75)]))).toEqual([9 * DAY_MS, days(75)]);
    // Empty: the whole range.
    expect(histogramDomain(sketchOf([]))).toEqual([0, 60 * DAY_MS]);
  });
});

/**
 * The headline results a fleet's stdout ends with: per patient, the time to the low-reservoir
 * alarm, the share of presses denied, the alarms raised per patient-year and the highest 24-h dose
 * of each drug against its limit, each as median / 95th percentile / max over the patients it
 * applies to, in one aligned table: nearest-rank percentiles of the patients' values, exact (only
 * past EXACT_VALUES_MAX patients estimated from the sketch, and the footnote then says which). The figures are fleet.json's `statistics` (output.ts), so
 * the terminal, the JSON and the report never disagree.
 */
import { alarmCodes } from '../../src/alarms.js';
import { DAY_MS, formatDosePgExact, formatDurationMs, PG_PER_NG } from '../../src/units.js';
import { EXACT_VALUES_MAX, type FleetAggregate } from './aggregate.js';
import { binEdge } from '../analysis/sketch.js';
import { distributions, statistics, type Distribution } from './output.js';

interface HeadlineRow {
  label: string;
  distribution: Distribution;
  unit: string;
  /** Who the figure is over: "5 of 6 reached it". */
  over: string;
  /** What one bin of the distribution is, for the footnote: "1 d", "1 % of the limit". */
  bin: (width: number) => string;
}

function headlineRows(a: FleetAggregate): HeadlineRow[] {
  const byKey = new Map(distributions(a).map((d) => [d.key, d]));
  const t = a.totals;
  const of = (n: number) => `${n} of ${t.patients}`;
  return [
    {
      label: 'time to the low-reservoir alarm',
      distribution: byKey.get('timeToLowReservoirAlarm')!,
      unit: 'days',
      over: `${of(t.reachedLowReservoirAlarm)} reached it`,
      bin: (width) => formatDurationMs(Math.round(width * DAY_MS)),
    },
    {
      label: 'presses denied',
      distribution: byKey.get('deniedFraction.any')!,
      unit: '% of presses',
      over: `${of(t.patientsWithPresses)} pressed`,
      bin: (width) => `${width} % of presses`,
    },
    ...alarmCodes
      .filter((code) => t.alarmsRaised[code] > 0)
      .map((code) => ({
        label: `${code} alarms`,
        distribution: byKey.get(`alarmRate.${code}`)!,
        unit: 'per patient-year',
        over: `${of(t.patientsWithAlarm[code])} had one`,
        bin: (width: number) => `${width} alarms per patient-year`,
      })),
    ...a.spec.drugs.map((d) => ({
      label: `highest 24-h dose of ${d.drug}`,
      distribution: byKey.get(`highest24hDoseOfHardMax.${d.drug}`)!,
      unit: `% of ${formatDosePgExact(d.dailyDoseNgHardMax * PG_PER_NG)}/day`,
      over: of(byKey.get(`highest24hDoseOfHardMax.${d.drug}`)!.sketch.count),
      bin: (width: number) => `${width} % of the limit`,
    })),
  ];
}

const cell = (value: number | null) => (value === null ? '–' : value.toFixed(2));

/** The bin width of a distribution, in its display unit: how far median and p95 may be off. */
function binWidth(d: Distribution): number {
  return (binEdge(d.sketch.spec, 1) - binEdge(d.sketch.spec, 0)) / d.chart.perDisplayUnit;
}

/** The headline table, ending with a newline. */
export function fleetHeadline(a: FleetAggregate): string {
  const headline = headlineRows(a);
  const rows = headline.map((row) => {
    const s = statistics(row.distribution, row.distribution.chart.perDisplayUnit, row.unit);
    return [row.label, cell(s.median), cell(s.p95), cell(s.max), row.unit, row.over];
  });
  const header = ['per patient', 'median', 'p95', 'max', 'unit', 'patients'];
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, k) => (k >= 1 && k <= 3 ? c.padStart(widths[k]!) : c.padEnd(widths[k]!)))
      .join('  ')
      .trimEnd();
  const noAlarm = alarmCodes.every((code) => a.totals.alarmsRaised[code] === 0);
  const estimated = headline.filter((r) => r.distribution.sorted === null);
  const bins = [
    ...new Set(estimated.map((r) => r.bin(Number(binWidth(r.distribution).toPrecision(3))))),
  ];
  return [
    `results of ${a.totals.patients} of ${a.spec.patients} patients:`,
    line(header),
    ...rows.map(line),
    ...(noAlarm ? ['no alarm was raised'] : []),
    estimated.length === 0
      ? "median, p95 and max are exact: nearest-rank percentiles of the patients' own values"
      : `median and p95 of ${estimated.map((r) => r.label).join(', ')} are estimated within one bin ` +
        `(${bins.join(', ')}; more than ${EXACT_VALUES_MAX} patients), the others exact; max is exact`,
    '',
  ].join('\n');
}

/**
 * The report page of `itpump rig accuracy` (docs/rig.md): the flow-accuracy test in the form of
 * IEC 60601-2-24, on one page: the volume on the balance against r × t, the start-up graph (the
 * flow over each Δt against time) and the trumpet curve of the analysis period, with its table.
 * It reads only what the test wrote (the balance readings, the trumpet result, the settings), so
 * it can be drawn again from the files. vega loads with the first chart.
 */
import { flowRateSeries } from '../analysis/flowRate.js';
import {
  formatPercent,
  formatRateMlPerDay,
  trumpetTable,
  type TrumpetResult,
} from '../analysis/trumpet.js';
import { formatDurationMs, formatMl, formatTimeMs } from '../../src/units.js';
import type { FlowCheckSummary } from '../rig/flowCheck.js';
import { balanceChartSvg, flowRateChartSvg, trumpetChartSvg } from './charts.js';
import { buildReportHtml, type ReportDocument } from './html.js';

export interface AccuracyReportInput {
  /** The balance's cumulative delivery, in time order (deliverySamples of the readings). */
  samples: readonly { timeMs: number; deliveredNl: number }[];
  trumpet: TrumpetResult;
  durationMs: number;
  firmwareId: string;
  strokeVolumeNl: number;
  /** Where the stroke volume came from ("calibration.json (measured …)", "the scenario's pump"). */
  strokeVolumeSource: string;
  flowCheck?: FlowCheckSummary | undefined;
}

/** The summary table at the top of the accuracy report. */
function accuracySummary(input: AccuracyReportInput): ReportDocument['summary'] {
  const t = input.trumpet;
  const r = t.programmedRateNlPerDay;
  const last = input.samples.at(-1);
  return [
    { label: 'Programmed rate r', value: formatRateMlPerDay(r) },
    { label: 'Test duration', value: formatDurationMs(input.durationMs) },
    { label: 'Balance readings', value: input.samples.length },
    {
      label: 'Delivered by the balance',
      value: last ? formatMl(Math.round(last.deliveredNl)) : '—',
    },
    {
      label: 'Analysis period',
      value: `${formatTimeMs(t.analysisStartMs)} to ${formatTimeMs(t.analysisStartMs + t.analysisDurationMs)}`,
    },
    { label: 'Mean flow error A', value: `${formatPercent(t.meanFlowErrorPercent)} %` },
    {
      label: 'Flow check',
      value:
        input.flowCheck === undefined
          ? 'not run'
          : input.flowCheck.readings === 0
            ? 'not made: no balance reading came'
            : input.flowCheck.failure === null
              ? `passed: ${input.flowCheck.readings} readings within ±${input.flowCheck.tolerancePercent} % of the reported strokes`
              : `FAILED at ${formatTimeMs(input.flowCheck.failure.timeMs)}`,
    },
  ];
}

/** report.html and the chart files of an accuracy test. Nothing is written. */
export async function buildAccuracyReport(
  input: AccuracyReportInput,
): Promise<{ html: string; charts: { file: string; svg: string }[] }> {
  const t = input.trumpet;
  const r = t.programmedRateNlPerDay;
  const flow = flowRateSeries(input.samples, t.sampleIntervalMs);
  const balanceSvg = await balanceChartSvg(input.samples, r);
  const flowSvg = await flowRateChartSvg(flow, r, t.sampleIntervalMs);
  const trumpetSvg = await trumpetChartSvg(t, {
    title: `Trumpet curve, rig ${input.firmwareId} (IEC 60601-2-24 method)`,
  });
  const document: ReportDocument = {
    title: `Flow accuracy: ${formatRateMlPerDay(r)} for ${formatDurationMs(input.durationMs)}`,
    subtitle: [
      `Rig ${input.firmwareId}; stroke volume ${input.strokeVolumeNl} nL from ${input.strokeVolumeSource}.`,
    ],
    summary: accuracySummary(input),
    sections: [
      {
        heading: 'Balance',
        paragraphs: [
          'The mass on the balance since the tare, as volume of water (1.0 g/mL), against the volume the programmed rate delivers, r × t. balance.csv holds every reading.',
        ],
        figures: [{ svg: balanceSvg, caption: 'Delivered volume by the balance, and r × t.' }],
      },
      {
        heading: 'Flow rate against time',
        paragraphs: [
          `The start-up graph: the flow over each Δt = ${formatDurationMs(t.sampleIntervalMs)}, from the delivered volume interpolated at each grid time (${flow.length} intervals). ` +
            'A stroke pump moves its volume in whole strokes, so the flow of a short interval swings about r; the trumpet curve below judges it over longer windows.',
        ],
        figures: [
          {
            svg: flowSvg,
            caption: `Flow over each ${formatDurationMs(t.sampleIntervalMs)}, and r.`,
          },
        ],
      },
      {
        heading: 'Trumpet curve',
        paragraphs: [
          `Over the analysis period, the largest and smallest flow error of every observation window P, and the mean flow error A (${formatPercent(t.meanFlowErrorPercent)} %).`,
        ],
        preformatted: [trumpetTable(t)],
        figures: [{ svg: trumpetSvg, caption: 'Ep(max) and Ep(min) against P, and A.' }],
      },
    ],
  };
  return {
    html: buildReportHtml(document),
    charts: [
      { file: 'balance.svg', svg: balanceSvg },
      { file: 'flow.svg', svg: flowSvg },
      { file: 'trumpet.svg', svg: trumpetSvg },
    ],
  };
}

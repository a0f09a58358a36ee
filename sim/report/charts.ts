/**
 * The report's charts, each a standalone SVG string rendered headless with vega-lite → vega.
 *
 * Rules:
 * - Every chart has a title, axis titles with units and a legend, so a single SVG file makes
 *   sense on its own (the run writes them next to report.html).
 * - Deterministic: same input, byte-identical SVG. Time axes are plain numbers (days, hours or
 *   minutes since the start of the run), never dates, so neither the time zone nor the locale of
 *   the machine enters the picture; colours and orders are fixed here, not left to the data.
 * - Bounded: line series are decimated to `maxPointsPerSeries` (min/max per bucket, so peaks
 *   survive), press ticks turn into counts per time bin and nearby alarm episodes are joined when
 *   there are too many, markers (and timeline ticks above `maxMarks`) of one kind less than a
 *   pixel apart are drawn once, so a chart of a six-month run stays well under ~300 KB.
 * - Inputs are integer firmware units (types.ts); conversion to mL, mg, µg, mAh and days happens
 *   here, at the edge, with src/units.ts.
 * - Rendering uses vega's 'none' renderer (no canvas package): text widths are estimated.
 *
 * Nothing here reads files, the clock, or the controller.
 */
import type { TopLevelSpec } from 'vega-lite';
import {
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  NG_PER_MG,
  NG_PER_UG,
  NL_PER_ML,
  formatDurationMs,
  formatMl,
  formatTimeMs,
} from '../../src/units.js';
import { AnalysisInputError, requireInteger } from '../analysis/inputError.js';
import { rollingWindowSums } from '../analysis/rolling.js';
import { binEdge, sketchMean, sketchQuantile, type HistogramSketch } from '../analysis/sketch.js';
import { formatPercent, formatRateMlPerDay, type TrumpetResult } from '../analysis/trumpet.js';
import { decimateMinMax, MAX_POINTS_MIN } from './decimate.js';
import { installTextMetrics } from './textWidth.js';
import type {
  AlarmChartInput,
  BatteryChartInput,
  ChartMarker,
  ChartOptions,
  DoseChartInput,
  HistogramChartInput,
  MarkerKind,
  PressChartInput,
  ReservoirChartInput,
  TherapyState,
  TimelineChartInput,
  TimelineEventKind,
} from './types.js';

const UAH_PER_MAH = 1_000;
const DEFAULT_WIDTH_PX = 640;
const DEFAULT_HEIGHT_PX = 220;
const DEFAULT_MAX_POINTS = 1_000;
const DEFAULT_MAX_PRESS_MARKS = 1_500;
const DEFAULT_MAX_ALARM_BARS = 500;

/** Fixed palette (colour-blind-safe Okabe–Ito order), so colours never depend on the data. */
const COLOUR = {
  blue: '#0072B2',
  orange: '#E69F00',
  green: '#009E73',
  vermillion: '#D55E00',
  purple: '#CC79A7',
  sky: '#56B4E9',
  yellow: '#F0E442',
  grey: '#777777',
  black: '#000000',
} as const;
const CATEGORY_RANGE = [
  COLOUR.vermillion,
  COLOUR.orange,
  COLOUR.purple,
  COLOUR.blue,
  COLOUR.sky,
  COLOUR.yellow,
  COLOUR.grey,
  COLOUR.black,
];

const CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  background: 'white',
  padding: 12,
  title: { anchor: 'start', fontSize: 15, subtitleFontSize: 11, subtitleColor: '#555', offset: 12 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#e6e6e6' },
  legend: {
    orient: 'bottom',
    direction: 'horizontal',
    labelFontSize: 11,
    titleFontSize: 11,
    symbolStrokeWidth: 2,
    columnPadding: 16,
    labelLimit: 320,
  },
  view: { stroke: '#ccc' },
} as const;

interface Resolved {
  widthPx: number;
  heightPx: number;
  maxPoints: number;
}

function resolve(options: ChartOptions): Resolved {
  const widthPx = options.widthPx ?? DEFAULT_WIDTH_PX;
  const heightPx = options.heightPx ?? DEFAULT_HEIGHT_PX;
  const maxPoints = options.maxPointsPerSeries ?? DEFAULT_MAX_POINTS;
  requireInteger(widthPx, 'widthPx', 100);
  requireInteger(heightPx, 'heightPx', 60);
  requireInteger(maxPoints, 'maxPointsPerSeries', MAX_POINTS_MIN);
  return { widthPx, heightPx, maxPoints };
}

/**
 * Renames the ids vega gives clip paths and gradients to `def1`, `def2`, ... in order of first
 * appearance. vega numbers them with a process-wide counter, so without this the same chart
 * rendered twice (or after another chart) would differ in its ids.
 */
export function normaliseSvgIds(svg: string): string {
  const renamed = new Map<string, string>();
  for (const match of svg.matchAll(/\bid="([^"]+)"/g)) {
    const id = match[1]!;
    if (!renamed.has(id)) renamed.set(id, `def${renamed.size + 1}`);
  }
  if (renamed.size === 0) return svg;
  return svg.replace(/(\bid="|url\(#|href="#)([^")]+)/g, (whole, prefix: string, id: string) => {
    const to = renamed.get(id);
    return to === undefined ? whole : `${prefix}${to}`;
  });
}

/** Compiles a vega-lite spec and renders it to an SVG string with the canvas-free renderer. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // vega loads here, at the first chart, so the commands that draw none start fast.
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  installTextMetrics(vega);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return normaliseSvgIds(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/** The unit a time axis is drawn in, chosen from the span so ticks read naturally. */
export interface TimeAxis {
  unitMs: number;
  label: string;
}

export function timeAxisFor(spanMs: number): TimeAxis {
  if (spanMs >= 2 * DAY_MS) return { unitMs: DAY_MS, label: 'days' };
  if (spanMs > 3 * HOUR_MS) return { unitMs: HOUR_MS, label: 'h' };
  return { unitMs: MINUTE_MS, label: 'min' };
}

/** The dose unit a clinician would read a quantity in: mg from 1 mg up, µg below (as formatDoseNg). */
function doseUnitFor(largestNg: number): { perUnitNg: number; label: string } {
  return largestNg >= NG_PER_MG
    ? { perUnitNg: NG_PER_MG, label: 'mg' }
    : { perUnitNg: NG_PER_UG, label: 'µg' };
}

/** Rounds a display value so float noise never reaches the SVG (and files compare byte for byte). */
function round(value: number): number {
  return Number(value.toPrecision(10));
}

function requireSeries<T extends { timeMs: number }>(
  series: readonly T[],
  field: string,
  value: (point: T) => number,
): void {
  series.forEach((point, index) => {
    requireInteger(point.timeMs, `${field}[${index}].timeMs`);
    requireInteger(value(point), `${field}[${index}]`);
    const previous = series[index - 1];
    if (previous !== undefined && point.timeMs < previous.timeMs) {
      throw new AnalysisInputError(
        'unordered',
        `${field}[${index}].timeMs`,
        `goes back in time: ${point.timeMs} after ${previous.timeMs}`,
      );
    }
  });
}

/** Largest of a list without spreading huge arrays onto the call stack. */
function largest(values: Iterable<number>, fallback: number): number {
  let best = -Infinity;
  for (const value of values) if (value > best) best = value;
  return best === -Infinity ? fallback : best;
}

/** The time span a chart shows: from the start of the run (0) or earlier data, to the latest time. */
function span(times: readonly number[]): { startMs: number; endMs: number } {
  if (times.length === 0) return { startMs: 0, endMs: DAY_MS };
  const startMs = -largest(times.map((t) => -t).concat(0), 0);
  const endMs = largest(times, 0);
  return { startMs, endMs: endMs > startMs ? endMs : startMs + MINUTE_MS };
}

function colourScale(domain: string[], range: string[]) {
  return { domain, range: range.slice(0, domain.length) };
}

function timeEncoding(axis: TimeAxis, startMs: number, endMs: number) {
  return {
    field: 't',
    type: 'quantitative' as const,
    title: `Time since start of run (${axis.label})`,
    scale: { domain: [round(startMs / axis.unitMs), round(endMs / axis.unitMs)], nice: false },
  };
}

/** One layer of a layered chart, as vega-lite types it. */
type Layer = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];

/** Above this many entries a legend wraps into rows of this many, so it stays as wide as the plot. */
const LEGEND_COLUMNS = 4;

/** The colour legend of a chart whose rows name their `series`, in the order of `domain`. */
function seriesColour(domain: string[], range: string[]) {
  return {
    field: 'series',
    type: 'nominal' as const,
    title: null,
    scale: colourScale(domain, range),
    sort: domain,
    ...(domain.length > LEGEND_COLUMNS + 1 ? { legend: { columns: LEGEND_COLUMNS } } : {}),
  };
}

type SeriesColour = ReturnType<typeof seriesColour>;
type TimeEncoding = ReturnType<typeof timeEncoding>;

// ---------------------------------------------------------------------------------------------
// Markers on the time charts

/** Each marker's legend label, colour and dash, in legend order. Boluses are a rug of short ticks. */
const MARKERS: readonly { kind: MarkerKind; label: string; colour: string; dash?: number[] }[] = [
  { kind: 'bolus', label: 'bolus', colour: COLOUR.sky },
  { kind: 'refill', label: 'refill', colour: COLOUR.green, dash: [2, 2] },
  { kind: 'alarm', label: 'alarm raised', colour: COLOUR.black, dash: [6, 3] },
  { kind: 'clockChange', label: 'clock change', colour: COLOUR.grey, dash: [1, 3] },
  { kind: 'motorStall', label: 'motor stall', colour: COLOUR.purple, dash: [4, 2] },
];
const BOLUS_TICK_PX = 8;

function checkMarkers(markers: readonly ChartMarker[], field: string): void {
  markers.forEach((m, index) => requireInteger(m.timeMs, `${field}[${index}].timeMs`));
}

/** The marker kinds present, in legend order, with their labels and colours. */
function markerLegend(markers: readonly ChartMarker[]): { domain: string[]; range: string[] } {
  const present = MARKERS.filter((m) => markers.some((x) => x.kind === m.kind));
  return { domain: present.map((m) => m.label), range: present.map((m) => m.colour) };
}

/**
 * The markers as layers: a vertical rule per refill, alarm, clock change and stall, and a rug of
 * short ticks along the bottom for boluses. Markers of one kind closer than a pixel are drawn once:
 * they would cover each other, and a six-month run's boluses stay a few hundred marks.
 */
function markerLayers(
  markers: readonly ChartMarker[],
  axis: TimeAxis,
  span: { startMs: number; endMs: number },
  widthPx: number,
  heightPx: number,
  color: SeriesColour,
): Layer[] {
  const pxPerMs = widthPx / (span.endMs - span.startMs);
  return MARKERS.flatMap((m): Layer[] => {
    const columns = new Set<number>();
    const rows: { t: number; series: string }[] = [];
    for (const marker of markers) {
      if (marker.kind !== m.kind) continue;
      const column = Math.round((marker.timeMs - span.startMs) * pxPerMs);
      if (columns.has(column)) continue;
      columns.add(column);
      rows.push({ t: round(marker.timeMs / axis.unitMs), series: m.label });
    }
    if (rows.length === 0) return [];
    const x = { field: 't', type: 'quantitative' as const };
    if (m.kind === 'bolus')
      return [
        {
          data: { values: rows },
          mark: { type: 'tick', size: BOLUS_TICK_PX, thickness: 1.5, aria: false, clip: true },
          encoding: { x, y: { value: heightPx - BOLUS_TICK_PX / 2 }, color },
        },
      ];
    return [
      {
        data: { values: rows },
        mark: { type: 'rule', strokeDash: m.dash ?? [], strokeWidth: 1.2, aria: false, clip: true },
        encoding: { x, color },
      },
    ];
  });
}

// ---------------------------------------------------------------------------------------------
// Reservoir

export async function reservoirChartSvg(
  input: ReservoirChartInput,
  options: ChartOptions = {},
): Promise<string> {
  const { widthPx, heightPx, maxPoints } = resolve(options);
  const markers = checkReservoirInput(input);
  const refills = markers.filter((m) => m.kind === 'refill').length;
  const extent = span(
    [...input.estimate, ...(input.truth ?? [])]
      .map((s) => s.timeMs)
      .concat(markers.map((m) => m.timeMs)),
  );
  const axis = timeAxisFor(extent.endMs - extent.startMs);
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: options.title ?? 'Reservoir volume',
      subtitle: `Firmware estimate${input.truth ? ' and true volume' : ''}, with ${refills > 0 ? 'refills and ' : ''}alarm thresholds${markers.length > refills ? '; events marked' : ''}`,
    },
    width: widthPx,
    height: heightPx,
    config: CONFIG,
    layer: reservoirLayers(input, markers, {
      axis,
      extent,
      widthPx,
      heightPx,
      maxPoints,
    }),
  };
  return renderSvg(spec);
}

/** Checks the reservoir chart's input; returns its markers, refills among them. */
function checkReservoirInput(input: ReservoirChartInput): ChartMarker[] {
  requireSeries(input.estimate, 'estimate', (s) => s.volumeNl);
  requireSeries(input.truth ?? [], 'truth', (s) => s.volumeNl);
  requireInteger(input.lowReservoirNl, 'lowReservoirNl', 0);
  requireInteger(input.emptyNl, 'emptyNl', 0);
  const refills = input.refillTimesMs ?? [];
  refills.forEach((t, index) => requireInteger(t, `refillTimesMs[${index}]`));
  checkMarkers(input.markers ?? [], 'markers');
  return [
    ...refills.map((timeMs) => ({ timeMs, kind: 'refill' as const })),
    ...(input.markers ?? []).filter((m) => m.kind !== 'refill'),
  ];
}

/** A volume series as chart rows in mL, decimated to `maxPoints`. */
function volumeRows(
  series: string,
  samples: readonly { timeMs: number; volumeNl: number }[],
  maxPoints: number,
  axis: TimeAxis,
) {
  return decimateMinMax(
    samples,
    maxPoints,
    (s) => s.timeMs,
    (s) => s.volumeNl,
  ).map((s) => ({
    t: round(s.timeMs / axis.unitMs),
    v: round(s.volumeNl / NL_PER_ML),
    series,
  }));
}

/** The reservoir chart's marks: true volume, estimate, alarm thresholds, markers. */
function reservoirLayers(
  input: ReservoirChartInput,
  markers: readonly ChartMarker[],
  layout: {
    axis: TimeAxis;
    extent: { startMs: number; endMs: number };
    widthPx: number;
    heightPx: number;
    maxPoints: number;
  },
): Layer[] {
  const { axis, extent, maxPoints } = layout;
  const x = timeEncoding(axis, extent.startMs, extent.endMs);
  const low = `low-reservoir threshold (${formatMl(input.lowReservoirNl, 1)})`;
  const empty = `empty (${formatMl(input.emptyNl, 1)})`;
  const color = reservoirColour(input, markers, low, empty);
  const y = { field: 'v', type: 'quantitative' as const, title: 'Volume (mL)' };
  return [
    // Truth first, wide and grey, so the estimate drawn over it stays visible where they agree.
    ...(input.truth
      ? [
          {
            data: { values: volumeRows('true volume', input.truth, maxPoints, axis) },
            mark: { type: 'line' as const, strokeWidth: 3, clip: true },
            encoding: { x, y, color },
          },
        ]
      : []),
    {
      data: { values: volumeRows('firmware estimate', input.estimate, maxPoints, axis) },
      mark: { type: 'line', strokeWidth: 1.5, clip: true },
      encoding: { x, y, color },
    },
    {
      data: {
        values: [
          { v: round(input.lowReservoirNl / NL_PER_ML), series: low },
          { v: round(input.emptyNl / NL_PER_ML), series: empty },
        ],
      },
      mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 },
      encoding: { y: { field: 'v', type: 'quantitative' }, color },
    },
    ...markerLayers(markers, axis, extent, layout.widthPx, layout.heightPx, color),
  ];
}

/** The reservoir chart's legend: only the series it draws, in a fixed order and colours. */
function reservoirColour(
  input: ReservoirChartInput,
  markers: readonly ChartMarker[],
  low: string,
  empty: string,
): SeriesColour {
  const legend = markerLegend(markers);
  const domain = [
    'firmware estimate',
    ...(input.truth ? ['true volume'] : []),
    ...legend.domain,
    low,
    empty,
  ];
  const range = [
    COLOUR.blue,
    ...(input.truth ? [COLOUR.grey] : []),
    ...legend.range,
    COLOUR.orange,
    COLOUR.vermillion,
  ];
  return seriesColour(domain, range);
}

// ---------------------------------------------------------------------------------------------
// Dose per drug

/** "24-h", "7-d", "90-min": a rolling window's length as an adjective (hours rather than "1 d"). */
function windowLengthLabel(windowMs: number): string {
  if (windowMs % HOUR_MS === 0 && windowMs <= 2 * DAY_MS) return `${windowMs / HOUR_MS}-h`;
  return formatDurationMs(windowMs).replace(' ', '-');
}

export async function doseChartSvg(
  input: DoseChartInput,
  options: ChartOptions = {},
): Promise<string> {
  const { widthPx, heightPx, maxPoints } = resolve(options);
  const windowMs = input.rollingWindowMs ?? DAY_MS;
  requireSeries(input.cumulative, 'cumulative', (s) => s.doseNg);
  requireInteger(input.hardDailyMaxNg, 'hardDailyMaxNg', 1);
  if (input.softDailyMaxNg !== undefined) requireInteger(input.softDailyMaxNg, 'softDailyMaxNg', 1);
  requireInteger(windowMs, 'rollingWindowMs', 1);
  const markers = input.markers ?? [];
  checkMarkers(markers, 'markers');

  const { startMs, endMs } = span(input.cumulative.map((s) => s.timeMs));
  const axis = timeAxisFor(endMs - startMs);
  const windowLabel = windowLengthLabel(windowMs);
  const series = doseSeries(input, windowMs, windowLabel, axis, maxPoints);
  const limits = doseLimits(input, series.rollingUnit);
  const legend = markerLegend(markers);
  const domain = [
    'cumulative dose',
    series.rollingSeries,
    ...(limits.soft === undefined ? [] : [limits.soft]),
    limits.hard,
    ...legend.domain,
  ];
  const range = [
    COLOUR.blue,
    COLOUR.purple,
    ...(limits.soft === undefined ? [] : [COLOUR.orange]),
    COLOUR.vermillion,
    ...legend.range,
  ];
  const panelHeight = Math.max(60, Math.round(heightPx * 0.75));
  const color = seriesColour(domain, range);
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: options.title ?? `Dose of ${input.drugName}`,
      subtitle: `Cumulative dose, and ${windowLabel} rolling dose against the daily maximum`,
    },
    config: CONFIG,
    vconcat: dosePanels({
      widthPx,
      panelHeight,
      x: timeEncoding(axis, startMs, endMs),
      color,
      windowLabel,
      series,
      rules: limits.rules,
      markers: markerLayers(markers, axis, { startMs, endMs }, widthPx, panelHeight, color),
    }),
  };
  return renderSvg(spec);
}

type DoseUnit = ReturnType<typeof doseUnitFor>;

interface DoseSeries {
  cumulativeUnit: DoseUnit;
  rollingUnit: DoseUnit;
  cumulativeRows: { t: number; d: number; series: string }[];
  rollingSeries: string;
  rollingRows: { t: number; d: number; series: string }[];
}

/** The cumulative dose and its rolling-window sums as chart rows, each in its own dose unit. */
function doseSeries(
  input: DoseChartInput,
  windowMs: number,
  windowLabel: string,
  axis: TimeAxis,
  maxPoints: number,
): DoseSeries {
  const rolling = rollingWindowSums(
    input.cumulative.map((s) => ({ timeMs: s.timeMs, value: s.doseNg })),
    windowMs,
  );
  const cumulativeUnit = doseUnitFor(
    largest(
      input.cumulative.map((s) => s.doseNg),
      0,
    ),
  );
  const rollingUnit = doseUnitFor(
    Math.max(
      input.hardDailyMaxNg,
      largest(
        rolling.map((s) => s.value),
        0,
      ),
    ),
  );
  const cumulativeRows = decimateMinMax(
    input.cumulative,
    maxPoints,
    (s) => s.timeMs,
    (s) => s.doseNg,
  ).map((s) => ({
    t: round(s.timeMs / axis.unitMs),
    d: round(s.doseNg / cumulativeUnit.perUnitNg),
    series: 'cumulative dose',
  }));
  const rollingSeries = `${windowLabel} rolling dose`;
  const rollingRows = decimateMinMax(
    rolling,
    maxPoints,
    (s) => s.timeMs,
    (s) => s.value,
  ).map((s) => ({
    t: round(s.timeMs / axis.unitMs),
    d: round(s.value / rollingUnit.perUnitNg),
    series: rollingSeries,
  }));
  return { cumulativeUnit, rollingUnit, cumulativeRows, rollingSeries, rollingRows };
}

/** The hard and (if any) soft daily maximum: their legend labels and their rule rows. */
function doseLimits(input: DoseChartInput, rollingUnit: DoseUnit) {
  const ruleLabel = (name: string, ng: number) =>
    `${name} (${round(ng / rollingUnit.perUnitNg)} ${rollingUnit.label}/day)`;
  const hard = ruleLabel('hard daily maximum', input.hardDailyMaxNg);
  const soft =
    input.softDailyMaxNg === undefined
      ? undefined
      : ruleLabel('soft daily maximum', input.softDailyMaxNg);
  const rules = [
    { d: round(input.hardDailyMaxNg / rollingUnit.perUnitNg), series: hard },
    ...(soft === undefined || input.softDailyMaxNg === undefined
      ? []
      : [{ d: round(input.softDailyMaxNg / rollingUnit.perUnitNg), series: soft }]),
  ];
  return { hard, soft, rules };
}

/** The dose chart's two panels: cumulative dose above, rolling dose and its limits below. */
function dosePanels(p: {
  widthPx: number;
  panelHeight: number;
  x: TimeEncoding;
  color: SeriesColour;
  windowLabel: string;
  series: DoseSeries;
  rules: { d: number; series: string }[];
  /** The marker layers, drawn on both panels. */
  markers: Layer[];
}): Extract<TopLevelSpec, { vconcat: unknown }>['vconcat'] {
  const { x, color } = p;
  return [
    {
      width: p.widthPx,
      height: p.panelHeight,
      layer: [
        {
          data: { values: p.series.cumulativeRows },
          mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5, clip: true },
          // The lower panel carries the time axis title; one is enough for both.
          encoding: {
            x: { ...x, title: null },
            y: {
              field: 'd',
              type: 'quantitative',
              title: `Cumulative dose (${p.series.cumulativeUnit.label})`,
            },
            color,
          },
        },
        ...p.markers,
      ],
    },
    {
      width: p.widthPx,
      height: p.panelHeight,
      layer: [
        {
          data: { values: p.series.rollingRows },
          mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5, clip: true },
          encoding: {
            x,
            y: {
              field: 'd',
              type: 'quantitative',
              title: `${p.windowLabel} dose (${p.series.rollingUnit.label})`,
            },
            color,
          },
        },
        {
          data: { values: p.rules },
          mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 },
          encoding: { y: { field: 'd', type: 'quantitative' }, color },
        },
        ...p.markers,
      ],
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Timeline: therapy state and events

/** The therapy states in legend order, with their labels and colours. */
const THERAPY_STATES: readonly { state: TherapyState; label: string; colour: string }[] = [
  { state: 'startup', label: 'starting up', colour: COLOUR.sky },
  { state: 'infusing', label: 'infusing', colour: COLOUR.green },
  { state: 'stopped', label: 'stopped', colour: COLOUR.grey },
  { state: 'minimumRate', label: 'safe minimum rate (critical alarm)', colour: COLOUR.vermillion },
  { state: 'halted', label: 'halted (battery end of service)', colour: COLOUR.black },
];

/** The rows of the event lane, top to bottom, with their labels and colours. */
const TIMELINE_ROWS: readonly { kind: TimelineEventKind; label: string; colour: string }[] = [
  { kind: 'pressGranted', label: 'press granted', colour: COLOUR.green },
  { kind: 'pressDenied', label: 'press denied', colour: COLOUR.orange },
  { kind: 'bolus', label: 'bolus', colour: COLOUR.sky },
  { kind: 'refill', label: 'refill', colour: COLOUR.green },
  { kind: 'refillDiscrepancy', label: 'refill discrepancy flagged', colour: COLOUR.vermillion },
  { kind: 'drugChange', label: 'drug change', colour: COLOUR.blue },
  { kind: 'newMixtureAtTip', label: 'new mixture at tip', colour: COLOUR.blue },
  { kind: 'alarmRaised', label: 'alarm raised', colour: COLOUR.vermillion },
  { kind: 'alarmCleared', label: 'alarm cleared', colour: COLOUR.grey },
  { kind: 'clockChange', label: 'clock change', colour: COLOUR.grey },
  { kind: 'motorStall', label: 'motor stall', colour: COLOUR.purple },
  { kind: 'refused', label: 'refused command', colour: COLOUR.black },
];
const TIMELINE_ROW_PX = 18;

/** The therapy states in legend order and how the chart names them (the report's tables use it too). */
export const therapyStateLabels: readonly { state: TherapyState; label: string }[] =
  THERAPY_STATES.map(({ state, label }) => ({ state, label }));

function checkTimelineInput(input: TimelineChartInput, maxMarks: number): void {
  requireInteger(input.runEndMs, 'runEndMs');
  requireInteger(maxMarks, 'maxMarks', 1);
  input.events.forEach((e, index) => requireInteger(e.timeMs, `events[${index}].timeMs`));
  input.therapy.forEach((t, index) => {
    requireInteger(t.fromMs, `therapy[${index}].fromMs`);
    requireInteger(t.toMs, `therapy[${index}].toMs`, t.fromMs);
  });
}

/**
 * The timeline: the therapy state as a lane of coloured bars, and under it a row of ticks per
 * kind of event (only the kinds that occurred), on the same time axis as the reservoir and dose
 * charts. Above `maxMarks` ticks, ticks of one row less than a pixel apart are drawn as one.
 */
export async function timelineChartSvg(
  input: TimelineChartInput,
  options: ChartOptions = {},
): Promise<string> {
  const { widthPx } = resolve(options);
  const maxMarks = input.maxMarks ?? DEFAULT_MAX_PRESS_MARKS;
  checkTimelineInput(input, maxMarks);
  const { startMs, endMs } = span([
    ...input.events.map((e) => e.timeMs),
    ...input.therapy.map((t) => t.toMs),
    input.runEndMs,
  ]);
  const axis = timeAxisFor(endMs - startMs);
  const x = timeEncoding(axis, startMs, endMs);
  const events = timelineTicks(input, { startMs, endMs }, widthPx, maxMarks);
  const lanes = [
    // With the event lane below, it carries the axis: the therapy lane keeps only the grid.
    therapyLane(
      input,
      axis,
      { startMs, endMs },
      events.rows.length === 0 ? x : { ...x, title: null, axis: { labels: false } },
    ),
    ...(events.rows.length === 0 ? [] : [eventLane(events, axis, x)]),
  ].map((lane) => ({ width: widthPx, ...lane }));
  const counted = TIMELINE_ROWS.flatMap((r) => {
    const n = input.events.filter((e) => e.kind === r.kind).length;
    return n > 0 ? [`${r.label}: ${n}`] : [];
  });
  const subtitle =
    (counted.length > 0 ? counted.join(', ') : 'no events') +
    (events.thinned ? '; ticks less than a pixel apart drawn as one' : '');
  return renderSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: options.title ?? 'Timeline: therapy state and events', subtitle },
    config: CONFIG,
    vconcat: lanes,
    resolve: { scale: { color: 'independent', y: 'independent' } },
  } as TopLevelSpec);
}

/** The event lane's ticks, row by row, thinned to a tick per pixel and row above `maxMarks`. */
function timelineTicks(
  input: TimelineChartInput,
  extent: { startMs: number; endMs: number },
  widthPx: number,
  maxMarks: number,
): {
  rows: (typeof TIMELINE_ROWS)[number][];
  ticks: { timeMs: number; row: string }[];
  thinned: boolean;
} {
  const rows = TIMELINE_ROWS.filter((r) => input.events.some((e) => e.kind === r.kind));
  const thinned = input.events.length > maxMarks;
  const pxPerMs = widthPx / (extent.endMs - extent.startMs);
  const seen = new Set<string>();
  const ticks: { timeMs: number; row: string }[] = [];
  for (const row of rows) {
    for (const e of input.events) {
      if (e.kind !== row.kind) continue;
      const key = `${row.kind}:${Math.round((e.timeMs - extent.startMs) * pxPerMs)}`;
      if (thinned && seen.has(key)) continue;
      seen.add(key);
      ticks.push({ timeMs: e.timeMs, row: row.label });
    }
  }
  return { rows, ticks, thinned };
}

/** The therapy lane: a bar per interval, at least a few pixels wide so a short stop shows. */
function therapyLane(
  input: TimelineChartInput,
  axis: TimeAxis,
  extent: { startMs: number; endMs: number },
  x: TimeEncoding | (Omit<TimeEncoding, 'title'> & { title: null; axis: { labels: false } }),
) {
  const minWidthMs = (extent.endMs - extent.startMs) / 400;
  const states = THERAPY_STATES.filter((s) => input.therapy.some((t) => t.state === s.state));
  const labelOf = (state: TherapyState) => THERAPY_STATES.find((s) => s.state === state)!.label;
  return {
    height: TIMELINE_ROW_PX,
    data: {
      values: input.therapy.map((t) => ({
        lane: 'therapy state',
        state: labelOf(t.state),
        t: round(t.fromMs / axis.unitMs),
        t2: round(Math.max(t.toMs, t.fromMs + minWidthMs) / axis.unitMs),
      })),
    },
    mark: { type: 'bar', height: 14, aria: false, clip: true },
    encoding: {
      x,
      x2: { field: 't2' },
      y: { field: 'lane', type: 'nominal', title: null },
      color: {
        field: 'state',
        type: 'nominal',
        title: 'Therapy state',
        legend: { orient: 'top' },
        scale: { domain: states.map((s) => s.label), range: states.map((s) => s.colour) },
        sort: states.map((s) => s.label),
      },
    },
  };
}

/** The event lane: one row per kind of event, labelled on the axis, a tick per event. */
function eventLane(events: ReturnType<typeof timelineTicks>, axis: TimeAxis, x: TimeEncoding) {
  const labels = events.rows.map((r) => r.label);
  return {
    height: TIMELINE_ROW_PX * events.rows.length,
    data: {
      values: events.ticks.map((t) => ({ t: round(t.timeMs / axis.unitMs), row: t.row })),
    },
    // One ARIA label per tick would triple the file's size; the rows are named on the axis.
    mark: { type: 'tick', thickness: 1.5, aria: false },
    encoding: {
      x,
      y: { field: 'row', type: 'nominal', title: null, sort: labels, scale: { domain: labels } },
      // The axis names every row: a legend would repeat it.
      color: {
        field: 'row',
        type: 'nominal',
        legend: null,
        scale: { domain: labels, range: events.rows.map((r) => r.colour) },
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Patient presses

/** Bin widths the binned press chart may use, smallest first. */
const PRESS_BINS_MS = [
  MINUTE_MS,
  5 * MINUTE_MS,
  15 * MINUTE_MS,
  HOUR_MS,
  6 * HOUR_MS,
  DAY_MS,
  7 * DAY_MS,
  28 * DAY_MS,
];
const PRESS_BIN_COUNT_MAX = 200;

/** "day", "hour", "5 min": what one bin of the press chart counts. */
function binLabel(binMs: number): string {
  const names: Record<number, string> = {
    [MINUTE_MS]: 'minute',
    [HOUR_MS]: 'hour',
    [DAY_MS]: 'day',
    [7 * DAY_MS]: 'week',
  };
  return names[binMs] ?? formatDurationMs(binMs);
}

function pressCategory(press: PressChartInput['presses'][number]): string {
  return press.granted ? 'granted' : `denied: ${press.reason}`;
}

export async function pressChartSvg(
  input: PressChartInput,
  options: ChartOptions = {},
): Promise<string> {
  const { widthPx, heightPx } = resolve(options);
  const maxMarks = input.maxMarks ?? DEFAULT_MAX_PRESS_MARKS;
  requireInteger(input.runEndMs, 'runEndMs');
  requireInteger(maxMarks, 'maxMarks', 1);
  input.presses.forEach((press, index) => requireInteger(press.timeMs, `presses[${index}].timeMs`));

  const { startMs, endMs } = span([...input.presses.map((p) => p.timeMs), input.runEndMs]);
  const axis = timeAxisFor(endMs - startMs);
  const reasons = [...new Set(input.presses.filter((p) => !p.granted).map(pressCategory))].sort();
  const domain = ['granted', ...reasons];
  const range = [
    COLOUR.green,
    ...reasons.map((_, i) => CATEGORY_RANGE[i % CATEGORY_RANGE.length]!),
  ];
  const color = {
    field: 'category',
    type: 'nominal' as const,
    title: null,
    scale: { domain, range },
    sort: domain,
  };
  const granted = input.presses.filter((p) => p.granted).length;
  const chart: PressChart = {
    input,
    options,
    widthPx,
    heightPx,
    startMs,
    endMs,
    axis,
    domain,
    color,
    subtitle: `${input.presses.length} presses: ${granted} granted, ${input.presses.length - granted} denied`,
    x: timeEncoding(axis, startMs, endMs),
  };
  const layer = input.presses.length <= maxMarks ? pressTicks(chart) : pressCounts(chart);
  return renderSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...layer,
  } as TopLevelSpec);
}

/** What both forms of the press chart share: input, size, time axis, legend, subtitle. */
interface PressChart {
  input: PressChartInput;
  options: ChartOptions;
  widthPx: number;
  heightPx: number;
  startMs: number;
  endMs: number;
  axis: TimeAxis;
  domain: string[];
  color: {
    field: string;
    type: 'nominal';
    title: null;
    scale: { domain: string[]; range: string[] };
    sort: string[];
  };
  subtitle: string;
  x: TimeEncoding;
}

/** Few enough presses: one tick each, on a row per outcome. */
function pressTicks(chart: PressChart): TopLevelSpec {
  const { axis, x, color } = chart;
  const rows = chart.input.presses.map((p) => ({
    t: round(p.timeMs / axis.unitMs),
    outcome: p.granted ? 'granted' : 'denied',
    category: pressCategory(p),
  }));
  return {
    title: { text: chart.options.title ?? 'Patient presses', subtitle: chart.subtitle },
    width: chart.widthPx,
    height: Math.min(chart.heightPx, 120),
    config: CONFIG,
    data: { values: rows },
    // One ARIA label per tick would triple the file's size; the chart's title and legend describe it.
    mark: { type: 'tick', thickness: 1.5, opacity: 0.8, aria: false },
    encoding: {
      x,
      y: { field: 'outcome', type: 'nominal', title: 'Outcome', sort: ['granted', 'denied'] },
      color,
    },
  };
}

/** Too many to draw one by one: count per bin, stacked by outcome, so size stays bounded. */
function pressCounts(chart: PressChart): TopLevelSpec {
  const { startMs, endMs } = chart;
  const binMs =
    PRESS_BINS_MS.find((ms) => (endMs - startMs) / ms <= PRESS_BIN_COUNT_MAX) ??
    PRESS_BINS_MS[PRESS_BINS_MS.length - 1]!;
  return {
    title: {
      text: chart.options.title ?? 'Patient presses',
      subtitle: `${chart.subtitle}; counts per ${binLabel(binMs)}`,
    },
    width: chart.widthPx,
    height: chart.heightPx,
    config: CONFIG,
    data: { values: stackedPressCounts(chart, binMs) },
    mark: { type: 'rect', aria: false },
    encoding: {
      x: chart.x,
      x2: { field: 't2' },
      y: { field: 'y1', type: 'quantitative', title: `Presses per ${binLabel(binMs)}` },
      y2: { field: 'y0' },
      color: chart.color,
    },
  };
}

/** The presses counted per bin and category, as stacked rectangles (y0 to y1) in legend order. */
function stackedPressCounts(chart: PressChart, binMs: number) {
  const { startMs, axis, domain } = chart;
  const counts = new Map<string, { bin: number; category: string; count: number }>();
  for (const press of chart.input.presses) {
    const bin = Math.floor((press.timeMs - startMs) / binMs);
    const category = pressCategory(press);
    const key = `${bin}\u0000${category}`;
    const entry = counts.get(key) ?? { bin, category, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  // Stacked here rather than by vega-lite, in the legend's order, so the layout is ours to fix.
  let stackBin = -1;
  let stackTop = 0;
  return [...counts.values()]
    .sort((a, b) => a.bin - b.bin || domain.indexOf(a.category) - domain.indexOf(b.category))
    .map((c) => {
      if (c.bin !== stackBin) [stackBin, stackTop] = [c.bin, 0];
      const row = {
        t: round((startMs + c.bin * binMs) / axis.unitMs),
        t2: round((startMs + (c.bin + 1) * binMs) / axis.unitMs),
        category: c.category,
        y0: stackTop,
        y1: stackTop + c.count,
      };
      stackTop += c.count;
      return row;
    });
}

// ---------------------------------------------------------------------------------------------
// Alarms

/** Known priorities first, most urgent first; any others after them in alphabetical order. */
const PRIORITY_ORDER = ['critical', 'high', 'nonCritical', 'medium', 'low'];
const PRIORITY_COLOUR: Record<string, string> = {
  critical: COLOUR.vermillion,
  high: COLOUR.vermillion,
  nonCritical: COLOUR.orange,
  medium: COLOUR.orange,
  low: COLOUR.sky,
};

interface Episode {
  alarm: string;
  priority: string;
  fromMs: number;
  toMs: number;
}

/** Joins episodes of the same alarm less than `gapMs` apart. Input sorted by (alarm, priority, fromMs). */
function joinEpisodes(episodes: readonly Episode[], gapMs: number): Episode[] {
  const joined: Episode[] = [];
  for (const episode of episodes) {
    const previous = joined[joined.length - 1];
    if (
      previous &&
      previous.alarm === episode.alarm &&
      previous.priority === episode.priority &&
      episode.fromMs - previous.toMs <= gapMs
    ) {
      previous.toMs = Math.max(previous.toMs, episode.toMs);
    } else {
      joined.push({ ...episode });
    }
  }
  return joined;
}

export async function alarmChartSvg(
  input: AlarmChartInput,
  options: ChartOptions = {},
): Promise<string> {
  const { widthPx } = resolve(options);
  const maxBars = input.maxBars ?? DEFAULT_MAX_ALARM_BARS;
  requireInteger(input.runEndMs, 'runEndMs');
  requireInteger(maxBars, 'maxBars', 1);
  input.alarms.forEach((a, index) => {
    requireInteger(a.raisedAtMs, `alarms[${index}].raisedAtMs`);
    if (a.clearedAtMs !== null)
      requireInteger(a.clearedAtMs, `alarms[${index}].clearedAtMs`, a.raisedAtMs);
  });

  const { startMs, endMs } = span([...input.alarms.map((a) => a.raisedAtMs), input.runEndMs]);
  const axis = timeAxisFor(endMs - startMs);
  // An alarm raised and cleared within the same few minutes would be invisible: draw at least this wide.
  const minWidthMs = (endMs - startMs) / 400;
  const { sorted, episodes, gapMs } = alarmEpisodes(input.alarms, startMs, endMs, maxBars);
  const { priorities, colours } = alarmPriorities(input.alarms);
  const names = [...new Set(sorted.map((e) => e.alarm))];
  const rows = episodes.map((e) => ({
    alarm: e.alarm,
    priority: e.priority,
    t: round(e.fromMs / axis.unitMs),
    t2: round(Math.max(e.toMs, e.fromMs + minWidthMs) / axis.unitMs),
  }));
  const raised = input.alarms.length;
  const active = input.alarms.filter((a) => a.clearedAtMs === null).length;
  const subtitle =
    `${raised} alarm${raised === 1 ? '' : 's'} raised, ${active} still active at the end; bars run from raised to cleared` +
    (gapMs > 0
      ? `; episodes less than ${formatDurationMs(Math.ceil(gapMs / 1000) * 1000)} apart joined`
      : '');

  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: options.title ?? 'Alarms', subtitle },
    width: widthPx,
    height: Math.max(40, 24 * Math.max(1, names.length)),
    config: CONFIG,
    data: { values: rows },
    mark: { type: 'bar', cornerRadius: 1, height: 14, aria: false },
    encoding: {
      x: timeEncoding(axis, startMs, endMs),
      x2: { field: 't2' },
      y: { field: 'alarm', type: 'nominal', title: 'Alarm', sort: names, scale: { domain: names } },
      color: {
        field: 'priority',
        type: 'nominal',
        title: 'Priority',
        scale: { domain: priorities, range: colours },
        sort: priorities,
      },
    },
  };
  return renderSvg(spec);
}

/**
 * The alarms as episodes sorted by (alarm, priority, time), still active ones up to `endMs`; and
 * those episodes joined across ever larger gaps until at most `maxBars` are left.
 */
function alarmEpisodes(
  alarms: AlarmChartInput['alarms'],
  startMs: number,
  endMs: number,
  maxBars: number,
): { sorted: Episode[]; episodes: Episode[]; gapMs: number } {
  const sorted: Episode[] = alarms
    .map((a) => ({
      alarm: a.alarm,
      priority: a.priority,
      fromMs: a.raisedAtMs,
      toMs: a.clearedAtMs ?? endMs,
    }))
    .sort(
      (a, b) =>
        (a.alarm < b.alarm ? -1 : a.alarm > b.alarm ? 1 : 0) ||
        (a.priority < b.priority ? -1 : a.priority > b.priority ? 1 : 0) ||
        a.fromMs - b.fromMs ||
        a.toMs - b.toMs,
    );
  let gapMs = 0;
  let episodes = joinEpisodes(sorted, gapMs);
  while (episodes.length > maxBars) {
    gapMs = gapMs === 0 ? (endMs - startMs) / 1000 : gapMs * 2;
    episodes = joinEpisodes(sorted, gapMs);
  }
  return { sorted, episodes, gapMs };
}

/** The priorities present, most urgent first, and their colours. */
function alarmPriorities(alarms: AlarmChartInput['alarms']): {
  priorities: string[];
  colours: string[];
} {
  const priorities = [...new Set(alarms.map((a) => a.priority))].sort((a, b) => {
    const rank = (p: string) =>
      PRIORITY_ORDER.includes(p) ? PRIORITY_ORDER.indexOf(p) : PRIORITY_ORDER.length;
    return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
  });
  const colours = priorities.map(
    (p, i) => PRIORITY_COLOUR[p] ?? CATEGORY_RANGE[(i + 3) % CATEGORY_RANGE.length]!,
  );
  return { priorities, colours };
}

// ---------------------------------------------------------------------------------------------
// Battery

export async function batteryChartSvg(
  input: BatteryChartInput,
  options: ChartOptions = {},
): Promise<string> {
  const { widthPx, heightPx, maxPoints } = resolve(options);
  requireSeries(input.samples, 'samples', (s) => s.remainingUah);
  if (input.eriUah !== undefined) requireInteger(input.eriUah, 'eriUah', 0);
  if (input.eriAtMs !== undefined) requireInteger(input.eriAtMs, 'eriAtMs');
  requireInteger(input.eosUah, 'eosUah', 0);

  const { startMs, endMs } = span(input.samples.map((s) => s.timeMs).concat(input.eriAtMs ?? []));
  const axis = timeAxisFor(endMs - startMs);
  const rows = decimateMinMax(
    input.samples,
    maxPoints,
    (s) => s.timeMs,
    (s) => s.remainingUah,
  ).map((s) => ({
    t: round(s.timeMs / axis.unitMs),
    c: round(s.remainingUah / UAH_PER_MAH),
    series: 'remaining charge',
  }));

  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: options.title ?? 'Battery',
      subtitle:
        'Remaining charge (fuel gauge), elective replacement indicator (ERI) and end of service (EOS)',
    },
    width: widthPx,
    height: heightPx,
    config: CONFIG,
    layer: batteryLayers(input, rows, axis, timeEncoding(axis, startMs, endMs)),
  };
  return renderSvg(spec);
}

/** The battery chart's marks: remaining charge, the ERI and EOS levels, when ERI was raised. */
function batteryLayers(
  input: BatteryChartInput,
  rows: { t: number; c: number; series: string }[],
  axis: TimeAxis,
  x: TimeEncoding,
): Layer[] {
  const eri =
    input.eriUah === undefined ? undefined : `ERI (${round(input.eriUah / UAH_PER_MAH)} mAh)`;
  const eriRaised =
    input.eriAtMs === undefined ? undefined : `ERI raised (${formatTimeMs(input.eriAtMs)})`;
  const eos = `EOS (${round(input.eosUah / UAH_PER_MAH)} mAh)`;
  const color = batteryColour(eri, eriRaised, eos);
  const levels = [
    ...(eri && input.eriUah !== undefined
      ? [{ c: round(input.eriUah / UAH_PER_MAH), series: eri }]
      : []),
    { c: round(input.eosUah / UAH_PER_MAH), series: eos },
  ];
  return [
    {
      data: { values: rows },
      mark: { type: 'line', strokeWidth: 1.5, clip: true },
      encoding: {
        x,
        y: { field: 'c', type: 'quantitative', title: 'Remaining charge (mAh)' },
        color,
      },
    },
    {
      data: { values: levels },
      mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 },
      encoding: { y: { field: 'c', type: 'quantitative' }, color },
    },
    ...(eriRaised && input.eriAtMs !== undefined
      ? [
          {
            data: { values: [{ t: round(input.eriAtMs / axis.unitMs), series: eriRaised }] },
            mark: { type: 'rule' as const, strokeDash: [2, 2], strokeWidth: 1.5 },
            encoding: { x: { field: 't', type: 'quantitative' as const }, color },
          },
        ]
      : []),
  ];
}

/** The battery chart's legend: the series it draws, with ERI in orange and EOS in vermillion. */
function batteryColour(
  eri: string | undefined,
  eriRaised: string | undefined,
  eos: string,
): SeriesColour {
  const domain = [
    'remaining charge',
    ...(eri ? [eri] : []),
    ...(eriRaised ? [eriRaised] : []),
    eos,
  ];
  const range = [
    COLOUR.blue,
    ...(eri ? [COLOUR.orange] : []),
    ...(eriRaised ? [COLOUR.orange] : []),
    COLOUR.vermillion,
  ];
  return seriesColour(domain, range);
}

// ---------------------------------------------------------------------------------------------
// Trumpet curve

export async function trumpetChartSvg(
  result: TrumpetResult,
  options: ChartOptions = {},
): Promise<string> {
  const { widthPx, heightPx } = resolve(options);
  const longest = largest(
    result.windows.map((w) => w.windowMs),
    MINUTE_MS,
  );
  const unit =
    longest >= 2 * DAY_MS
      ? { ms: DAY_MS, label: 'days' }
      : longest >= 2 * HOUR_MS
        ? { ms: HOUR_MS, label: 'h' }
        : { ms: MINUTE_MS, label: 'min' };
  const rows = result.windows.flatMap((w) => [
    { p: round(w.windowMs / unit.ms), ep: round(w.epMaxPercent), series: 'Ep(max)' },
    { p: round(w.windowMs / unit.ms), ep: round(w.epMinPercent), series: 'Ep(min)' },
  ]);
  const mean = `mean flow error A (${formatPercent(result.meanFlowErrorPercent)} %)`;
  const domain = ['Ep(max)', 'Ep(min)', mean];
  const color = {
    field: 'series',
    type: 'nominal' as const,
    title: null,
    scale: colourScale(domain, [COLOUR.vermillion, COLOUR.blue, COLOUR.black]),
    sort: domain,
  };
  const endMs = result.analysisStartMs + result.analysisDurationMs;
  const subtitle =
    `r = ${formatRateMlPerDay(result.programmedRateNlPerDay)}, Δt = ${formatDurationMs(result.sampleIntervalMs)}, ` +
    `analysis period ${formatTimeMs(result.analysisStartMs)} to ${formatTimeMs(endMs)}`;

  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: options.title ?? 'Trumpet curve (IEC 60601-2-24 method)', subtitle },
    width: widthPx,
    height: heightPx,
    config: CONFIG,
    layer: [
      {
        data: { values: [{ zero: 0 }] },
        mark: { type: 'rule', color: '#999', strokeWidth: 1 },
        encoding: { y: { field: 'zero', type: 'quantitative' } },
      },
      {
        data: { values: rows },
        mark: { type: 'line', point: true, strokeWidth: 1.5 },
        encoding: {
          x: {
            field: 'p',
            type: 'quantitative',
            title: `Observation window P (${unit.label})`,
            scale: { zero: true },
          },
          y: { field: 'ep', type: 'quantitative', title: 'Flow error (%)' },
          color,
        },
      },
      {
        data: { values: [{ ep: round(result.meanFlowErrorPercent), series: mean }] },
        mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { y: { field: 'ep', type: 'quantitative' }, color },
      },
    ],
  };
  return renderSvg(spec);
}

// ---------------------------------------------------------------------------------------------
// The rig's accuracy test: the balance and the start-up graph

/** The balance's delivered volume against time, beside the programmed r × t. */
export async function balanceChartSvg(
  samples: readonly { timeMs: number; deliveredNl: number }[],
  programmedRateNlPerDay: number,
  options: ChartOptions = {},
): Promise<string> {
  const { widthPx, heightPx, maxPoints } = resolve(options);
  const { startMs, endMs } = span(samples.map((s) => s.timeMs));
  const axis = timeAxisFor(endMs - startMs);
  const shown = decimateMinMax(
    samples,
    maxPoints,
    (s) => s.timeMs,
    (s) => s.deliveredNl,
  );
  const measured = 'delivered, by the balance';
  const programmed = `programmed, ${formatRateMlPerDay(programmedRateNlPerDay)}`;
  const domain = [measured, programmed];
  const color = seriesColour(domain, [COLOUR.blue, COLOUR.grey]);
  const rows = [
    ...shown.map((s) => ({
      t: round(s.timeMs / axis.unitMs),
      ml: round(s.deliveredNl / NL_PER_ML),
      series: measured,
    })),
    ...[startMs, endMs].map((t) => ({
      t: round(t / axis.unitMs),
      ml: round((programmedRateNlPerDay * t) / DAY_MS / NL_PER_ML),
      series: programmed,
    })),
  ];
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: options.title ?? 'Volume on the balance',
      subtitle: `${samples.length} readings, as volume of water (1.0 g/mL)`,
    },
    width: widthPx,
    height: heightPx,
    config: CONFIG,
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: timeEncoding(axis, startMs, endMs),
      y: { field: 'ml', type: 'quantitative', title: 'Delivered (mL)' },
      color,
      strokeDash: {
        field: 'series',
        type: 'nominal',
        legend: null,
        scale: {
          domain,
          range: [
            [1, 0],
            [6, 4],
          ],
        },
      },
    },
  };
  return renderSvg(spec);
}

/** The start-up graph: flow over each Δt against time, beside the programmed rate. */
export async function flowRateChartSvg(
  points: readonly { timeMs: number; rateNlPerDay: number }[],
  programmedRateNlPerDay: number,
  intervalMs: number,
  options: ChartOptions = {},
): Promise<string> {
  const { widthPx, heightPx, maxPoints } = resolve(options);
  const { startMs, endMs } = span(points.map((p) => p.timeMs));
  const axis = timeAxisFor(endMs - startMs);
  const shown = decimateMinMax(
    points,
    maxPoints,
    (p) => p.timeMs,
    (p) => p.rateNlPerDay,
  );
  const perHour = (nlPerDay: number) => round(nlPerDay / 24 / NL_PER_ML);
  const measured = `flow over each ${formatDurationMs(intervalMs)}`;
  const programmed = `programmed, ${formatRateMlPerDay(programmedRateNlPerDay)}`;
  const domain = [measured, programmed];
  const color = seriesColour(domain, [COLOUR.vermillion, COLOUR.black]);
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: options.title ?? 'Flow rate against time (start-up graph, IEC 60601-2-24 method)',
      subtitle:
        'A stroke pump moves fluid in steps, so a short interval holds a whole number of strokes: the flow swings about the programmed rate.',
    },
    width: widthPx,
    height: heightPx,
    config: CONFIG,
    layer: [
      {
        data: {
          values: shown.map((p) => ({
            t: round(p.timeMs / axis.unitMs),
            rate: perHour(p.rateNlPerDay),
            series: measured,
          })),
        },
        mark: { type: 'line', strokeWidth: 1 },
        encoding: {
          x: timeEncoding(axis, startMs, endMs),
          y: { field: 'rate', type: 'quantitative', title: 'Flow (mL/h)' },
          color,
        },
      },
      {
        data: { values: [{ rate: perHour(programmedRateNlPerDay), series: programmed }] },
        mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { y: { field: 'rate', type: 'quantitative' }, color },
      },
    ],
  };
  return renderSvg(spec);
}

// ---------------------------------------------------------------------------------------------
// Fleet distributions

function formatStat(value: number | undefined, perDisplayUnit: number): string {
  if (value === undefined) return 'n/a';
  const shown = value / perDisplayUnit;
  return Math.abs(shown) >= 100 ? shown.toFixed(0) : shown.toPrecision(3);
}

// ---------------------------------------------------------------------------------------------
// Fleet percentile bands over time

/** A band chart's input: at points in time, the sketch of the patients' values then. */
export interface BandChartInput {
  /** What is drawn, as a person reads it: "True reservoir volume". */
  metric: string;
  /** Unit on the y axis ("mL", "% of hard max"). */
  displayUnit: string;
  /** How many of the sketches' integer units make one display unit. */
  perDisplayUnit: number;
  points: readonly { timeMs: number; sketch: HistogramSketch }[];
  /** A level drawn as a dashed rule (a limit, a threshold), in the sketches' unit. */
  rule?: { value: number; label: string };
  /** Said after the subtitle ("100 % is the hard daily maximum, 20 mg/day"). */
  note?: string;
}

/** The percentiles of each point's sketch, in display units; points with no patient left out. */
function bandRows(input: BandChartInput, axis: TimeAxis, show: (v: number | undefined) => number) {
  return input.points.flatMap(({ timeMs, sketch }) => {
    if (sketch.count === 0) return [];
    const q = (p: number) => show(sketchQuantile(sketch, p / 100));
    return [
      { t: round(timeMs / axis.unitMs), p5: q(5), p25: q(25), p50: q(50), p75: q(75), p95: q(95) },
    ];
  });
}

/**
 * Percentile bands across patients over time: the 5th–95th percentile as a light band, the
 * 25th–75th as a darker one, the median as a line (sketchQuantile at each point: within one bin).
 * Points where no patient had a value are left out. The y axis is fitted to the bands (and the
 * rule, if any), not to the sketches' full range.
 */
export async function percentileBandChartSvg(
  input: BandChartInput,
  options: ChartOptions = {},
): Promise<string> {
  const { widthPx, heightPx } = resolve(options);
  if (!(input.perDisplayUnit > 0 && Number.isFinite(input.perDisplayUnit)))
    throw new AnalysisInputError(
      'invalidValue',
      'perDisplayUnit',
      `must be a positive number, got ${input.perDisplayUnit}`,
    );
  requireSeries(input.points, 'points', (p) => p.sketch.count);
  const { startMs, endMs } = span(input.points.map((p) => p.timeMs));
  const axis = timeAxisFor(endMs - startMs);
  const x = timeEncoding(axis, startMs, endMs);
  const show = (v: number | undefined) => round((v ?? 0) / input.perDisplayUnit);
  const rows = bandRows(input, axis, show);
  type Row = (typeof rows)[number];
  const outer = '5th–95th percentile';
  const inner = '25th–75th percentile';
  const median = 'median';
  const domain = [outer, inner, median, ...(input.rule ? [input.rule.label] : [])];
  const color = seriesColour(domain, [COLOUR.sky, COLOUR.blue, COLOUR.black, COLOUR.vermillion]);
  const title = `${input.metric} (${input.displayUnit})`;
  const band = (series: string, lower: keyof Row, upper: keyof Row, opacity: number): Layer => ({
    data: { values: rows.map((r) => ({ t: r.t, lo: r[lower], hi: r[upper], series })) },
    mark: { type: 'area', opacity, clip: true },
    encoding: {
      x,
      y: { field: 'lo', type: 'quantitative', title, scale: { zero: false } },
      y2: { field: 'hi' },
      color,
    },
  });
  const patients = largest(
    input.points.map((p) => p.sketch.count),
    0,
  );
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: options.title ?? input.metric,
      subtitle: `Across ${patients} patients: median and percentile bands at ${rows.length} points in time${input.note ? `; ${input.note}` : ''}`,
    },
    width: widthPx,
    height: heightPx,
    config: CONFIG,
    layer: [
      band(outer, 'p5', 'p95', 0.45),
      band(inner, 'p25', 'p75', 0.55),
      {
        data: { values: rows.map((r) => ({ t: r.t, v: r.p50, series: median })) },
        mark: { type: 'line', strokeWidth: 1.5, clip: true },
        encoding: { x, y: { field: 'v', type: 'quantitative' }, color },
      },
      ...(input.rule
        ? [
            {
              data: { values: [{ v: show(input.rule.value), series: input.rule.label }] },
              mark: { type: 'rule' as const, strokeDash: [6, 4], strokeWidth: 1.5 },
              encoding: { y: { field: 'v', type: 'quantitative' as const }, color },
            },
          ]
        : []),
    ],
  };
  return renderSvg(spec);
}
/**
 * The x range of a histogram fitted to its data, in the sketch's unit: from one bin below the
 * lowest non-empty bin to one bin above the highest (the min and max themselves where values fell
 * outside the bins), within the bins' range; the whole range for an empty sketch. So 20 patients
 * between 30 and 34 days of a 60-day run fill the chart, not a sixth of it.
 */
export function histogramDomain(sketch: HistogramSketch): [number, number] {
  const { spec, binCounts, min, max } = sketch;
  const first = binCounts.findIndex((count) => count > 0);
  if (min === null || max === null) return [spec.lowest, spec.highest];
  const last = binCounts.length - 1 - [...binCounts].reverse().findIndex((count) => count > 0);
  const lower =
    sketch.underflowCount > 0 || first < 0
      ? Math.min(min, spec.lowest)
      : binEdge(spec, Math.max(0, first - 1));
  const upper =
    sketch.overflowCount > 0 || first < 0
      ? Math.max(max, spec.highest)
      : binEdge(spec, Math.min(spec.binCount, last + 2));
  return [lower, upper];
}

/**
 * A histogram of a sketch. Its subtitle's median and 95th percentile are `options.percentile`'s
 * (a percent to a value in the sketch's unit: the fleet's exact ones, from the patients' values)
 * or else the sketch's estimates, within one bin.
 */
export async function histogramChartSvg(
  sketch: HistogramSketch,
  input: HistogramChartInput,
  options: ChartOptions & {
    countLabel?: string;
    percentile?: (percent: number) => number | undefined;
  } = {},
): Promise<string> {
  const { widthPx, heightPx } = resolve(options);
  if (!(input.perDisplayUnit > 0 && Number.isFinite(input.perDisplayUnit))) {
    throw new AnalysisInputError(
      'invalidValue',
      'perDisplayUnit',
      `must be a positive number, got ${input.perDisplayUnit}`,
    );
  }
  const countLabel = options.countLabel ?? 'Patients';
  const mean = sketchMean(sketch);
  const meanLabel = `mean (${formatStat(mean, input.perDisplayUnit)} ${input.displayUnit})`;
  const domain = [
    `${countLabel.toLowerCase()} per bin`,
    ...(mean === undefined ? [] : [meanLabel]),
  ];
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: options.title ?? input.metric,
      subtitle: histogramSubtitle(
        sketch,
        input,
        options.percentile ?? ((percent) => sketchQuantile(sketch, percent / 100)),
      ),
    },
    width: widthPx,
    height: heightPx,
    config: CONFIG,
    layer: histogramLayers(sketch, input, {
      countLabel,
      mean,
      meanLabel,
      color: seriesColour(domain, [COLOUR.sky, COLOUR.vermillion]),
    }),
  };
  return renderSvg(spec);
}

/** n, median, 95th percentile, min, max, and how many fell outside the bins. */
function histogramSubtitle(
  sketch: HistogramSketch,
  input: HistogramChartInput,
  percentile: (percent: number) => number | undefined,
): string {
  const outside = sketch.underflowCount + sketch.overflowCount;
  return [
    `n = ${sketch.count}`,
    `median ${formatStat(percentile(50), input.perDisplayUnit)}`,
    `95th percentile ${formatStat(percentile(95), input.perDisplayUnit)}`,
    `min ${formatStat(sketch.min ?? undefined, input.perDisplayUnit)}`,
    `max ${formatStat(sketch.max ?? undefined, input.perDisplayUnit)} ${input.displayUnit}`,
    ...(outside > 0
      ? [`${sketch.underflowCount} below and ${sketch.overflowCount} above the bins`]
      : []),
  ].join(', ');
}

/** The histogram's marks: a rectangle per non-empty bin, and the mean as a rule. */
function histogramLayers(
  sketch: HistogramSketch,
  input: HistogramChartInput,
  legend: { countLabel: string; mean: number | undefined; meanLabel: string; color: SeriesColour },
): Layer[] {
  const { countLabel, mean, meanLabel, color } = legend;
  const { spec: bins, binCounts } = sketch;
  const show = (value: number) => round(value / input.perDisplayUnit);
  // Empty bins draw nothing; leaving them out keeps a 1,000-bin sketch's file small.
  const rows = binCounts.flatMap((count, index) =>
    count === 0
      ? []
      : [
          {
            lower: show(binEdge(bins, index)),
            upper: show(binEdge(bins, index + 1)),
            count,
            series: `${countLabel.toLowerCase()} per bin`,
          },
        ],
  );
  return [
    {
      data: { values: rows },
      mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5, aria: false },
      encoding: {
        x: {
          field: 'lower',
          type: 'quantitative',
          title: `${input.metric} (${input.displayUnit})`,
          scale: { domain: histogramDomain(sketch).map(show), nice: false },
        },
        x2: { field: 'upper' },
        y: { field: 'count', type: 'quantitative', title: countLabel, scale: { zero: true } },
        y2: { datum: 0 },
        color,
      },
    },
    ...(mean === undefined
      ? []
      : [
          {
            data: { values: [{ lower: show(mean), series: meanLabel }] },
            mark: { type: 'rule' as const, strokeDash: [6, 4], strokeWidth: 1.5, clip: true },
            encoding: { x: { field: 'lower', type: 'quantitative' as const }, color },
          },
        ]),
  ];
}

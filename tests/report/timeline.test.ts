/**
 * The timeline chart and the markers on the time charts: a tick per event on a row per kind, the
 * therapy state as bars, a marker per bolus, refill, alarm, clock change and stall, on the same
 * time axis as the reservoir and dose charts.
 */
import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/units.js';
import {
  doseChartSvg,
  reservoirChartSvg,
  timelineChartSvg,
  timeAxisFor,
} from '../../sim/report/charts.js';
import type { ChartMarker, TimelineEvent } from '../../sim/report/types.js';

/** The SVG elements inside the mark group whose class ends with `name` (e.g. `concat_1_marks`). */
function marksOf(svg: string, name: string): string[] {
  const start = svg.indexOf(`${name}"`);
  if (start < 0) return [];
  const end = svg.indexOf('</g>', start);
  return svg.slice(start, end).match(/<(path|line)\b[^>]*>/g) ?? [];
}

/** Every mark element of the SVG's mark groups (not axes, not legends). */
function allMarks(svg: string): string[] {
  const names = [...svg.matchAll(/class="mark-[a-z]+ role-mark ([a-z0-9_]+)"/g)].map((m) => m[1]!);
  return names.flatMap((n) => marksOf(svg, n));
}

/** The y positions of the event lane's ticks, one per row. */
const rowOf = (mark: string) => /M[0-9.]+,([0-9.]+)h/.exec(mark)?.[1];

const xAxisLabel = (svg: string) => /aria-label="X-axis titled '([^']*)'/.exec(svg)?.[1];

const events: TimelineEvent[] = [
  { timeMs: 2 * HOUR_MS, kind: 'pressGranted' },
  { timeMs: 2 * HOUR_MS, kind: 'bolus' },
  { timeMs: 3 * HOUR_MS, kind: 'pressDenied' },
  { timeMs: DAY_MS + 10 * HOUR_MS, kind: 'refill' },
  { timeMs: DAY_MS + 10 * HOUR_MS, kind: 'refillDiscrepancy' },
  { timeMs: 2 * DAY_MS, kind: 'alarmRaised' },
  { timeMs: 2 * DAY_MS + 6 * HOUR_MS, kind: 'alarmCleared' },
  { timeMs: 3 * DAY_MS, kind: 'clockChange' },
  { timeMs: 3 * DAY_MS + HOUR_MS, kind: 'motorStall' },
  { timeMs: 3 * DAY_MS + 2 * HOUR_MS, kind: 'motorStall' },
  { timeMs: 4 * DAY_MS, kind: 'refused' },
];
const therapy = [
  { state: 'infusing' as const, fromMs: 0, toMs: DAY_MS },
  { state: 'stopped' as const, fromMs: DAY_MS, toMs: DAY_MS + 4 * HOUR_MS },
  { state: 'infusing' as const, fromMs: DAY_MS + 4 * HOUR_MS, toMs: 2 * DAY_MS },
  { state: 'minimumRate' as const, fromMs: 2 * DAY_MS, toMs: 2 * DAY_MS + 6 * HOUR_MS },
  { state: 'infusing' as const, fromMs: 2 * DAY_MS + 6 * HOUR_MS, toMs: 5 * DAY_MS },
];

describe('timelineChartSvg', () => {
  it('draws a tick per event, on a row per kind of event, named on the axis', async () => {
    const svg = await timelineChartSvg({ events, therapy, runEndMs: 5 * DAY_MS });
    const ticks = marksOf(svg, 'concat_1_marks');
    expect(ticks).toHaveLength(events.length);
    const rows = new Set(ticks.map(rowOf));
    expect(rows.size).toBe(new Set(events.map((e) => e.kind)).size);
    for (const label of [
      'press granted',
      'press denied',
      'bolus',
      'refill',
      'refill discrepancy flagged',
      'alarm raised',
      'alarm cleared',
      'clock change',
      'motor stall',
      'refused command',
    ])
      expect(svg, label).toContain(`>${label}<`);
    // Only the kinds that happened get a row.
    expect(svg).not.toContain('>drug change<');
    expect(svg).toContain("Title text 'Timeline: therapy state and events'");
    // The subtitle counts each row's events.
    expect(svg).toContain('motor stall: 2, refused command: 1');
  });

  it('draws the therapy state as a bar per interval, with a legend of the states present', async () => {
    const svg = await timelineChartSvg({ events, therapy, runEndMs: 5 * DAY_MS });
    const bars = marksOf(svg, 'concat_0_marks');
    expect(bars).toHaveLength(therapy.length);
    expect(bars.filter((b) => b.includes('fill="#D55E00"'))).toHaveLength(1);
    expect(bars.filter((b) => b.includes('fill="#777777"'))).toHaveLength(1);
    for (const label of ['infusing', 'stopped', 'safe minimum rate (critical alarm)'])
      expect(svg).toContain(`>${label}<`);
    expect(svg).not.toContain('>halted (battery end of service)<');
  });

  it('uses the time axis of the reservoir and dose charts for the same run', async () => {
    const runEndMs = 5 * DAY_MS;
    const estimate = [0, runEndMs].map((timeMs) => ({ timeMs, volumeNl: 1_000_000 }));
    const timeline = await timelineChartSvg({ events, therapy, runEndMs });
    const reservoir = await reservoirChartSvg({ estimate, lowReservoirNl: 1, emptyNl: 0 });
    const dose = await doseChartSvg({
      drugName: 'morphine',
      cumulative: [0, runEndMs].map((timeMs) => ({ timeMs, doseNg: timeMs / 1000 })),
      hardDailyMaxNg: 1_000_000,
    });
    expect(timeAxisFor(runEndMs).label).toBe('days');
    expect(xAxisLabel(timeline)).toBe('Time since start of run (days)');
    const range = (svg: string) =>
      /X-axis titled '[^']*' for a linear scale with values from ([^"]*)"/.exec(svg)?.[1];
    expect(range(timeline)).toBe('0 to 5');
    expect(range(reservoir)).toBe(range(timeline));
    expect(range(dose)).toBe(range(timeline));
  });

  it('draws only the therapy lane, with the axis, when nothing happened', async () => {
    const svg = await timelineChartSvg({
      events: [],
      therapy: [{ state: 'infusing', fromMs: 0, toMs: DAY_MS }],
      runEndMs: DAY_MS,
    });
    expect(marksOf(svg, 'concat_0_marks')).toHaveLength(1);
    expect(svg).not.toContain('concat_1_marks');
    expect(xAxisLabel(svg)).toBe('Time since start of run (h)');
    expect(svg).toContain("Subtitle text 'no events'");
  });

  it('draws ticks of a row less than a pixel apart once above maxMarks, and says so', async () => {
    const many: TimelineEvent[] = Array.from({ length: 3_000 }, (_, i) => ({
      timeMs: i * MINUTE_MS,
      kind: i % 2 === 0 ? 'pressGranted' : 'pressDenied',
    }));
    const runEndMs = 3_000 * MINUTE_MS;
    const svg = await timelineChartSvg({ events: many, therapy: [], runEndMs });
    const ticks = marksOf(svg, 'concat_1_marks');
    // The situation: more events than the default 1500 marks.
    expect(many.length).toBeGreaterThan(1_500);
    expect(ticks.length).toBeLessThanOrEqual(2 * 641);
    expect(ticks.length).toBeGreaterThan(600);
    expect(svg).toContain('ticks less than a pixel apart drawn as one');
    const few = await timelineChartSvg({ events: many.slice(0, 100), therapy: [], runEndMs });
    expect(marksOf(few, 'concat_1_marks')).toHaveLength(100);
    expect(few).not.toContain('ticks less than a pixel apart');
  });
});

describe('markers on the reservoir and dose charts', () => {
  const markers: ChartMarker[] = [
    { timeMs: 10 * HOUR_MS, kind: 'bolus' },
    { timeMs: 30 * HOUR_MS, kind: 'bolus' },
    { timeMs: 2 * DAY_MS, kind: 'alarm' },
    { timeMs: 3 * DAY_MS, kind: 'clockChange' },
    { timeMs: 3 * DAY_MS + HOUR_MS, kind: 'motorStall' },
  ];
  const dashed = (svg: string, dash: string) =>
    allMarks(svg).filter((m) => m.startsWith('<line') && m.includes(`stroke-dasharray="${dash}"`));
  const bolusTicks = (svg: string) =>
    allMarks(svg).filter((m) => m.startsWith('<path') && m.includes('fill="#56B4E9"'));

  it('reservoir: a rule per refill, alarm, clock change and stall, a tick per bolus, each in the legend', async () => {
    const estimate = [0, 5 * DAY_MS].map((timeMs) => ({ timeMs, volumeNl: 1_000_000 }));
    const svg = await reservoirChartSvg({
      estimate,
      refillTimesMs: [DAY_MS + 10 * HOUR_MS],
      markers,
      lowReservoirNl: 1,
      emptyNl: 0,
    });
    expect(dashed(svg, '2,2')).toHaveLength(1); // refill
    expect(dashed(svg, '6,3')).toHaveLength(1); // alarm raised
    expect(dashed(svg, '1,3')).toHaveLength(1); // clock change
    expect(dashed(svg, '4,2')).toHaveLength(1); // motor stall
    expect(bolusTicks(svg)).toHaveLength(2);
    for (const label of ['bolus', 'refill', 'alarm raised', 'clock change', 'motor stall'])
      expect(svg, label).toContain(`>${label}<`);
  });

  it('reservoir: no marker, no marker in the legend', async () => {
    const estimate = [0, 5 * DAY_MS].map((timeMs) => ({ timeMs, volumeNl: 1_000_000 }));
    const svg = await reservoirChartSvg({ estimate, lowReservoirNl: 1, emptyNl: 0 });
    expect(
      allMarks(svg).filter((m) => m.startsWith('<line') && /dasharray="(2,2|6,3)"/.test(m)),
    ).toEqual([]);
    expect(svg).not.toContain('>alarm raised<');
  });

  it('dose: the markers on both panels', async () => {
    const svg = await doseChartSvg({
      drugName: 'morphine',
      cumulative: [0, 5 * DAY_MS].map((timeMs) => ({ timeMs, doseNg: timeMs / 1000 })),
      hardDailyMaxNg: 1_000_000,
      markers,
    });
    expect(dashed(svg, '6,3')).toHaveLength(2);
    expect(dashed(svg, '1,3')).toHaveLength(2);
    expect(dashed(svg, '4,2')).toHaveLength(2);
    expect(bolusTicks(svg)).toHaveLength(4);
    for (const label of ['bolus', 'alarm raised', 'clock change', 'motor stall'])
      expect(svg, label).toContain(`>${label}<`);
  });

  it('draws markers of one kind less than a pixel apart once', async () => {
    const estimate = [0, 100 * DAY_MS].map((timeMs) => ({ timeMs, volumeNl: 1_000_000 }));
    const dense: ChartMarker[] = Array.from({ length: 2_000 }, (_, i) => ({
      timeMs: i * HOUR_MS,
      kind: 'bolus',
    }));
    const svg = await reservoirChartSvg({
      estimate,
      markers: dense,
      lowReservoirNl: 1,
      emptyNl: 0,
    });
    expect(bolusTicks(svg).length).toBeLessThanOrEqual(641);
    expect(bolusTicks(svg).length).toBeGreaterThan(300);
  });
});

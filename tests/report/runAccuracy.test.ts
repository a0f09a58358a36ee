/**
 * The trumpet curve of a run, on hand-built traces and event logs whose answers are worked out
 * here: true volume rebuilt across refills, steady periods cut at rate changes, boluses taken out,
 * a motor bias and a stall showing as flow errors.
 */
import { describe, expect, it } from 'vitest';
import type { LogBody, LogRecord } from '../../src/eventLog.js';
import { DAY_MS, HOUR_MS } from '../../src/units.js';
import {
  runTrumpet,
  steadyPeriods,
  trueDeliveredVolume,
  type TrueReservoirSample,
} from '../../sim/report/runAccuracy.js';

let seq = 0;
function at(atMs: number, body: LogBody): LogRecord {
  return { ...body, seq: seq++, atMs, rtcMs: atMs } as LogRecord;
}

const MORPHINE_2MG = [{ drug: 'morphine', concentrationUgPerMl: 2_000 }];
/** 1 mg/day of morphine at 2 mg/mL is 0.5 mL/day. */
const RATE_NL_PER_DAY = 500_000;

function refill(
  atMs: number,
  withdrawnNl: number,
  addedNl: number,
  mixture: unknown = MORPHINE_2MG,
): LogRecord {
  return at(atMs, {
    type: 'refill',
    withdrawnNl,
    addedNl,
    estimateBeforeNl: withdrawnNl,
    discrepancyNl: 0,
    discrepancyFlagged: false,
    mixture,
  });
}

function program(atMs: number, doseNgPerDay: number): LogRecord {
  return at(atMs, {
    type: 'programmed',
    field: 'prescription',
    old: null,
    new: { mode: 'continuous', doseNgPerDay },
  });
}

/** The start of every run: boot, initial fill, programming, resume, all at 0. */
function start(): LogRecord[] {
  return [
    at(0, { type: 'boot', restored: false, memoryError: false, lowBatteryReset: false }),
    refill(0, 0, 20_000_000),
    program(0, 1_000_000),
    at(0, { type: 'resumed' }),
  ];
}

/** Hourly samples of a reservoir that loses `deliveredBy(t)` nL by time t. */
function trace(days: number, deliveredBy: (timeMs: number) => number): TrueReservoirSample[] {
  const rows: TrueReservoirSample[] = [];
  for (let t = 0; t <= days * DAY_MS; t += HOUR_MS)
    rows.push({
      timeMs: t,
      reservoirTrueNl: 20_000_000 - Math.round(deliveredBy(t)),
      therapy: 'infusing.basal',
    });
  return rows;
}

describe('trueDeliveredVolume', () => {
  it('counts every fall of the true reservoir and adds back what a refill changed', () => {
    const rows: TrueReservoirSample[] = [
      { timeMs: 0, reservoirTrueNl: 20_000_000, therapy: 'infusing.basal' },
      { timeMs: HOUR_MS, reservoirTrueNl: 19_500_000, therapy: 'infusing.basal' },
      // Between the samples: 0.3 mL delivered, the reservoir (19.2 mL) emptied and refilled with
      // 20 mL, then 0.3 mL more delivered: 19.7 mL at the sample, 0.6 mL delivered in the hour.
      { timeMs: 2 * HOUR_MS, reservoirTrueNl: 19_700_000, therapy: 'infusing.basal' },
    ];
    const events = [...start(), refill(HOUR_MS + 30 * 60_000, 19_200_000, 20_000_000)];
    expect(trueDeliveredVolume(rows, events)).toEqual([
      { timeMs: 0, deliveredNl: 0 },
      { timeMs: HOUR_MS, deliveredNl: 500_000 },
      { timeMs: 2 * HOUR_MS, deliveredNl: 1_100_000 },
    ]);
  });
});

describe('steadyPeriods', () => {
  it('cuts at refills, prescription changes, stops and resumes, with the rate in force', () => {
    const events = [
      ...start(),
      refill(10 * DAY_MS, 15_000_000, 20_000_000),
      program(15 * DAY_MS, 2_000_000),
      at(20 * DAY_MS, { type: 'stopped' }),
      at(21 * DAY_MS, { type: 'resumed' }),
      // A new mixture at twice the concentration halves the rate for the same dose.
      refill(25 * DAY_MS, 10_000_000, 20_000_000, [
        { drug: 'morphine', concentrationUgPerMl: 4_000 },
      ]),
    ];
    expect(steadyPeriods(events, 30 * DAY_MS)).toEqual([
      { startMs: 0, endMs: 10 * DAY_MS, rateNlPerDay: RATE_NL_PER_DAY },
      { startMs: 10 * DAY_MS, endMs: 15 * DAY_MS, rateNlPerDay: RATE_NL_PER_DAY },
      { startMs: 15 * DAY_MS, endMs: 20 * DAY_MS, rateNlPerDay: 2 * RATE_NL_PER_DAY },
      { startMs: 20 * DAY_MS, endMs: 21 * DAY_MS, rateNlPerDay: undefined },
      { startMs: 21 * DAY_MS, endMs: 25 * DAY_MS, rateNlPerDay: 2 * RATE_NL_PER_DAY },
      { startMs: 25 * DAY_MS, endMs: 30 * DAY_MS, rateNlPerDay: RATE_NL_PER_DAY },
    ]);
  });

  it('gives a flex schedule with different steps no single rate', () => {
    const flex = at(0, {
      type: 'programmed',
      field: 'prescription',
      old: null,
      new: {
        mode: 'flex',
        steps: [
          { startMinute: 0, doseNgPerDay: 1_000_000 },
          { startMinute: 600, doseNgPerDay: 2_000_000 },
        ],
      },
    });
    const events = [...start().slice(0, 2), flex, at(0, { type: 'resumed' })];
    expect(steadyPeriods(events, 5 * DAY_MS)).toEqual([
      { startMs: 0, endMs: 5 * DAY_MS, rateNlPerDay: undefined },
    ]);
  });
});

describe('runTrumpet', () => {
  it('shows a +2 % motor as +2 % in every window once the boluses are taken out', () => {
    const boluses = [3, 40, 41, 100, 200].map((hour) =>
      at(hour * HOUR_MS + 20 * 60_000, {
        type: 'bolusStarted',
        kind: 'patient',
        volumeNl: 50_000,
        durationMs: 10 * 60_000,
      }),
    );
    const bolusBy = (t: number) =>
      boluses.reduce(
        (sum, b) => sum + 50_000 * Math.min(1, Math.max(0, (t - b.atMs) / (10 * 60_000))),
        0,
      );
    const rows = trace(12, (t) => (RATE_NL_PER_DAY * 1.02 * t) / DAY_MS + bolusBy(t));
    const run = runTrumpet(rows, [...start(), ...boluses], 12 * DAY_MS);
    expect(run.ok).toBe(true);
    if (!run.ok) return;
    // Warm-up of one day, then up to one sample before the end of the period: 11 d − 1 h.
    expect(run.result.analysisStartMs).toBe(DAY_MS);
    expect(run.result.analysisDurationMs).toBe(11 * DAY_MS - HOUR_MS);
    expect(run.result.sampleIntervalMs).toBe(HOUR_MS);
    expect(run.bolusesSubtracted).toBe(5); // the steady period starts at 0, so all of them
    expect(run.result.windows.map((w) => w.windowMs)).toEqual([
      6 * HOUR_MS,
      DAY_MS,
      3 * DAY_MS,
      7 * DAY_MS,
    ]);
    // Rounding the reservoir to whole nL moves each window by less than 1 nL in 125,000.
    expect(run.result.meanFlowErrorPercent).toBeCloseTo(2, 2);
    for (const w of run.result.windows) {
      expect(w.epMaxPercent).toBeCloseTo(2, 2);
      expect(w.epMinPercent).toBeCloseTo(2, 2);
    }
  });

  it('shows a six-hour stall as −100 % over six hours and in the mean error', () => {
    const stallFrom = 5 * DAY_MS;
    const stallTo = stallFrom + 6 * HOUR_MS;
    const lostBy = (t: number) =>
      (RATE_NL_PER_DAY * Math.min(Math.max(0, t - stallFrom), stallTo - stallFrom)) / DAY_MS;
    const rows = trace(12, (t) => (RATE_NL_PER_DAY * t) / DAY_MS - lostBy(t));
    const run = runTrumpet(rows, start(), 12 * DAY_MS);
    expect(run.ok).toBe(true);
    if (!run.ok) return;
    const sixHours = run.result.windows[0]!;
    expect(sixHours.epMinPercent).toBeCloseTo(-100, 6);
    expect(sixHours.epMinStartMs).toBe(stallFrom);
    expect(sixHours.epMaxPercent).toBeCloseTo(0, 6);
    // 0.125 mL lost out of 263 h at 0.5 mL/day (the reservoir is rounded to whole nL).
    expect(run.result.meanFlowErrorPercent).toBeCloseTo(
      (-100 * 125_000) / ((RATE_NL_PER_DAY * 263) / 24),
      4,
    );
  });

  it('says why there is no curve when no steady period is long enough', () => {
    const events = [...start(), ...[1, 2, 3].map((d) => refill(d * DAY_MS, 1_000_000, 20_000_000))];
    const run = runTrumpet(
      trace(4, (t) => (RATE_NL_PER_DAY * t) / DAY_MS),
      events,
      4 * DAY_MS,
    );
    expect(run).toEqual({
      ok: false,
      reason: expect.stringMatching(
        /no period of constant basal rate lasts 24 h of warm-up plus 6 h/,
      ),
    });
  });

  it('refuses a period in which the trace shows the pump was not infusing', () => {
    const rows = trace(12, (t) => (RATE_NL_PER_DAY * t) / DAY_MS).map((r) =>
      r.timeMs === 3 * DAY_MS ? { ...r, therapy: 'minimumRate' } : r,
    );
    const run = runTrumpet(rows, start(), 12 * DAY_MS);
    expect(run).toEqual({
      ok: false,
      reason: expect.stringMatching(/therapy was "minimumRate" at 259200000 ms/),
    });
  });
});

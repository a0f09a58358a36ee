/**
 * Shared helpers of the scenario tests: build a scenario from a plain object (through the same
 * parser as scenario files) and read the pump's event log. The expected numbers live in the tests,
 * computed by hand there; nothing here computes an expectation.
 */
import type { LogRecord } from '../../src/eventLog.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, NG_PER_MG } from '../../src/units.js';
import { parseScenario, type Scenario } from '../../sim/scenario.js';

/** A scenario from an object written as in a scenario file (units as strings). */
export function scenario(input: Record<string, unknown>): Scenario {
  return parseScenario(JSON.stringify(input), 'test.json');
}

/** Morphine 2 mg/mL in a 20 mL pump with 500 nL strokes, 1 mg/day: 0.5 mL/day, one stroke every 86.4 s. */
export const morphineBase = {
  name: 'hand-computed',
  duration: '10d',
  startRtc: '2025-01-06T00:00:00Z',
  pump: {
    reservoirCapacity: '20 mL',
    strokeVolume: '500 nL',
    lowReservoir: '2 mL',
    emptyReservoir: '0.5 mL',
  },
  initialFill: { volume: '20 mL', mixture: [{ drug: 'morphine', concentration: '2 mg/mL' }] },
  prescription: { mode: 'continuous', dose: '1 mg/day' },
} as const;

/** PTM: 0.1 mg over 10 min (50 µL = 100 strokes at 2 mg/mL), lockout 3 h start to start, 4 in 24 h. */
export const ptm = {
  bolusDose: '0.1 mg',
  bolusDuration: '10 min',
  lockout: '3 h',
  maxPer24h: 4,
} as const;

/** Monotonic ms of "day d, hh:mm" from the start of a run. */
export function at(day: number, hours = 0, minutes = 0, seconds = 0): number {
  return day * DAY_MS + hours * HOUR_MS + minutes * MINUTE_MS + seconds * 1_000;
}

/** The scenario-file spelling of `at()`, for timelines. */
export function when(day: number, hours = 0, minutes = 0): string {
  return `${day}d ${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`;
}

export const mg = (n: number) => Math.round(n * NG_PER_MG);

export function ofType<T extends LogRecord['type']>(
  events: readonly LogRecord[],
  type: T,
): Extract<LogRecord, { type: T }>[] {
  return events.filter((e): e is Extract<LogRecord, { type: T }> => e.type === type);
}

/** Each press in order, as `granted` or its one deny reason, with its time. */
export function pressOutcomes(events: readonly LogRecord[]): { atMs: number; outcome: string }[] {
  return events.flatMap((e) =>
    e.type === 'pressGranted'
      ? [{ atMs: e.atMs, outcome: 'granted' }]
      : e.type === 'pressDenied'
        ? [{ atMs: e.atMs, outcome: e.reason }]
        : [],
  );
}

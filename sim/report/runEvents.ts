/**
 * What the run report reads of the pump's event log (events.jsonl, or the run in memory): the
 * events of the timeline lane, the markers of the dose and reservoir charts, and the therapy
 * state over time.
 *
 * The therapy state is folded from the records the controller writes as its therapy region moves
 * (src/machine.ts, docs/statechart.md): `boot` (stopped after a cold start; safe minimum rate
 * after a memory error or a low-battery reset; otherwise the state the reset interrupted, which is
 * the one the pump restores), `stopped`, `resumed` (infusing), `minimumRate` (a critical alarm
 * took the pump to its safe minimum rate) and a `batteryEos` alarm (halted: the battery reached
 * its end of service). Boluses run inside `infusing` and are events of the lane, not states.
 *
 * Plain data in, plain data out: nothing here reads a file or draws.
 */
import type { LogRecord } from '../../src/eventLog.js';
import type { Summary } from '../summary.js';
import type {
  ChartMarker,
  TherapyInterval,
  TherapyState,
  TimelineEvent,
  TimelineEventKind,
} from './types.js';

/** The refill records after the set-up's (the initial fill is not a refill, as in the summary). */
export function refillsOf(events: readonly LogRecord[]): Extract<LogRecord, { type: 'refill' }>[] {
  return events
    .filter((e): e is Extract<LogRecord, { type: 'refill' }> => e.type === 'refill')
    .slice(1);
}

/** The lane's kind of a log record, or undefined for records the lane does not show. */
function kindOf(e: LogRecord): TimelineEventKind | undefined {
  switch (e.type) {
    case 'pressGranted':
      return 'pressGranted';
    case 'pressDenied':
      return 'pressDenied';
    case 'bolusStarted':
      return 'bolus';
    case 'alarmRaised':
      return 'alarmRaised';
    case 'alarmCleared':
      return 'alarmCleared';
    case 'clockSet':
      return 'clockChange';
    case 'motorStall':
      return 'motorStall';
    case 'refused':
      return 'refused';
    default:
      return undefined;
  }
}

/**
 * The events of the timeline lane, in time order: presses, boluses, refills (and those whose
 * withdrawn volume was flagged against the estimate), alarms raised and cleared, clock changes,
 * motor stalls, refused commands, and from the summary's drug path each drug change and the time
 * its new mixture reached the catheter tip.
 */
export function timelineEventsOf(
  events: readonly LogRecord[],
  drugPath: Summary['drugPath'],
): TimelineEvent[] {
  const found: TimelineEvent[] = [];
  for (const e of events) {
    const kind = kindOf(e);
    if (kind !== undefined) found.push({ timeMs: e.atMs, kind });
  }
  for (const r of refillsOf(events)) {
    found.push({ timeMs: r.atMs, kind: 'refill' });
    if (r.discrepancyFlagged) found.push({ timeMs: r.atMs, kind: 'refillDiscrepancy' });
  }
  for (const c of drugPath?.changes ?? []) {
    found.push({ timeMs: c.atMs, kind: 'drugChange' });
    if (c.newMixtureAtTipMs !== null)
      found.push({ timeMs: c.newMixtureAtTipMs, kind: 'newMixtureAtTip' });
  }
  return found.sort((a, b) => a.timeMs - b.timeMs);
}

/** The markers of the dose and reservoir charts: boluses, refills, alarms raised, clock changes, stalls. */
export function chartMarkersOf(events: readonly LogRecord[]): ChartMarker[] {
  const markers: ChartMarker[] = [];
  const refills = new Set(refillsOf(events));
  for (const e of events) {
    if (e.type === 'bolusStarted') markers.push({ timeMs: e.atMs, kind: 'bolus' });
    else if (e.type === 'refill' && refills.has(e))
      markers.push({ timeMs: e.atMs, kind: 'refill' });
    else if (e.type === 'alarmRaised') markers.push({ timeMs: e.atMs, kind: 'alarm' });
    else if (e.type === 'clockSet') markers.push({ timeMs: e.atMs, kind: 'clockChange' });
    // A stall is retried: one marker per stall, at its first stalled attempt.
    else if (e.type === 'motorStall' && e.attempt <= 1)
      markers.push({ timeMs: e.atMs, kind: 'motorStall' });
  }
  return markers;
}

/** The therapy state a log record leaves the pump in, given the state before it. */
function therapyAfter(e: LogRecord, before: TherapyState): TherapyState {
  switch (e.type) {
    case 'boot':
      if (e.memoryError || e.lowBatteryReset) return 'minimumRate';
      // A restored pump carries on in the state the reset interrupted; a cold start is stopped.
      return e.restored && before !== 'startup' ? before : 'stopped';
    case 'stopped':
      return 'stopped';
    case 'resumed':
      return 'infusing';
    case 'minimumRate':
      return 'minimumRate';
    case 'alarmRaised':
      return e.code === 'batteryEos' ? 'halted' : before;
    default:
      return before;
  }
}

/**
 * The therapy state from 0 to `runEndMs` as intervals, in time order, without gaps and without
 * empty ones (the start-up before the boot record, and states left at the moment they were entered).
 */
export function therapyIntervalsOf(
  events: readonly LogRecord[],
  runEndMs: number,
): TherapyInterval[] {
  const intervals: TherapyInterval[] = [];
  let state: TherapyState = 'startup';
  let sinceMs = 0;
  const close = (atMs: number) => {
    if (atMs <= sinceMs) return;
    const last = intervals[intervals.length - 1];
    if (last && last.state === state) last.toMs = atMs;
    else intervals.push({ state, fromMs: sinceMs, toMs: atMs });
    sinceMs = atMs;
  };
  for (const e of events) {
    const next = therapyAfter(e, state);
    if (next === state) continue;
    close(Math.min(e.atMs, runEndMs));
    state = next;
  }
  close(runEndMs);
  return intervals;
}

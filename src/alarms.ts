/**
 * The alarm catalogue: code, priority, tone pattern and repeat interval of every alarm.
 *
 * Alarms are latched: once raised an alarm stays active until a clinician clears it, and a clear is
 * refused for an alarm whose condition still holds (docs/requirements.md, REQ-ALM-*). Two tones
 * exist on the SynchroMed II (a 3-second two-tone and a 1-second single tone); which one means
 * critical and how often each repeats are UNCONFIRMED (docs/sources.md §1.4), so the repeat intervals are
 * settings of the catalogue, documented in docs/alarms.md.
 */
import type { TonePattern } from '../hal/annunciator.js';
import { HOUR_MS, MINUTE_MS } from './units.js';

export type AlarmPriority = 'critical' | 'nonCritical';

export const alarmCodes = [
  'lowReservoir',
  'emptyReservoir',
  'motorStall',
  'memoryError',
  'batteryEri',
  'batteryEos',
  'lowBatteryReset',
] as const;
export type AlarmCode = (typeof alarmCodes)[number];

export interface AlarmDefinition {
  code: AlarmCode;
  priority: AlarmPriority;
  tone: TonePattern;
  repeatMs: number;
  description: string;
}

const critical = (code: AlarmCode, description: string): AlarmDefinition => ({
  code,
  priority: 'critical',
  tone: 'alarmCritical',
  repeatMs: 10 * MINUTE_MS,
  description,
});
const nonCritical = (code: AlarmCode, description: string): AlarmDefinition => ({
  code,
  priority: 'nonCritical',
  tone: 'alarmNonCritical',
  repeatMs: HOUR_MS,
  description,
});

export const alarmCatalogue: Readonly<Record<AlarmCode, AlarmDefinition>> = {
  lowReservoir: nonCritical(
    'lowReservoir',
    'the reservoir estimate is at or below the low-reservoir threshold',
  ),
  emptyReservoir: critical(
    'emptyReservoir',
    'the reservoir estimate is at or below the empty threshold; safe minimum rate',
  ),
  motorStall: critical(
    'motorStall',
    'the motor stalled on consecutive attempts; therapy is not being delivered',
  ),
  memoryError: critical(
    'memoryError',
    'a therapy record failed its integrity check; safe minimum rate',
  ),
  batteryEri: nonCritical(
    'batteryEri',
    'elective replacement indicator: replace the pump within 90 days',
  ),
  batteryEos: critical('batteryEos', 'battery end of service: infusion has stopped'),
  lowBatteryReset: critical(
    'lowBatteryReset',
    'the pump was reset by a battery brown-out; safe minimum rate',
  ),
};

export interface ActiveAlarm {
  code: AlarmCode;
  raisedAtMs: number;
  /** When the annunciator repeats this alarm next. */
  nextToneMs: number;
}

export function isCritical(code: AlarmCode): boolean {
  return alarmCatalogue[code].priority === 'critical';
}

/** What the alarms show: the highest priority latched, for the display and the programmer. */
export type AlarmLevel = 'quiet' | 'nonCritical' | 'critical';

export function alarmLevel(alarms: readonly ActiveAlarm[]): AlarmLevel {
  if (alarms.length === 0) return 'quiet';
  return alarms.some((a) => isCritical(a.code)) ? 'critical' : 'nonCritical';
}

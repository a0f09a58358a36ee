/**
 * The timeline commands the pump refused, in the scenario's words: each under the YAML path of the
 * field at fault (`timeline[3].refill.mixture[0].concentration`), with the pump's reason. `run`,
 * `rig run` and the report list them; a refusal is the pump doing its job, so the run still exits 0.
 */
import type { LogRecord } from '../src/eventLog.js';
import type { TimelineEvent } from './scenario.js';

/** A timeline command the pump refused: where it is in the scenario, and the pump's reasons. */
export interface TimelineRefusal {
  atMs: number;
  /** Its index in the scenario's timeline. */
  event: number;
  /** Its action key (`refill`, `program`, …). */
  action: string;
  /** The YAML path of the field at fault, e.g. `timeline[3].refill.mixture[0].concentration`. */
  field: string;
  value: string;
  limit: string;
  message: string;
}

const timelineActions = [
  'press',
  'program',
  'refill',
  'clinicianBolus',
  'primingBolus',
  'stop',
  'resume',
  'clearAlarms',
  'setClock',
  'motorStall',
  'strokeVolumeError',
  'reset',
  'corruptMemory',
  'batteryLevel',
] as const;

export function timelineActionOf(e: TimelineEvent): string {
  return timelineActions.find((a) => e[a] !== undefined) ?? 'event';
}

/** Firmware field names in the scenario's words (`prescription.doseNgPerDay` → `prescription.dose`). */
const scenarioNames: Record<string, string> = {
  addedNl: 'added',
  withdrawnNl: 'withdrawn',
  doseNg: 'dose',
  durationMs: 'duration',
  rateNlPerDay: 'rate',
  rtcMs: 'to',
  'prescription.doseNgPerDay': 'prescription.dose',
  'ptm.bolusDoseNg': 'ptm.bolusDose',
  'ptm.bolusesPer24hMax': 'ptm.maxPer24h',
  'ptm.bolusDurationMs': 'ptm.bolusDuration',
  'ptm.lockoutMs': 'ptm.lockout',
};

/**
 * A firmware field of a command as the scenario spells it: `mixture[0].concentration` for
 * `mixture[0].concentrationUgPerMl`, `ptm.maxPer24h` for `ptm.bolusesPer24hMax`, and so on; a
 * field with no scenario name comes back as it is. Shared by the set-up's and the timeline's
 * messages (`scenarioFieldOf` in runner.ts, `timelineFieldOf`).
 */
export function scenarioNameOf(field: string): string {
  const m = /^mixture\[(\d+)\]\.(drug|concentrationUgPerMl)/.exec(field);
  if (m) return `mixture[${m[1]}].${m[2] === 'drug' ? 'drug' : 'concentration'}`;
  return scenarioNames[field] ?? field;
}

/** `.mixture[0].concentration` after `timeline[i].refill`, and so on; '' for the command itself. */
export function timelineFieldOf(command: string, field: string): string {
  // A command's own fields come as `clinicianBolus.durationMs`: the action key is already there.
  const own = field.replace(/^(clinicianBolus|primingBolus|refill|setClock)\./, '');
  if (own === '' || own === command) return '';
  return `.${scenarioNameOf(own)}`;
}

/** The refusals among `records`, the log records the timeline event at `index` produced. */
export function timelineRefusalsOf(
  e: TimelineEvent,
  index: number,
  records: readonly LogRecord[],
): TimelineRefusal[] {
  const found: TimelineRefusal[] = [];
  for (const r of records) {
    if (r.type !== 'refused') continue;
    const action = timelineActionOf(e);
    found.push({
      atMs: r.atMs,
      event: index,
      action,
      field: `timeline[${index}].${action}${timelineFieldOf(r.command, r.field)}`,
      value: r.value,
      limit: r.limit,
      message: r.message.startsWith(`${r.field}: `)
        ? r.message.slice(r.field.length + 2)
        : r.message,
    });
  }
  return found;
}

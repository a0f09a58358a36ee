/**
 * The run summary: what the pump did, per drug and per press, in firmware units, plus a readable
 * rendering. Built from the pump's own event log and accounting, and the simulated truth.
 */
import { alarmCatalogue, type AlarmCode } from '../src/alarms.js';
import type { DenyReason } from '../src/pump/types.js';
import { denyReasons } from '../src/pump/types.js';
import { missedNl } from '../src/pump/decide.js';
import { formatDoseNg, formatMl, formatTimeMs, PG_PER_NG } from '../src/units.js';
import type { Simulation } from './runner.js';

export interface DrugSummary {
  drug: string;
  /** Dose programmed (basal + boluses granted), from the pump's programmed volume. */
  programmedNg: number;
  /** Dose that left the pump by the pump's accounting (strokes × nominal stroke volume). */
  deliveredNg: number;
  /** Dose that truly left the pump (simulated truth). */
  trueDeliveredNg: number;
}

export interface Summary {
  scenario: string;
  seed: number;
  simulatedMs: number;
  wallTimeMs: number;
  controllerEvents: number;
  drugs: DrugSummary[];
  presses: { requested: number; granted: number; denied: number; deniedByReason: Record<DenyReason, number> };
  boluses: { patient: number; clinician: number };
  alarms: { code: AlarmCode; priority: string; raisedAtMs: number; clearedAtMs: number | null }[];
  refills: number;
  refusals: number;
  reservoir: { estimateNl: number; trueNl: number; ranDryAtMs: number | null };
  missedNl: number;
  finalState: { therapy: string; motor: string; alarms: string };
}

const ng = (pg: number) => Math.round(pg / PG_PER_NG);

export function buildSummary(sim: Simulation, wallTimeMs: number): Summary {
  const events = sim.events;
  const c = sim.controller.context;
  const deniedByReason = Object.fromEntries(denyReasons.map((r) => [r, 0])) as Record<DenyReason, number>;
  let granted = 0;
  const alarms: Summary['alarms'] = [];
  const boluses = { patient: 0, clinician: 0 };
  for (const e of events) {
    if (e.type === 'pressGranted') granted++;
    else if (e.type === 'pressDenied') deniedByReason[e.reason]++;
    else if (e.type === 'bolusStarted') boluses[e.kind]++;
    else if (e.type === 'alarmRaised') alarms.push({ code: e.code, priority: alarmCatalogue[e.code].priority, raisedAtMs: e.atMs, clearedAtMs: null });
    else if (e.type === 'alarmCleared') {
      const open = alarms.find((a) => a.code === e.code && a.clearedAtMs === null);
      if (open) open.clearedAtMs = e.atMs;
    }
  }
  const denied = Object.values(deniedByReason).reduce((a, b) => a + b, 0);
  const drugNames = [...new Set([...sim.programmedDosesPg().keys(), ...sim.deliveredPg.keys()])];
  return {
    scenario: sim.scenario.name,
    seed: sim.seed,
    simulatedMs: sim.clock.nowMs(),
    wallTimeMs: Math.round(wallTimeMs * 10) / 10,
    controllerEvents: sim.controller.handled,
    drugs: drugNames.map((drug) => ({
      drug,
      programmedNg: ng(sim.programmedDosesPg().get(drug) ?? 0),
      deliveredNg: ng(sim.deliveredPg.get(drug) ?? 0),
      trueDeliveredNg: ng(sim.trueDeliveredPg.get(drug) ?? 0),
    })),
    presses: { requested: granted + denied, granted, denied, deniedByReason },
    boluses,
    alarms,
    refills: events.filter((e) => e.type === 'refill').length,
    refusals: events.filter((e) => e.type === 'refused').length,
    reservoir: { estimateNl: sim.reservoirEstimateNl(), trueNl: sim.motor.trueReservoirNl, ranDryAtMs: sim.motor.ranDryAtMs ?? null },
    missedNl: missedNl(c),
    finalState: sim.controller.state,
  };
}

export function formatSummary(s: Summary): string {
  const lines: string[] = [];
  lines.push(`${s.scenario}: ${formatTimeMs(s.simulatedMs)} simulated in ${s.wallTimeMs} ms (${s.controllerEvents} controller events)`);
  lines.push('');
  lines.push('drug          programmed     delivered (pump)  delivered (true)');
  for (const d of s.drugs) {
    lines.push(`${d.drug.padEnd(13)} ${formatDoseNg(d.programmedNg).padStart(12)}  ${formatDoseNg(d.deliveredNg).padStart(15)}  ${formatDoseNg(d.trueDeliveredNg).padStart(15)}`);
  }
  lines.push('');
  const reasons = Object.entries(s.presses.deniedByReason).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${n}`).join(', ');
  lines.push(`patient presses: ${s.presses.requested} requested, ${s.presses.granted} granted, ${s.presses.denied} denied${reasons ? ` (${reasons})` : ''}`);
  lines.push(`boluses: ${s.boluses.patient} patient, ${s.boluses.clinician} clinician; refills: ${s.refills}; refused commands: ${s.refusals}`);
  lines.push(`alarms: ${s.alarms.length === 0 ? 'none' : ''}`);
  for (const a of s.alarms) lines.push(`  ${formatTimeMs(a.raisedAtMs)}  ${a.code} (${a.priority})${a.clearedAtMs !== null ? `, cleared ${formatTimeMs(a.clearedAtMs)}` : ''}`);
  lines.push(`reservoir at end: estimate ${formatMl(s.reservoir.estimateNl)}, true ${formatMl(s.reservoir.trueNl)}${s.reservoir.ranDryAtMs !== null ? `; truly ran dry at ${formatTimeMs(s.reservoir.ranDryAtMs)}` : ''}`);
  if (s.missedNl > 0) lines.push(`volume not delivered (motor faults): ${formatMl(s.missedNl)}`);
  lines.push(`final state: therapy ${s.finalState.therapy}, motor ${s.finalState.motor}, alarms ${s.finalState.alarms}`);
  return lines.join('\n');
}

/**
 * The run summary: what the pump did, per drug and per press, in firmware units, plus a readable
 * rendering. Built from the pump's own event log and accounting, and the simulated truth.
 *
 * The drug path (docs/drug-path.md §7) adds, per drug, what reached the patient (through the
 * catheter tip, and under the skin from a pocket fill) beside what left the pump; when each new
 * mixture first reached the tip and when each drug first reached the patient; per mixture change,
 * the basal dose at the tip while the catheter cleared against what the programme meant, flagged
 * beyond ±10 %; priming boluses; pocket fills, the time the reservoir truly ran dry and the time
 * the pump's empty alarm sounded (or would sound, from its estimate at the current rate). A run
 * without the simulated path (the serial rig) has none of these fields.
 */
import type { FlowCheckSummary } from './rig/flowCheck.js';
import { alarmCatalogue, type AlarmCode } from '../src/alarms.js';
import type { DenyReason } from '../src/pump/types.js';
import { denyReasons } from '../src/pump/types.js';
import { missedNl, programmeOf } from '../src/pump/decide.js';
import { ceilDiv } from '../src/dosing/catheter.js';
import { FINE_PER_NL, rateAt } from '../src/dosing/delivery.js';
import type { Mixture } from '../src/therapy/schema.js';
import {
  DAY_MS,
  formatConcentration,
  formatDoseNg,
  formatMl,
  formatTimeMs,
  HOUR_MS,
  MINUTE_MS,
  PG_PER_NG,
} from '../src/units.js';
import type { Controller } from '../src/controller.js';
import type { LogRecord } from '../src/eventLog.js';
import type { DrugPathTruth } from './drugPathTruth.js';
import type { Scenario } from './scenario.js';
import type { TimelineRefusal } from './timelineRefusals.js';

/** What a summary reads of a finished run (a `Simulation` of sim/runner.ts is one). */
export interface FinishedRun {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly clock: { nowMs(): number };
  readonly controller: Controller;
  readonly motor: { readonly trueReservoirNl: number; readonly ranDryAtMs?: number | undefined };
  readonly events: readonly LogRecord[];
  readonly drugPath: DrugPathTruth | undefined;
  readonly deliveredPg: ReadonlyMap<string, number>;
  readonly trueDeliveredPg: ReadonlyMap<string, number>;
  readonly timelineRefusals: readonly TimelineRefusal[];
  readonly droppedTimeline: readonly { index: number; atMs: number }[];
  readonly interruptedAtMs: number | undefined;
  programmedDosesPg(): Map<string, number>;
  reservoirEstimateNl(): number;
}

export interface DrugSummary {
  drug: string;
  /** Dose programmed (basal + boluses granted), from the pump's programmed volume. */
  programmedNg: number;
  /** Dose that left the pump by the pump's accounting (strokes × nominal stroke volume). */
  deliveredNg: number;
  /** Dose that truly left the pump (simulated truth). */
  trueDeliveredNg: number;
}

/** Per drug, what reached the patient (simulated truth): what left the pump is in `DrugSummary`. */
export interface DrugAtPatient {
  drug: string;
  /** Through the catheter tip: the intrathecal dose. */
  tipNg: number;
  /** Under the skin, from pocket fills. */
  subcutaneousNg: number;
  /** Held in the tubing and catheter at the end of the run. */
  inCatheterNg: number;
}

/** Per drug, a mixture change's clearing window: the dose at the tip against what the programme meant. */
export interface DrugChangeDose {
  drug: string;
  /** Basal volume's dose at the tip between the refill and the new mixture's arrival, and what the programme meant it to be. */
  basalTipNg: number;
  basalIntendedNg: number;
  /** The same for patient and clinician boluses in the window (sized on the reservoir's mixture). */
  bolusTipNg: number;
  bolusIntendedNg: number;
  /**
   * The basal transient: beyond ±10 % of what was meant is an under- or overdose at the tip; above
   * what was meant but within 10 % of what the old rate would have given over the window, a
   * washout (the old drug clearing at or below its old dose rate: no more than before the change).
   */
  flag: 'ok' | 'underdose' | 'overdose' | 'washout';
  /** What the old prescription and mixture would have given at the tip over the window. */
  basalOldRateNg: number;
}

export interface DrugPathSummary {
  /** Tubing + catheter volume of the simulated path. */
  deadVolumeNl: number;
  /** Whether the pump has the catheter recorded (it bridges and primes only then). */
  recorded: boolean;
  /** Per drug, in the order of `Summary.drugs`. */
  drugs: DrugAtPatient[];
  /** Each new fluid's first arrival at the tip: a new mixture, a prime's mixing zone. */
  newMixtureAtTip: { atMs: number; label: string; mixture: Mixture; changedAtMs: number }[];
  /** Each drug's first arrival at the tip (the patient's first intrathecal dose of it in this run). */
  drugFirstAtTip: { drug: string; atMs: number }[];
  changes: {
    atMs: number;
    label: string;
    mixture: Mixture;
    bridged: boolean;
    newMixtureAtTipMs: number | null;
    drugs: DrugChangeDose[];
  }[];
  primingBoluses: {
    atMs: number;
    volumeNl: number;
    mixing: boolean;
    drugFirstAtTipMs: number | null;
    fullStrengthAtTipMs: number | null;
  }[];
  pocketFills: { atMs: number; volumeNl: number; drugs: { drug: string; ng: number }[] }[];
}

export interface Summary {
  scenario: string;
  seed: number;
  simulatedMs: number;
  /** Present when a signal interrupted the run: the virtual time it stopped the pump at. */
  interruptedAtMs?: number;
  wallTimeMs: number;
  controllerEvents: number;
  drugs: DrugSummary[];
  presses: {
    requested: number;
    granted: number;
    denied: number;
    deniedByReason: Record<DenyReason, number>;
  };
  boluses: { patient: number; clinician: number };
  alarms: { code: AlarmCode; priority: string; raisedAtMs: number; clearedAtMs: number | null }[];
  /** Refills after the initial fill (the set-up's fill is not a refill). */
  refills: number;
  refusals: number;
  /** The timeline commands the pump refused, each under its YAML path, with the pump's reason. */
  refusedCommands: {
    at: string;
    field: string;
    value: string;
    limit: string;
    message: string;
  }[];
  /** Timeline events at a time after the scenario's end, which the run never reached. */
  eventsAfterEnd: { path: string; at: string; end: string }[];
  reservoir: {
    estimateNl: number;
    trueNl: number;
    ranDryAtMs: number | null;
    /** The empty alarm after the last pocket fill: when it sounded, or when the estimate would reach the threshold at the rate in force. */
    emptyAlarmAtMs?: number | null;
    emptyAlarmProjected?: boolean;
  };
  drugPath?: DrugPathSummary;
  missedNl: number;
  finalState: { therapy: string; motor: string; alarms: string };
  /** A run on a rig: the balance's check of every reported batch (sim/rig/flowCheck.ts). */
  flowCheck?: FlowCheckSummary;
}

const ng = (pg: number) => Math.round(pg / PG_PER_NG);

/** "11 h 17 min 10 s", "39 d 06 h 00 min": a span between two events for people. */
export function formatSpanMs(ms: number): string {
  const d = Math.floor(ms / DAY_MS);
  const h = Math.floor((ms % DAY_MS) / HOUR_MS);
  const m = Math.floor((ms % HOUR_MS) / MINUTE_MS);
  const sec = Math.floor((ms % MINUTE_MS) / 1_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return d > 0 ? `${d} d ${pad(h)} h ${pad(m)} min` : `${h} h ${pad(m)} min ${pad(sec)} s`;
}

/** One line per timeline command the pump refused and per event after the end (`run`, `validate`). */
export function notRunLines(s: Pick<Summary, 'refusedCommands' | 'eventsAfterEnd'>): string[] {
  return [
    ...s.refusedCommands.map(
      (r) => `  refused at ${r.at}: ${r.field}: ${r.message} (value ${r.value}; limit ${r.limit})`,
    ),
    ...s.eventsAfterEnd.map(
      (d) => `  not run: ${d.path} at ${d.at} is after the scenario's end at ${d.end}`,
    ),
  ];
}

/** A drug change's flag in the text summary. */
function flagText(d: DrugChangeDose): string {
  if (d.flag === 'ok') return 'ok';
  if (d.flag === 'washout')
    return `washout (the old drug clearing at or below its old rate: ${formatDoseNg(d.basalOldRateNg)} over the window)`;
  return `${d.flag.toUpperCase()} (beyond ±${transientTolerancePercent} %)`;
}

/** Beyond this share of what was meant, the basal dose at the tip during a drug change is flagged. */
export const transientTolerancePercent = 10;

function flagOf(tipPg: number, intendedPg: number, oldRatePg: number): DrugChangeDose['flag'] {
  const over =
    intendedPg <= 0
      ? tipPg > PG_PER_NG
      : tipPg * 100 > intendedPg * (100 + transientTolerancePercent);
  if (over)
    return tipPg * 100 <= oldRatePg * (100 + transientTolerancePercent) ? 'washout' : 'overdose';
  if (intendedPg > 0 && tipPg * 100 < intendedPg * (100 - transientTolerancePercent))
    return 'underdose';
  return 'ok';
}

function drugPathSummary(
  truth: DrugPathTruth,
  recorded: boolean,
  drugNames: readonly string[],
  endMs: number,
): DrugPathSummary {
  const arrivalOf = (label: string) => truth.arrivals.find((a) => a.label === label)?.atMs ?? null;
  const inPath = truth.inPathPg();
  return {
    deadVolumeNl: truth.path.deadVolumeNl,
    recorded,
    drugs: drugNames.map((drug) => ({
      drug,
      tipNg: ng(truth.tipPg.get(drug) ?? 0),
      subcutaneousNg: ng(truth.subcutaneousPg.get(drug) ?? 0),
      inCatheterNg: ng(inPath.get(drug) ?? 0),
    })),
    newMixtureAtTip: truth.arrivals.map((a) => ({
      atMs: a.atMs,
      label: a.label,
      mixture: a.mixture.map((d) => ({ ...d })),
      changedAtMs: a.changedAtMs,
    })),
    drugFirstAtTip: [...truth.firstAtTip].map(([drug, atMs]) => ({ drug, atMs })),
    changes: truth.windows.map((w) => {
      const drugs = [
        ...new Set([
          ...w.basalIntendedPg.keys(),
          ...w.basalTipPg.keys(),
          ...w.bolusTipPg.keys(),
          ...w.bolusIntendedPg.keys(),
        ]),
      ];
      return {
        atMs: w.atMs,
        label: w.label,
        mixture: w.mixture,
        bridged: w.bridged,
        newMixtureAtTipMs: w.arrivedAtMs ?? null,
        drugs: drugs.map((drug) => {
          const tip = w.basalTipPg.get(drug) ?? 0;
          const intended = w.basalIntendedPg.get(drug) ?? 0;
          const windowMs = (w.arrivedAtMs ?? endMs) - w.atMs;
          const oldRate = ((w.oldDailyPg.get(drug) ?? 0) * windowMs) / DAY_MS;
          return {
            drug,
            basalTipNg: ng(tip),
            basalIntendedNg: ng(intended),
            bolusTipNg: ng(w.bolusTipPg.get(drug) ?? 0),
            bolusIntendedNg: ng(w.bolusIntendedPg.get(drug) ?? 0),
            flag: flagOf(tip, intended, oldRate),
            basalOldRateNg: ng(oldRate),
          };
        }),
      };
    }),
    primingBoluses: truth.primes.map((p) => ({
      atMs: p.atMs,
      volumeNl: p.volumeNl,
      mixing: p.mixing,
      drugFirstAtTipMs: p.mixing ? arrivalOf(p.zoneLabel) : arrivalOf(p.fillLabel),
      fullStrengthAtTipMs: arrivalOf(p.fillLabel),
    })),
    pocketFills: truth.pocketFills.map((f) => ({
      atMs: f.atMs,
      volumeNl: f.volumeNl,
      drugs: [...f.dosesPg].map(([drug, pg]) => ({ drug, ng: ng(pg) })),
    })),
  };
}

/**
 * After a pocket fill, when the pump's empty alarm sounded (its first `emptyReservoir` alarm after
 * the fill) or, if it has not yet, when the estimate reaches the empty threshold at the rate now in
 * force (null when nothing is delivered).
 */
function emptyAlarm(
  sim: FinishedRun,
  sinceMs: number,
): { atMs: number | null; projected: boolean } {
  const raised = sim.events.find(
    (e) => e.type === 'alarmRaised' && e.code === 'emptyReservoir' && e.atMs >= sinceMs,
  );
  if (raised) return { atMs: raised.atMs, projected: false };
  const c = sim.controller.context;
  const nowMs = sim.clock.nowMs();
  const leftNl = sim.reservoirEstimateNl() - c.config.emptyReservoirNl;
  if (leftNl <= 0) return { atMs: nowMs, projected: true };
  const { rateNlPerDay } = rateAt(programmeOf(c), nowMs);
  if (rateNlPerDay <= 0) return { atMs: null, projected: true };
  return { atMs: nowMs + ceilDiv(leftNl * FINE_PER_NL, rateNlPerDay), projected: true };
}

/** Presses granted and denied (by reason), boluses by kind and the alarms raised, from the log. */
function tallyEvents(events: FinishedRun['events']) {
  const deniedByReason = Object.fromEntries(denyReasons.map((r) => [r, 0])) as Record<
    DenyReason,
    number
  >;
  let granted = 0;
  const alarms: Summary['alarms'] = [];
  const boluses = { patient: 0, clinician: 0 };
  for (const e of events) {
    if (e.type === 'pressGranted') granted++;
    else if (e.type === 'pressDenied') deniedByReason[e.reason]++;
    else if (e.type === 'bolusStarted' && e.kind !== 'priming') boluses[e.kind]++;
    else if (e.type === 'alarmRaised')
      alarms.push({
        code: e.code,
        priority: alarmCatalogue[e.code].priority,
        raisedAtMs: e.atMs,
        clearedAtMs: null,
      });
    else if (e.type === 'alarmCleared') {
      const open = alarms.find((a) => a.code === e.code && a.clearedAtMs === null);
      if (open) open.clearedAtMs = e.atMs;
    }
  }
  return { deniedByReason, granted, alarms, boluses };
}

export function buildSummary(sim: FinishedRun, wallTimeMs: number): Summary {
  const events = sim.events;
  const c = sim.controller.context;
  const { deniedByReason, granted, alarms, boluses } = tallyEvents(events);
  const denied = Object.values(deniedByReason).reduce((a, b) => a + b, 0);
  const truth = sim.drugPath;
  const drugNames = [
    ...new Set([
      ...sim.programmedDosesPg().keys(),
      ...sim.deliveredPg.keys(),
      ...(truth ? truth.tipPg.keys() : []),
    ]),
  ];
  const lastPocketFill = truth?.pocketFills.at(-1);
  const alarm = lastPocketFill ? emptyAlarm(sim, lastPocketFill.atMs) : undefined;
  return {
    scenario: sim.scenario.name,
    seed: sim.seed,
    simulatedMs: sim.clock.nowMs(),
    ...(sim.interruptedAtMs !== undefined ? { interruptedAtMs: sim.interruptedAtMs } : {}),
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
    // The set-up always logs one refill record, the initial fill (a refused one ends the set-up).
    refills: Math.max(0, events.filter((e) => e.type === 'refill').length - 1),
    refusals: events.filter((e) => e.type === 'refused').length,
    refusedCommands: sim.timelineRefusals.map((r) => ({
      at: formatTimeMs(r.atMs),
      field: r.field,
      value: r.value,
      limit: r.limit,
      message: r.message,
    })),
    eventsAfterEnd: sim.droppedTimeline.map((d) => ({
      path: `timeline[${d.index}]`,
      at: formatTimeMs(d.atMs),
      end: formatTimeMs(sim.scenario.duration),
    })),
    reservoir: {
      estimateNl: sim.reservoirEstimateNl(),
      trueNl: sim.motor.trueReservoirNl,
      ranDryAtMs: sim.motor.ranDryAtMs ?? null,
      ...(alarm ? { emptyAlarmAtMs: alarm.atMs, emptyAlarmProjected: alarm.projected } : {}),
    },
    ...(truth
      ? {
          drugPath: drugPathSummary(
            truth,
            c.config.catheterLengthCm !== undefined || c.config.pumpTubingVolumeNl !== undefined,
            drugNames,
            sim.clock.nowMs(),
          ),
        }
      : {}),
    missedNl: missedNl(c),
    finalState: sim.controller.state,
  };
}

/** "1 controller event", "2 controller events". */
function counted(n: number, one: string): string {
  return `${n} ${n === 1 ? one : `${one}s`}`;
}

/**
 * Columns of figures under their titles: the first (a name) to the left, the others to the
 * right, so each title ends where its figures do; two spaces between columns.
 */
export function alignedTable(titles: readonly string[], rows: readonly string[][]): string[] {
  const widths = titles.map((t, i) => Math.max(t.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(titles), ...rows.map(line)];
}

/** The rig's flow check in one line: passed (how close it came), failed (where), or not made. */
function flowCheckLine(f: FlowCheckSummary): string {
  return f.failure !== null
    ? `flow check: FAILED at ${formatTimeMs(f.failure.timeMs)} (the balance ${f.failure.side === 'high' ? 'above' : 'below'} the reported strokes); delivery stopped there`
    : f.readings === 0
      ? 'flow check: not made (no balance reading came; a rig without a balance cannot be checked)'
      : `flow check: ${counted(f.readings, 'balance reading')} within ±${f.tolerancePercent} % of the reported strokes${f.marginNl !== null ? ` (closest ${formatMl(f.marginNl)} from the band's edge)` : ''}`;
}

export function formatSummary(s: Summary): string {
  const lines: string[] = [];
  lines.push(
    `${s.scenario}: ${formatTimeMs(s.simulatedMs)} simulated in ${s.wallTimeMs} ms (${counted(s.controllerEvents, 'controller event')})`,
  );
  if (s.interruptedAtMs !== undefined)
    lines.push(
      `interrupted at ${formatTimeMs(s.interruptedAtMs)}: the pump was stopped there and the running batch accounted`,
    );
  lines.push('');
  const path = s.drugPath;
  const titles = ['drug', 'programmed', 'delivered (pump)', 'delivered (true)'];
  if (path) titles.push('reached patient', 'in catheter');
  const rows = s.drugs.map((d) => {
    const at = path?.drugs.find((x) => x.drug === d.drug);
    const reached = at
      ? [formatDoseNg(at.tipNg + at.subcutaneousNg), formatDoseNg(at.inCatheterNg)]
      : path
        ? ['', '']
        : [];
    const doses = [d.programmedNg, d.deliveredNg, d.trueDeliveredNg].map(formatDoseNg);
    return [d.drug, ...doses, ...reached];
  });
  lines.push(...alignedTable(titles, rows));
  lines.push('');
  if (path) lines.push(...formatDrugPath(path));
  const reasons = Object.entries(s.presses.deniedByReason)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  lines.push(
    `patient presses: ${s.presses.requested} requested, ${s.presses.granted} granted, ${s.presses.denied} denied${reasons ? ` (${reasons})` : ''}`,
  );
  lines.push(
    `boluses: ${s.boluses.patient} patient, ${s.boluses.clinician} clinician; refills: ${s.refills}; refused commands: ${s.refusals}`,
  );
  lines.push(...notRunLines(s));
  lines.push(`alarms: ${s.alarms.length === 0 ? 'none' : ''}`);
  for (const a of s.alarms)
    lines.push(
      `  ${formatTimeMs(a.raisedAtMs)}  ${a.code} (${a.priority})${a.clearedAtMs !== null ? `, cleared ${formatTimeMs(a.clearedAtMs)}` : ''}`,
    );
  lines.push(
    `reservoir at end: estimate ${formatMl(s.reservoir.estimateNl)}, true ${formatMl(s.reservoir.trueNl)}${s.reservoir.ranDryAtMs !== null ? `; truly ran dry at ${formatTimeMs(s.reservoir.ranDryAtMs)}` : ''}`,
  );
  if (s.reservoir.emptyAlarmAtMs !== undefined) {
    const at = s.reservoir.emptyAlarmAtMs;
    const when =
      at === null
        ? 'never at the rate in force'
        : `${s.reservoir.emptyAlarmProjected ? 'would sound' : 'sounded'} at ${formatTimeMs(at)}`;
    const late =
      at !== null && s.reservoir.ranDryAtMs !== null && at > s.reservoir.ranDryAtMs
        ? `, ${formatSpanMs(at - s.reservoir.ranDryAtMs)} after the reservoir truly ran dry`
        : '';
    lines.push(`empty alarm after the pocket fill: ${when}${late}`);
  }
  if (s.missedNl > 0) lines.push(`volume not delivered (motor faults): ${formatMl(s.missedNl)}`);
  if (s.flowCheck !== undefined) lines.push(flowCheckLine(s.flowCheck));
  lines.push(
    `final state: therapy ${s.finalState.therapy}, motor ${s.finalState.motor}, alarms ${s.finalState.alarms}`,
  );
  return lines.join('\n');
}

/** The drug-path part of the readable summary. */
function formatDrugPath(p: DrugPathSummary): string[] {
  const lines: string[] = [];
  const mix = (m: Mixture) =>
    m.map((d) => `${d.drug} ${formatConcentration(d.concentrationUgPerMl)}`).join(' + ');
  lines.push(
    `drug path: ${formatMl(p.deadVolumeNl)} of tubing and catheter${p.recorded ? '' : ' (not recorded in the pump)'}`,
  );
  const firstAt = new Map(p.drugFirstAtTip.map((d) => [d.drug, d.atMs]));
  for (const c of p.changes) {
    const arrival =
      c.newMixtureAtTipMs === null
        ? 'had not reached the tip by the end'
        : `reached the tip at ${formatTimeMs(c.newMixtureAtTipMs)} (${formatSpanMs(c.newMixtureAtTipMs - c.atMs)} later)`;
    lines.push(
      `  drug change at ${formatTimeMs(c.atMs)} (${c.bridged ? 'bridged' : 'no bridge'}): ${mix(c.mixture)} ${arrival}`,
    );
    for (const d of c.mixture) {
      const at = firstAt.get(d.drug);
      if (at !== undefined && at >= c.atMs)
        lines.push(`    ${d.drug} first reached the patient at ${formatTimeMs(at)}`);
    }
    for (const d of c.drugs) {
      const bolus =
        d.bolusIntendedNg > 0
          ? `; boluses ${formatDoseNg(d.bolusTipNg)} of ${formatDoseNg(d.bolusIntendedNg)}`
          : '';
      lines.push(
        `    ${d.drug.padEnd(12)} basal at the tip ${formatDoseNg(d.basalTipNg)} of ${formatDoseNg(d.basalIntendedNg)} meant: ${flagText(d)}${bolus}`,
      );
    }
  }
  for (const b of p.primingBoluses) {
    const first =
      b.drugFirstAtTipMs === null
        ? 'no drug at the tip yet'
        : `drug first at the tip ${formatTimeMs(b.drugFirstAtTipMs)}`;
    const full =
      b.fullStrengthAtTipMs === null
        ? 'not yet at full strength'
        : `full strength ${formatTimeMs(b.fullStrengthAtTipMs)}`;
    lines.push(
      `  priming bolus at ${formatTimeMs(b.atMs)}: ${formatMl(b.volumeNl)}${b.mixing ? '' : ' (plug flow)'}; ${first}, ${full}`,
    );
  }
  for (const f of p.pocketFills) {
    lines.push(
      `  POCKET FILL at ${formatTimeMs(f.atMs)}: ${formatMl(f.volumeNl)} under the skin (${f.drugs.map((d) => `${d.drug} ${formatDoseNg(d.ng)}`).join(', ')})`,
    );
  }
  lines.push('');
  return lines;
}

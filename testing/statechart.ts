/**
 * Statechart coverage: does a set of representative events drive the real `pumpMachine` through
 * every state node and every transition of its definition?
 *
 * Method (docs/testing.md):
 * 1. Inventory: every state node id and every transition definition (each `on` handler, in order,
 *    and each `always` branch) is read from the machine definition itself, so a state or
 *    transition added to src/machine.ts is inventoried without touching this file.
 * 2. Exploration: `getAdjacencyMap` from `xstate/graph` traverses the machine breadth first with
 *    events built from each snapshot (every event carries `nowMs`; a motor report names the batch
 *    in flight, a wake comes at the controller's own next deadline). States are told apart by an
 *    abstraction (state value, which therapy is in force, the bolus, the batch, the stall, the
 *    latched alarms, the reservoir band, the lockout), so the graph is finite.
 * 3. Attribution: each edge of the graph is replayed on an actor restored from its source
 *    snapshot with an `inspect` observer; the `@xstate.microstep` inspection events name the
 *    transition definitions taken, `always` transitions included.
 * A state node never active in any explored snapshot, or a transition never taken, is reported;
 * the test asserts both lists are empty, so one becoming unreachable fails it.
 * (`createTestModel` is not used: it only validates; the machine has guards over context that
 * `getShortestPaths` handles the same way through the adjacency map.)
 */
import {
  createActor,
  type AnyStateMachine,
  type AnyTransitionDefinition,
  type EventObject,
  type SnapshotFrom,
  type StateValue,
} from 'xstate';
import { getAdjacencyMap, getStateNodes } from 'xstate/graph';
import { initialContext } from '../src/controller.js';
import { strokesLeftBy } from '../hal/sim/strokeClock.js';
import { pumpMachine } from '../src/machine.js';
import { nextDeadlineMs, type MotorRegion } from '../src/pump/deadlines.js';
import { pressDenial } from '../src/pump/decide.js';
import type { PumpContext, PumpEvent, RestoredState } from '../src/pump/types.js';
import type { Bridge, DrugLibrary, Mixture, PumpConfig } from '../src/therapy/schema.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, NL_PER_ML } from '../src/units.js';

export interface TransitionInfo {
  /** "pump.therapy.infusing.basal on hal.button.pressed #0 [pressGranted] → patientBolus" */
  id: string;
  source: string;
  event: string;
  definition: AnyTransitionDefinition;
}

/** Every state node id and every transition definition of a machine. */
export function statechartInventory(machine: AnyStateMachine): {
  stateIds: string[];
  transitions: TransitionInfo[];
} {
  const nodes = [machine.root, ...getStateNodes(machine.root)];
  const transitions: TransitionInfo[] = [];
  const describe = (t: AnyTransitionDefinition, i: number, event: string) => {
    const guard =
      t.guard === undefined
        ? ''
        : ` [${typeof t.guard === 'string' ? t.guard : typeof t.guard === 'object' && t.guard !== null && 'type' in t.guard ? String(t.guard.type) : 'inline'}]`;
    const target = t.target?.length ? ` → ${t.target.map((n) => n.key).join(', ')}` : '';
    return `${t.source.id} on ${event} #${i}${guard}${target}`;
  };
  for (const node of nodes) {
    for (const [event, list] of node.transitions)
      list.forEach((t, i) =>
        transitions.push({ id: describe(t, i, event), source: node.id, event, definition: t }),
      );
    (node.always ?? []).forEach((t, i) =>
      transitions.push({
        id: describe(t, i, 'always'),
        source: node.id,
        event: 'always',
        definition: t,
      }),
    );
  }
  return { stateIds: nodes.map((n) => n.id), transitions };
}

export interface CoverageReport {
  statesTotal: number;
  transitionsTotal: number;
  abstractStates: number;
  edges: number;
  missingStates: string[];
  missingTransitions: string[];
}

export interface ExploreOptions<TEvent extends EventObject, TInput> {
  input: TInput;
  events: (snapshot: SnapshotFrom<AnyStateMachine>) => readonly TEvent[];
  serializeState: (snapshot: SnapshotFrom<AnyStateMachine>) => string;
  /** Upper bound on the states visited by the traversal (it throws beyond). */
  limit?: number;
  /**
   * Events the machine raises itself (never sent from outside): any event may lead to them, so
   * their handlers count as candidates of every edge.
   */
  raised?: readonly string[];
}

/** Explore a machine with `xstate/graph` and report the state nodes and transitions never reached. */
export function statechartCoverage<TEvent extends EventObject, TInput>(
  machine: AnyStateMachine,
  options: ExploreOptions<TEvent, TInput>,
): CoverageReport {
  const { stateIds, transitions } = statechartInventory(machine);
  const byDefinition = new Map<AnyTransitionDefinition, string>(
    transitions.map((t) => [t.definition, t.id]),
  );
  const taken = new Set<string>();
  const active = new Set<string>();
  const adjacency = getAdjacencyMap(machine, {
    input: options.input,
    events: options.events as never,
    serializeState: options.serializeState as never,
    serializeEvent: (e: EventObject) => JSON.stringify(e),
    limit: options.limit ?? 1_000_000,
  });
  let edges = 0;
  const activeIn = (snapshot: SnapshotFrom<AnyStateMachine>) =>
    stateIds.filter((id) => {
      const value = stateValueOf(id);
      return value === undefined || snapshot.matches(value as never);
    });
  const always = transitions.filter((t) => t.event === 'always');
  const raised = new Set(options.raised ?? []);
  const handles = (descriptor: string, type: string) =>
    descriptor === type ||
    descriptor === '*' ||
    (descriptor.endsWith('.*') && type.startsWith(descriptor.slice(0, -1)));
  for (const { state, transitions: out } of Object.values(adjacency)) {
    const source = state as SnapshotFrom<AnyStateMachine>;
    const activeIds = activeIn(source);
    for (const id of activeIds) active.add(id);
    for (const { event } of Object.values(out) as { event: EventObject }[]) {
      edges++;
      // An event can only take a handler of the active nodes, then `always` branches and the
      // handlers of raised events: when all of those are already taken, replaying this edge
      // cannot add any.
      const candidates = transitions.filter(
        (t) =>
          t.event !== 'always' &&
          activeIds.includes(t.source) &&
          (handles(t.event, event.type) || raised.has(t.event)),
      );
      if ([...candidates, ...always].every((t) => taken.has(t.id))) continue;
      const actor = createActor(machine, {
        snapshot: state as never,
        inspect: (e) => {
          if (e.type !== '@xstate.microstep') return;
          for (const t of e._transitions) {
            const id = byDefinition.get(t);
            if (id) taken.add(id);
          }
        },
      });
      actor.start();
      actor.send(event);
      for (const id of activeIn(actor.getSnapshot())) active.add(id);
      actor.stop();
    }
  }
  // The initial snapshot's `always` transitions and entry are taken before any event.
  const initial = createActor(machine, {
    input: options.input,
    inspect: (e) => {
      if (e.type === '@xstate.microstep')
        for (const t of e._transitions) if (byDefinition.has(t)) taken.add(byDefinition.get(t)!);
    },
  });
  initial.start();
  initial.stop();
  return {
    statesTotal: stateIds.length,
    transitionsTotal: transitions.length,
    abstractStates: Object.keys(adjacency).length,
    edges,
    missingStates: stateIds.filter((id) => !active.has(id)),
    missingTransitions: transitions.map((t) => t.id).filter((id) => !taken.has(id)),
  };
}

/**
 * The partial state value that matches a node: `pump.therapy.infusing.basal` →
 * `{ therapy: { infusing: 'basal' } }`, `pump.therapy.infusing` → `{ therapy: 'infusing' }`
 * (active with any child), `pump.therapy` → `'therapy'`; undefined for the root (always active).
 */
function stateValueOf(id: string): StateValue | undefined {
  const path = id.split('.').slice(1);
  if (path.length === 0) return undefined;
  return path.slice(0, -1).reduceRight<StateValue>((v, k) => ({ [k]: v }), path.at(-1)!);
}

// ---------------------------------------------------------------------------------------------
// The pump's representative events and abstraction.

/** A small pump whose thresholds are a few strokes apart, so reservoir alarms are a few steps away. */
export const coverageConfig: PumpConfig = {
  model: 'coverage',
  reservoirCapacityNl: 20 * NL_PER_ML,
  strokeVolumeNl: 500,
  lowReservoirNl: 1_000,
  emptyReservoirNl: 500,
  safeMinimumRateNlPerDay: 48_000,
  stallRetryMs: 10 * MINUTE_MS,
  stallAttemptsMax: 1,
  refillDiscrepancyPercentMax: 20,
  // A recorded catheter, so a drug change bridges and a priming bolus is possible.
  pumpTubingVolumeNl: 1_000,
  catheterLengthCm: 10,
  catheterVolumeNlPerCm: 2_600,
  primingRateNlPerDay: 2 * NL_PER_ML,
};

const mixture: Mixture = [{ drug: 'morphine', concentrationUgPerMl: 10_000 }];
/** A drug change: a new concentration starts a bridge. */
const newMixture: Mixture = [{ drug: 'morphine', concentrationUgPerMl: 12_000 }];
const prescription = { mode: 'continuous', doseNgPerDay: 1_000_000 } as const;
const ptm = {
  bolusDoseNg: 100_000,
  bolusDurationMs: 10 * MINUTE_MS,
  lockoutMs: HOUR_MS,
  bolusesPer24hMax: 4,
};
const rtcMs = Date.UTC(2025, 0, 6);

/** A bridge of 10 µL at the old mixture's 0.1 mL/day, started at 0 (as a restart restores it). */
function bridge(): Bridge {
  const remainingFine = 10_000 * DAY_MS; // fine units: nL × DAY_MS
  return {
    startMs: 0,
    volumeNl: 10_000,
    steps: { startsMs: [0], ratesNlPerDay: [100_000] },
    oldMixture: mixture,
    remainingFine,
    anchorMs: 0,
    endMs: remainingFine / 100_000,
    pathMixture: [],
  };
}

function restored(
  therapy: RestoredState['therapy'],
  extra: Partial<PumpContext> = {},
  memoryError = false,
): RestoredState {
  return {
    context: {
      mixture,
      prescription,
      ptm,
      reservoirNl: 10 * NL_PER_ML,
      mode: therapy === 'infusing' ? 'basal' : therapy === 'minimumRate' ? 'minimum' : 'off',
      ...extra,
    },
    therapy,
    memoryError,
    inFlightStrokes: 0,
  };
}

/** The representative events from a snapshot of `pumpMachine`. */
export function pumpCoverageEvents(snapshot: SnapshotFrom<typeof pumpMachine>): PumpEvent[] {
  const c = snapshot.context;
  const now = c.nowMs;
  const at = <T extends object>(e: T, t = now) => ({ ...e, nowMs: t }) as unknown as PumpEvent;
  const events: PumpEvent[] = [];
  if (snapshot.matches({ therapy: 'startup' })) {
    const boot = {
      type: 'boot' as const,
      rtcMs,
      battery: 'ok' as const,
      lowBatteryReset: false,
      restored: undefined,
    };
    events.push(
      at(boot),
      at({ ...boot, battery: 'eos' }),
      at({ ...boot, lowBatteryReset: true }),
      at({ ...boot, restored: restored('infusing', {}, true) }),
      at({ ...boot, restored: restored('infusing') }),
      at({
        ...boot,
        restored: restored('infusing', {
          bolus: {
            kind: 'patient',
            startMs: 0,
            volumeNl: 10_000,
            rateNlPerDay: 1_440_000,
            endMs: 10 * MINUTE_MS,
          },
        }),
      }),
      at({
        ...boot,
        restored: restored('infusing', {
          bolus: {
            kind: 'clinician',
            startMs: 0,
            volumeNl: 10_000,
            rateNlPerDay: 1_440_000,
            endMs: 10 * MINUTE_MS,
          },
        }),
      }),
      at({
        ...boot,
        restored: restored('infusing', {
          bolus: {
            kind: 'priming',
            startMs: 0,
            volumeNl: 10_000,
            rateNlPerDay: 1_440_000,
            endMs: 10 * MINUTE_MS,
          },
        }),
      }),
      at({ ...boot, restored: restored('minimumRate') }),
      at({ ...boot, restored: restored('halted') }),
      // A reset during a drug change: the bridge comes back running, or paused (pump stopped).
      at({ ...boot, restored: restored('infusing', { mixture: newMixture, bridge: bridge() }) }),
      at({
        ...boot,
        restored: restored('stopped', {
          mixture: newMixture,
          bridge: { ...bridge(), pausedRateNlPerDay: 0 },
        }),
      }),
      at({ type: 'cmd.stop' }),
      at({ type: 'hal.button.pressed' }),
      at({ type: 'hal.battery.levelChanged', level: 'eos' }),
    );
    return events;
  }
  const motor = (snapshot.value as { motor: MotorRegion }).motor;
  const b = c.batch;
  // While a batch runs, time moves no further than its last stroke: the motor reports by then.
  // Once told to stop, it reports at once: time stands still until it does.
  const batchEndMs = !b
    ? Number.POSITIVE_INFINITY
    : motor === 'stopping'
      ? now
      : b.startMs + b.leadMs + (b.count - 1) * b.intervalMs;
  const until = (t: number) => Math.max(now, Math.min(t, batchEndMs));
  events.push(
    at({ type: 'hal.button.pressed' }),
    at({ type: 'cmd.refill', withdrawnNl: 0, addedNl: 10 * NL_PER_ML, mixture }),
    at({ type: 'cmd.refill', withdrawnNl: 0, addedNl: 1_500, mixture }),
    at({
      type: 'cmd.refill',
      withdrawnNl: 0,
      addedNl: 10 * NL_PER_ML,
      mixture: c.mixture?.[0]?.concentrationUgPerMl === 10_000 ? newMixture : mixture,
      confirm: true,
    }),
    at({
      type: 'cmd.refill',
      withdrawnNl: 0,
      addedNl: 10 * NL_PER_ML,
      mixture: c.mixture?.[0]?.concentrationUgPerMl === 10_000 ? newMixture : mixture,
      confirm: true,
      bridge: false,
    }),
    at({ type: 'cmd.primingBolus', confirm: true }),
    at({ type: 'cmd.program', prescription, ptm }),
    at({ type: 'cmd.program', prescription: { mode: 'continuous', doseNgPerDay: -1 } }),
    at({ type: 'cmd.clinicianBolus', doseNg: 50_000, durationMs: 10 * MINUTE_MS }),
    at({ type: 'cmd.clinicianBolus', doseNg: 0, durationMs: 10 * MINUTE_MS }),
    at({ type: 'cmd.stop' }),
    at({ type: 'cmd.resume' }),
    at({ type: 'cmd.clearAlarms' }),
    at({ type: 'cmd.setClock', rtcMs: rtcMs + HOUR_MS }),
    at({ type: 'hal.clock.wake' }, until(nextDeadlineMs(c, motor))),
    at({ type: 'hal.clock.wake' }, until(now + DAY_MS + HOUR_MS)),
  );
  // The end of a running bolus, even past the batch in flight (the abstraction does not see a
  // bolus progress batch by batch); a motor that reports late reports no more than it did.
  if (c.bolus && motor !== 'stopping')
    events.push(at({ type: 'hal.clock.wake' }, Math.max(now, c.bolus.endMs)));
  // Faults of the world arrive one at a time, from a pump with no alarm (keeps the graph small;
  // combinations of alarms come from the reservoir and the motor).
  if (c.alarms.length === 0)
    events.push(
      at({ type: 'hal.battery.levelChanged', level: 'eri' }),
      at({ type: 'hal.nvm.failed', what: 'write ledger' }),
    );
  if (
    c.battery !== 'eos' &&
    (c.alarms.length === 0 || snapshot.matches({ therapy: 'minimumRate' }))
  )
    events.push(at({ type: 'hal.battery.levelChanged', level: 'eos' }));
  if (b) {
    // What a motor can report: the whole batch at its end, a stall now, or (once told to stop) a stop now.
    if (motor === 'running')
      events.push(
        at(
          {
            type: 'hal.motor.batchEnded',
            batchId: b.batchId,
            strokesDone: b.count,
            reason: 'completed',
          },
          Math.max(now, batchEndMs),
        ),
      );
    events.push(
      at({
        type: 'hal.motor.batchEnded',
        batchId: b.batchId,
        strokesDone: strokesLeftBy(b, b.count, now),
        reason: 'stalled',
      }),
    );
    if (motor === 'stopping')
      events.push(
        at({
          type: 'hal.motor.batchEnded',
          batchId: b.batchId,
          strokesDone: strokesLeftBy(b, b.count, now),
          reason: 'stopped',
        }),
      );
    events.push(
      at({
        type: 'hal.motor.batchEnded',
        batchId: b.batchId + 1000,
        strokesDone: 0,
        reason: 'completed',
      }),
    );
  }
  return events;
}

/** The abstraction that keeps the pump's graph finite: what decides which transitions are enabled. */
export function pumpAbstractState(snapshot: SnapshotFrom<typeof pumpMachine>): string {
  const c = snapshot.context;
  // A halted pump stays halted: which therapy or alarms it halted with decides nothing more.
  if (snapshot.matches({ therapy: 'halted' }))
    return JSON.stringify({
      v: snapshot.value,
      batch: c.batch !== undefined,
      stall: c.stall !== undefined,
    });
  return JSON.stringify({
    v: snapshot.value,
    mode: c.mode,
    therapy: [c.mixture !== undefined, c.prescription !== undefined, c.ptm !== undefined],
    bolus: c.bolus?.kind,
    batch: c.batch ? c.batch.version === c.programmeVersion : undefined,
    stall: c.stall ? Math.min(c.stall.attempts, c.config.stallAttemptsMax) : 0,
    alarms: c.alarms.map((a) => a.code).sort(),
    eos: c.battery === 'eos',
    reservoir: c.reservoirNl > 3_000 ? 'plenty' : c.reservoirNl,
    // Whether a press now would be granted: the one thing lockout and the 24-hour count decide.
    grantable: pressDenial(c, c.nowMs) === undefined,
    // Whether the lockout outlasts the running bolus (a granted bolus) or not (a restored one).
    lockoutAhead: c.lockoutUntilMs > (c.bolus?.endMs ?? c.nowMs),
    bridge: c.bridge === undefined ? undefined : c.bridge.pausedRateNlPerDay !== undefined,
  });
}

/** Coverage of `pumpMachine` with the pump's representative events. */
export function pumpStatechartCoverage(
  machine: AnyStateMachine = pumpMachine,
  library?: DrugLibrary,
): CoverageReport {
  return statechartCoverage(machine, {
    input: initialContext(coverageConfig, library ?? defaultLibrary(), 0),
    events: pumpCoverageEvents as never,
    serializeState: pumpAbstractState as never,
    raised: ['motor.replan', 'path.flowing', 'path.waiting', 'path.unbridged'],
  });
}

function defaultLibrary(): DrugLibrary {
  return {
    name: 'coverage',
    drugs: [
      {
        drug: 'morphine',
        concentrationUgPerMlMax: 25_000,
        dailyDoseNgSoftMax: 10_000_000,
        dailyDoseNgHardMax: 20_000_000,
        bolusDoseNgSoftMax: 500_000,
        bolusDoseNgHardMax: 1_000_000,
      },
    ],
  };
}

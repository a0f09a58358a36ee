/**
 * The pump's statechart (XState v5).
 *
 * Three parallel regions, each owning what it shows:
 * - therapy: startup → stopped | infusing (basal, patient bolus, clinician bolus, priming bolus) |
 *   minimumRate | halted. Its state is the delivery mode: its entry actions set the programme.
 *   A critical alarm sends infusing to the safe minimum rate; battery end of service halts.
 * - motor: idle → running → (stopping) → idle, and stalled with timed retries. It plans on one
 *   internal event, `motor.replan`, which every decision that changes the context raises (and the
 *   clock's wake, since strokes fall due with time). XState handles raised events only after every
 *   eventless transition has settled, so the motor always plans on the programme the event leaves:
 *   no region keeps a list of the others' guards (FOUND-BUGS #11 came from such a list's absence).
 * - drugPath: unbridged | bridging (flowing, waiting): the bridge a refill with a new mixture opens
 *   (docs/drug-path.md §6). The bridge overrides the basal schedule with the old one; this region
 *   moves it along: a bolus started during it shortens it, therapy leaving the basal mode pauses
 *   it, coming back resumes it, and it ends when the pump estimates the new mixture has reached
 *   the catheter tip.
 * The alarms are not a region: they are the latched list in context, raised and cleared by the
 * decisions; what they show is `alarmLevel()` of that list (src/alarms.ts).
 *
 * The state tree holds no logic: every guard and action is named in `setup()` and calls a pure
 * function of src/pump/. Actions only assign what those functions return and emit their effects
 * (motor commands, tones, log records), which src/controller.ts carries out through the HAL.
 * Time is not read here: every event carries `nowMs`, stamped by the controller from the clock
 * port. Lockouts and 24-hour windows are absolute times in context, never XState `after` timers.
 */
import {
  emit,
  enqueueActions,
  setup,
  type ActionFunction,
  type ParameterizedObject,
  type ProvidedActor,
} from 'xstate';
import { isCritical } from './alarms.js';
import type { Step } from './pump/decide.js';
import * as d from './pump/decide.js';
import * as cmd from './pump/commands.js';
import type { DeliveryMode, Effect, PumpContext, PumpEvent } from './pump/types.js';

type Decision = (context: PumpContext, event: PumpEvent) => Step;

const types = {
  context: {} as PumpContext,
  events: {} as PumpEvent,
  input: {} as PumpContext,
  emitted: {} as Effect,
};

const typed = setup({ types });

/**
 * Did the step change the context beyond settling it up to the event? Time alone makes no stroke
 * due that the wake armed for it does not bring.
 */
function changedBeyondSettling(before: PumpContext, after: PumpContext): boolean {
  for (const key in after) {
    if (d.settledFields.has(key as keyof PumpContext)) continue;
    if (!Object.is(before[key as keyof PumpContext], after[key as keyof PumpContext])) return true;
  }
  return false;
}

type Replan = 'onChange' | 'always' | 'never';
type Enqueue = Parameters<Parameters<typeof typed.enqueueActions>[0]>[0]['enqueue'];

/**
 * Assign a decision's context and emit its effects, in that order. Unless it is the motor's own
 * planning, a decision that changed the context raises `motor.replan`: whatever changes the
 * programme, the reservoir, the alarms or the stall makes the motor plan again, by construction.
 * `'always'` is for the clock's wake, where time alone may make strokes due.
 */
function apply(
  step: Step,
  before: PumpContext,
  nowMs: number,
  enqueue: Enqueue,
  replan: Replan,
  raiseFirst?: PumpEvent,
) {
  enqueue.assign(() => step.ctx);
  for (const effect of step.effects) enqueue.emit(effect);
  if (raiseFirst) enqueue.raise(raiseFirst);
  if (replan === 'always' || (replan === 'onChange' && changedBeyondSettling(before, step.ctx)))
    enqueue.raise({ type: 'motor.replan', nowMs });
}

/**
 * The refill, decided once: besides its context and effects it raises what it did to the drug
 * path (`path.flowing`, `path.waiting`, `path.unbridged`; nothing when the path is kept), ahead of
 * `motor.replan`, so the drugPath region follows it before the motor plans.
 */
const refillAction = typed.enqueueActions(({ context, event, enqueue }) => {
  const step = cmd.refill(context, event);
  const path = cmd.pathAfterRefill(context.bridge, step.ctx.bridge);
  const raised: PumpEvent | undefined =
    path === 'kept' ? undefined : { type: `path.${path}`, nowMs: event.nowMs };
  apply(step, context, event.nowMs, enqueue, 'onChange', raised);
});

/** An action that carries out a decision (see `apply`). */
function decided(decide: Decision, replan: Replan = 'onChange') {
  return typed.enqueueActions(({ context, event, enqueue }) =>
    apply(decide(context, event), context, event.nowMs, enqueue, replan),
  );
}

/** The therapy state's entry, `{ type: 'enterMode', params: { mode } }`: the mode it delivers in. */
const enterModeAction = enqueueActions(
  ({ context, event, enqueue }, params: { mode: DeliveryMode }) =>
    apply(
      d.enterMode(context as PumpContext, event as PumpEvent, params.mode),
      context as PumpContext,
      (event as PumpEvent).nowMs,
      enqueue as unknown as Enqueue,
      'onChange',
    ),
) as unknown as ActionFunction<
  PumpContext,
  PumpEvent,
  PumpEvent,
  { mode: DeliveryMode },
  never,
  never,
  never,
  never,
  Effect
>;

const anyCritical = (c: PumpContext) => c.alarms.some((a) => isCritical(a.code));

/** A running or stopping batch ends the same way: a stall, or strokes to account. */
const batchReport = {
  'hal.motor.batchEnded': [
    { guard: 'currentBatchStalled', target: 'stalled', actions: 'recordStall' },
    { guard: 'currentBatchReport', target: 'idle', actions: 'recordBatch' },
  ],
} as const;

/** The therapy state's entry: the mode it delivers in (stopped and halted deliver nothing). */
const enter = (mode: DeliveryMode) => ({ type: 'enterMode', params: { mode } }) as const;

export const pumpMachine = setup({
  types,
  guards: {
    restoredMemoryError: ({ event }) =>
      event.type === 'boot' && event.restored?.memoryError === true,
    restoredInfusing: ({ event }) =>
      event.type === 'boot' && event.restored?.therapy === 'infusing',
    restoredPatientBolus: ({ event }) =>
      event.type === 'boot' &&
      event.restored?.therapy === 'infusing' &&
      event.restored.context.bolus?.kind === 'patient',
    restoredClinicianBolus: ({ event }) =>
      event.type === 'boot' &&
      event.restored?.therapy === 'infusing' &&
      event.restored.context.bolus?.kind === 'clinician',
    restoredPrimingBolus: ({ event }) =>
      event.type === 'boot' &&
      event.restored?.therapy === 'infusing' &&
      event.restored.context.bolus?.kind === 'priming',
    restoredMinimumRate: ({ event }) =>
      event.type === 'boot' && (event.restored?.therapy === 'minimumRate' || event.lowBatteryReset),
    restoredHalted: ({ event }) =>
      event.type === 'boot' && (event.restored?.therapy === 'halted' || event.battery === 'eos'),
    pressGranted: ({ context, event }) => d.pressDenial(context, event.nowMs) === undefined,
    canResume: ({ context }) => context.prescription !== undefined && context.mixture !== undefined,
    clinicianBolusAcceptable: ({ context, event }) =>
      cmd.clinicianBolusRefusal(context, event) === undefined,
    primingBolusAcceptable: ({ context, event }) =>
      cmd.primingBolusRefusal(context, event) === undefined,
    restoredFlowingBridge: ({ event }) =>
      event.type === 'boot' &&
      event.restored?.context.bridge !== undefined &&
      event.restored.context.bridge.pausedRateNlPerDay === undefined,
    restoredWaitingBridge: ({ event }) =>
      event.type === 'boot' && event.restored?.context.bridge?.pausedRateNlPerDay !== undefined,
    bridgeOver: ({ context, event }) => cmd.bridgeOver(context, event.nowMs),
    bridgePauseDue: ({ context }) => cmd.bridgePauseDue(context),
    bridgeResumeDue: ({ context }) => cmd.bridgeResumeDue(context),
    bridgeBolusDue: ({ context }) => cmd.bridgeBolusDue(context),
    bolusComplete: ({ context, event }) => d.bolusComplete(context, event.nowMs),
    criticalAlarm: ({ context }) => anyCritical(context),
    noCriticalAlarm: ({ context }) => !anyCritical(context),
    noCriticalAlarmProgrammed: ({ context }) =>
      !anyCritical(context) && context.prescription !== undefined,
    endOfServiceReported: ({ event }) =>
      event.type === 'hal.battery.levelChanged' && event.level === 'eos',
    strokesDue: ({ context }) => context.battery !== 'eos' && d.strokesDue(context),
    batchObsolete: ({ context }) => d.batchObsolete(context),
    currentBatchStalled: ({ context, event }) =>
      d.isCurrentBatchReport(context, event) && d.reportedStall(context, event),
    currentBatchReport: ({ context, event }) => d.isCurrentBatchReport(context, event),
    stallRetryDue: ({ context, event }) => d.stallRetryDue(context, event.nowMs),
    stallRetryWithStrokesDue: ({ context, event }) =>
      d.stallRetryDue(context, event.nowMs) && context.battery !== 'eos' && d.strokesDue(context),
  },
  actions: {
    settle: decided(d.settleOnly),
    boot: decided(cmd.boot),
    enterMode: enterModeAction,
    logStopped: emit({ type: 'log', body: { type: 'stopped' } }),
    logResumed: emit({ type: 'log', body: { type: 'resumed' } }),
    logMinimumRate: emit({ type: 'log', body: { type: 'minimumRate', reason: 'critical alarm' } }),
    grantPress: decided(d.grantPress),
    denyPress: decided(d.denyPress),
    finishBolus: decided(d.finishBolus),
    startClinicianBolus: decided(cmd.startClinicianBolus),
    refuseClinicianBolus: decided(cmd.refuseClinicianBolus),
    startPrimingBolus: decided(cmd.startPrimingBolus),
    refusePrimingBolus: decided(cmd.refusePrimingBolus),
    bridgeAfterBolus: decided(cmd.bridgeAfterBolus),
    pauseBridge: decided(cmd.pauseBridge),
    resumeBridge: decided(cmd.resumeBridge),
    finishBridge: decided(cmd.finishBridge),
    refuseResume: decided((c, e) =>
      cmd.refuseState(
        c,
        e,
        c.prescription ? 'running' : 'not programmed',
        'stopped with a programmed therapy',
      ),
    ),
    refuseStop: decided((c, e) =>
      cmd.refuseState(c, e, 'not infusing', 'infusing or at the safe minimum rate'),
    ),
    program: decided(cmd.program),
    refill: refillAction,
    setClock: decided(cmd.setClock),
    clearAlarms: decided((c, e) => cmd.clearAlarms(c, e, c.stall !== undefined)),
    batteryChanged: decided(cmd.batteryChanged),
    memoryFailed: decided(cmd.memoryFailed),
    wake: decided(d.soundDueAlarms, 'always'),
    startBatch: decided(d.startBatch, 'never'),
    stopBatch: decided(d.stopBatch, 'never'),
    recordBatch: decided(d.recordBatch),
    recordStall: decided(d.recordStall),
  },
}).createMachine({
  id: 'pump',
  type: 'parallel',
  context: ({ input }) => input,
  states: {
    therapy: {
      initial: 'startup',
      on: {
        'cmd.program': { actions: 'program' },
        'cmd.setClock': { actions: 'setClock' },
        'hal.battery.levelChanged': [
          { guard: 'endOfServiceReported', target: '.halted', actions: 'batteryChanged' },
          { actions: 'batteryChanged' },
        ],
        'hal.button.pressed': { actions: 'denyPress' },
        'cmd.clinicianBolus': { actions: 'refuseClinicianBolus' },
        'cmd.primingBolus': { actions: 'refusePrimingBolus' },
        'cmd.resume': { actions: 'refuseResume' },
        'cmd.stop': { actions: 'refuseStop' },
      },
      states: {
        startup: {
          on: {
            boot: [
              { guard: 'restoredHalted', target: 'halted', actions: 'boot' },
              { guard: 'restoredMemoryError', target: 'minimumRate', actions: 'boot' },
              { guard: 'restoredMinimumRate', target: 'minimumRate', actions: 'boot' },
              { guard: 'restoredPatientBolus', target: 'infusing.patientBolus', actions: 'boot' },
              {
                guard: 'restoredClinicianBolus',
                target: 'infusing.clinicianBolus',
                actions: 'boot',
              },
              { guard: 'restoredPrimingBolus', target: 'infusing.primingBolus', actions: 'boot' },
              { guard: 'restoredInfusing', target: 'infusing', actions: 'boot' },
              { target: 'stopped', actions: 'boot' },
            ],
            // Before the boot record is read, the pump has no therapy to act on.
            'hal.battery.levelChanged': { actions: 'batteryChanged' },
            'hal.button.pressed': { actions: 'settle' },
            'cmd.*': { actions: 'settle' },
          },
        },
        stopped: {
          entry: enter('off'),
          on: {
            'cmd.resume': [
              { guard: 'canResume', target: 'infusing', actions: 'logResumed' },
              { actions: 'refuseResume' },
            ],
          },
        },
        infusing: {
          entry: enter('basal'),
          initial: 'basal',
          // Eventless: a critical alarm comes from the motor (stall, empty reservoir), the memory
          // and the battery alike; whichever raised it, the therapy drops to the minimum rate.
          always: { guard: 'criticalAlarm', target: 'minimumRate', actions: 'logMinimumRate' },
          on: { 'cmd.stop': { target: 'stopped', actions: 'logStopped' } },
          states: {
            basal: {
              on: {
                'hal.button.pressed': [
                  { guard: 'pressGranted', target: 'patientBolus', actions: 'grantPress' },
                  { actions: 'denyPress' },
                ],
                'cmd.clinicianBolus': [
                  {
                    guard: 'clinicianBolusAcceptable',
                    target: 'clinicianBolus',
                    actions: 'startClinicianBolus',
                  },
                  { actions: 'refuseClinicianBolus' },
                ],
                'cmd.primingBolus': [
                  {
                    guard: 'primingBolusAcceptable',
                    target: 'primingBolus',
                    actions: 'startPrimingBolus',
                  },
                  { actions: 'refusePrimingBolus' },
                ],
              },
            },
            // Eventless: a bolus ends when its time is up, on the wake armed for that moment or
            // on whichever event comes first at or after it.
            patientBolus: {
              always: { guard: 'bolusComplete', target: 'basal', actions: 'finishBolus' },
            },
            clinicianBolus: {
              always: { guard: 'bolusComplete', target: 'basal', actions: 'finishBolus' },
            },
            primingBolus: {
              always: { guard: 'bolusComplete', target: 'basal', actions: 'finishBolus' },
            },
          },
        },
        minimumRate: {
          entry: enter('minimum'),
          // Eventless: the last critical alarm is cleared by a command, a refill or a programme.
          always: [
            { guard: 'noCriticalAlarmProgrammed', target: 'infusing', actions: 'logResumed' },
            { guard: 'noCriticalAlarm', target: 'stopped', actions: 'logStopped' },
          ],
          on: { 'cmd.stop': { target: 'stopped', actions: 'logStopped' } },
        },
        halted: { entry: enter('off') },
      },
    },
    motor: {
      initial: 'idle',
      on: {
        // The wake and the alarm list belong to no one region: the controller wakes for the
        // earliest deadline of all (src/pump/deadlines.ts).
        'hal.clock.wake': { actions: 'wake' },
        'cmd.clearAlarms': { actions: 'clearAlarms' },
        'hal.nvm.failed': { actions: 'memoryFailed' },
      },
      states: {
        idle: {
          on: { 'motor.replan': { guard: 'strokesDue', target: 'running', actions: 'startBatch' } },
        },
        running: {
          on: {
            'motor.replan': { guard: 'batchObsolete', target: 'stopping', actions: 'stopBatch' },
            ...batchReport,
          },
        },
        stopping: { on: batchReport },
        stalled: {
          on: {
            'motor.replan': [
              {
                guard: 'stallRetryWithStrokesDue',
                target: 'running',
                actions: 'startBatch',
              },
              { guard: 'stallRetryDue', target: 'idle' },
            ],
          },
        },
      },
    },
    drugPath: {
      initial: 'unbridged',
      on: {
        // A refill with a new mixture opens a bridge (paused when therapy is not at its basal
        // rate), or ends one when nothing stronger is left in the path; the refill says which.
        'cmd.refill': { actions: 'refill' },
        'path.flowing': { target: '.bridging.flowing' },
        'path.waiting': { target: '.bridging.waiting' },
        'path.unbridged': { target: '.unbridged' },
        // The therapy region's boot restores the context; the path resumes the restored bridge.
        boot: [
          { guard: 'restoredFlowingBridge', target: '.bridging.flowing' },
          { guard: 'restoredWaitingBridge', target: '.bridging.waiting' },
        ],
      },
      states: {
        unbridged: {},
        bridging: {
          initial: 'flowing',
          // Eventless: the bridge is over when the pump estimates the new mixture at the tip, at
          // its deadline or at the first event after it.
          always: { guard: 'bridgeOver', target: 'unbridged', actions: 'finishBridge' },
          states: {
            // Eventless: the bridge follows the therapy's rate, whichever transition changed it,
            // and counts a bolus as soon as one starts.
            flowing: {
              always: [
                { guard: 'bridgePauseDue', target: 'waiting', actions: 'pauseBridge' },
                { guard: 'bridgeBolusDue', target: 'flowing', actions: 'bridgeAfterBolus' },
              ],
            },
            waiting: {
              always: [
                { guard: 'bridgeResumeDue', target: 'flowing', actions: 'resumeBridge' },
                { guard: 'bridgePauseDue', target: 'waiting', actions: 'pauseBridge' },
              ],
            },
          },
        },
      },
    },
  },
});

export type PumpMachine = typeof pumpMachine;

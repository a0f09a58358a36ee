/**
 * The pump's statechart (XState v5).
 *
 * Four parallel regions:
 * - therapy: startup → stopped | infusing (basal, patient bolus, clinician bolus, priming bolus) |
 *   minimumRate | halted. Critical alarms send infusing to the safe minimum rate; battery end of
 *   service halts.
 * - motor: idle → running → (stopping) → idle, and stalled with timed retries. The motor region
 *   starts a batch whenever strokes are due and stops a batch the programme has made obsolete.
 * - alarms: quiet | nonCritical | critical, derived from the latched alarm list; repeats tones.
 * - drugPath: unbridged | bridging (flowing, waiting), derived from the bridge a refill with a new
 *   mixture puts in context (docs/drug-path.md §6). The bridge overrides the basal schedule with
 *   the old one; this region moves it along: a bolus started during it shortens it, therapy
 *   leaving the basal mode pauses it, coming back resumes it, and it ends when the pump estimates
 *   the new mixture has reached the catheter tip.
 *
 * The state tree holds no logic: every guard and action is named in `setup()` and calls a pure
 * function of src/pump/. Actions only assign what those functions return and emit their effects
 * (motor commands, tones, log records), which src/controller.ts carries out through the HAL.
 * Time is not read here: every event carries `nowMs`, stamped by the controller from the clock
 * port. Lockouts and 24-hour windows are absolute times in context, never XState `after` timers.
 */
import { assign, emit, setup } from 'xstate';
import { isCritical } from './alarms.js';
import type { Step } from './pump/decide.js';
import * as d from './pump/decide.js';
import * as cmd from './pump/commands.js';
import type { Effect, PumpContext, PumpEvent } from './pump/types.js';

type Decision = (context: PumpContext, event: PumpEvent) => Step;

const types = {
  context: {} as PumpContext,
  events: {} as PumpEvent,
  input: {} as PumpContext,
  emitted: {} as Effect,
};

const typed = setup({ types });

/** An action that assigns a decision's context and emits its effects, in that order. */
function decided(decide: Decision) {
  return typed.enqueueActions(({ context, event, enqueue }) => {
    const step = decide(context, event);
    enqueue.assign(() => step.ctx);
    for (const effect of step.effects) enqueue.emit(effect);
  });
}

const anyCritical = (c: PumpContext) => c.alarms.some((a) => isCritical(a.code));

/** A running or stopping batch ends the same way: a stall, or strokes to account. */
const batchReport = {
  'hal.motor.batchEnded': [
    { guard: 'currentBatchStalled', target: 'stalled', actions: 'recordStall' },
    { guard: 'currentBatchReport', target: 'idle', actions: 'recordBatch' },
  ],
  '*': { actions: 'settle' },
} as const;

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
    bridgeRunning: ({ context }) => context.bridge !== undefined,
    noBridge: ({ context }) => context.bridge === undefined,
    bridgeOver: ({ context }) => cmd.bridgeOver(context),
    bridgePaused: ({ context }) => cmd.bridgePaused(context),
    bridgePauseDue: ({ context }) => cmd.bridgePauseDue(context),
    bridgeResumeDue: ({ context }) => cmd.bridgeResumeDue(context),
    bridgeBolusDue: ({ context }) => cmd.bridgeBolusDue(context),
    bolusComplete: ({ context }) => d.bolusComplete(context),
    criticalAlarm: ({ context }) => anyCritical(context),
    noCriticalAlarm: ({ context }) => !anyCritical(context),
    noCriticalAlarmProgrammed: ({ context }) =>
      !anyCritical(context) && context.prescription !== undefined,
    endOfService: ({ context }) => context.battery === 'eos',
    anyAlarm: ({ context }) => context.alarms.length > 0,
    noAlarm: ({ context }) => context.alarms.length === 0,
    strokesDue: ({ context }) =>
      context.battery !== 'eos' && !cmd.programmeChangeDue(context) && d.strokesDue(context),
    batchObsolete: ({ context }) => d.batchObsolete(context),
    currentBatchStalled: ({ context, event }) =>
      d.isCurrentBatchReport(context, event) && d.reportedStall(event),
    currentBatchReport: ({ context, event }) => d.isCurrentBatchReport(context, event),
    stallRetryDue: ({ context }) => d.stallRetryDue(context),
  },
  actions: {
    settle: decided(d.settleOnly),
    boot: decided(cmd.boot),
    enterStopped: decided((c, e) => d.enterMode(c, e, 'off')),
    enterHalted: decided((c, e) => d.enterMode(c, e, 'off')),
    enterInfusing: decided((c, e) => d.enterMode(c, e, 'basal')),
    enterMinimumRate: decided((c, e) => d.enterMode(c, e, 'minimum')),
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
    refill: decided(cmd.refill),
    setClock: decided(cmd.setClock),
    clearAlarms: decided((c, e) => cmd.clearAlarms(c, e, c.stall !== undefined)),
    batteryChanged: decided(cmd.batteryChanged),
    memoryFailed: decided(cmd.memoryFailed),
    soundDueAlarms: decided(d.soundDueAlarms),
    startBatch: decided(d.startBatch),
    stopBatch: decided(d.stopBatch),
    recordBatch: decided(d.recordBatch),
    recordStall: decided(d.recordStall),
    clearBatch: assign({ batch: undefined }),
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
        'cmd.refill': { actions: 'refill' },
        'cmd.setClock': { actions: 'setClock' },
        'hal.battery.levelChanged': { actions: 'batteryChanged' },
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
            'hal.button.pressed': { actions: 'settle' },
            'cmd.*': { actions: 'settle' },
          },
        },
        stopped: {
          entry: 'enterStopped',
          always: { guard: 'endOfService', target: 'halted' },
          on: {
            'cmd.resume': [
              { guard: 'canResume', target: 'infusing', actions: 'logResumed' },
              { actions: 'refuseResume' },
            ],
          },
        },
        infusing: {
          entry: 'enterInfusing',
          initial: 'basal',
          always: [
            { guard: 'endOfService', target: 'halted' },
            { guard: 'criticalAlarm', target: 'minimumRate', actions: 'logMinimumRate' },
          ],
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
          entry: 'enterMinimumRate',
          always: [
            { guard: 'endOfService', target: 'halted' },
            { guard: 'noCriticalAlarmProgrammed', target: 'infusing', actions: 'logResumed' },
            { guard: 'noCriticalAlarm', target: 'stopped', actions: 'logStopped' },
          ],
          on: { 'cmd.stop': { target: 'stopped', actions: 'logStopped' } },
        },
        halted: { entry: 'enterHalted' },
      },
    },
    motor: {
      initial: 'idle',
      states: {
        idle: {
          always: { guard: 'strokesDue', target: 'running', actions: 'startBatch' },
          on: { '*': { actions: 'settle' } },
        },
        running: {
          always: { guard: 'batchObsolete', target: 'stopping', actions: 'stopBatch' },
          on: batchReport,
        },
        stopping: { on: batchReport },
        stalled: {
          always: { guard: 'stallRetryDue', target: 'idle' },
          on: { '*': { actions: 'settle' } },
        },
      },
    },
    alarms: {
      initial: 'quiet',
      on: {
        'cmd.clearAlarms': { actions: 'clearAlarms' },
        'hal.clock.wake': { actions: 'soundDueAlarms' },
        'hal.nvm.failed': { actions: 'memoryFailed' },
      },
      states: {
        quiet: {
          always: [
            { guard: 'criticalAlarm', target: 'critical' },
            { guard: 'anyAlarm', target: 'nonCritical' },
          ],
        },
        nonCritical: {
          always: [
            { guard: 'criticalAlarm', target: 'critical' },
            { guard: 'noAlarm', target: 'quiet' },
          ],
        },
        critical: {
          always: [
            { guard: 'noAlarm', target: 'quiet' },
            { guard: 'noCriticalAlarm', target: 'nonCritical' },
          ],
        },
      },
    },
    drugPath: {
      initial: 'unbridged',
      states: {
        unbridged: { always: { guard: 'bridgeRunning', target: 'bridging' } },
        bridging: {
          initial: 'flowing',
          always: [
            { guard: 'bridgeOver', target: 'unbridged', actions: 'finishBridge' },
            { guard: 'noBridge', target: 'unbridged' },
          ],
          states: {
            flowing: {
              always: [
                { guard: 'bridgePauseDue', target: 'waiting', actions: 'pauseBridge' },
                { guard: 'bridgePaused', target: 'waiting' },
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

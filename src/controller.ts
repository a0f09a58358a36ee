/**
 * The controller: the statechart running on a set of HAL ports.
 *
 * It owns one XState actor. Hardware events (button, clock wake, motor reports, battery) and
 * clinician commands are queued, stamped with the clock port's monotonic time, and sent one at a
 * time; the effects the statechart emits are carried out through the ports; then the single wake
 * alarm is armed for the next deadline. Nothing here reads a wall clock or a timer: the same
 * controller runs on the virtual clock of the simulator and on the real-time clock of a rig.
 *
 * Port failures are world faults: a motor command that throws ends its batch as `linkLost`
 * (handled as a stall), a failing tone is counted and therapy carries on.
 */
import { createActor, type Actor } from 'xstate';
import type { Hal } from '../hal/index.js';
import { isHalError } from '../hal/halError.js';
import { alarmLevel, type AlarmLevel } from './alarms.js';
import { assert } from './assert.js';
import { eventLogCapacity } from './constants.js';
import { EventLog, type LogRecord } from './eventLog.js';
import { pumpMachine } from './machine.js';
import { nextDeadlineMs, type MotorRegion } from './pump/deadlines.js';
import type {
  CommandEvent,
  Effect,
  PumpContext,
  PumpEventBody,
  RestoredState,
} from './pump/types.js';
import { PersistentStore } from './persistence/persistentStore.js';
import { DEFAULT_LAYOUT, journalPayloadBytesMax } from './persistence/layout.js';
import { encodedPayloadBytes } from './persistence/payload.js';
import { STATE_RECORD_KINDS, type StateRecordKind } from './persistence/recordTypes.js';
import {
  recordKeys,
  recordsOf,
  restore,
  therapyStateOf,
  type LoadedRecords,
} from './pump/persist.js';
import type { DrugLibrary, PumpConfig } from './therapy/schema.js';
import { pumpConfigSchema, drugLibrarySchema } from './therapy/schema.js';

export interface ControllerOptions {
  hal: Hal;
  config: PumpConfig;
  library: DrugLibrary;
  logCapacity?: number;
  /** Called for every log record as it is appended (the simulator streams them to a file). */
  onLog?: (record: LogRecord) => void;
  /** Called after every handled event (the simulator samples its trace here). */
  onStep?: (controller: Controller) => void;
  /** Keep records in the NVM port (default: when the memory is large enough for the layout). */
  persist?: boolean;
}

export function initialContext(
  config: PumpConfig,
  library: DrugLibrary,
  nowMs: number,
): PumpContext {
  return {
    config: pumpConfigSchema.parse(config),
    library: drugLibrarySchema.parse(library),
    mixture: undefined,
    prescription: undefined,
    steps: undefined,
    ptm: undefined,
    ptmBolusNl: 0,
    mode: 'off',
    nowMs,
    rtcOffsetMs: 0,
    settledAtMs: nowMs,
    owedFine: 0,
    deliveredStrokes: 0,
    missedFine: 0,
    reservoirNl: 0,
    bolus: undefined,
    lockoutUntilMs: Number.NEGATIVE_INFINITY,
    grantsMs: [],
    batch: undefined,
    nextBatchId: 1,
    recentBatches: [],
    programmeVersion: 0,
    stall: undefined,
    alarms: [],
    battery: 'ok',
    stoppedSinceMs: undefined,
  };
}

/**
 * A log record as the journal keeps it: whole when it fits one entry, otherwise with its bulky
 * fields (a 24-step schedule's old and new values, an echoed refused value) replaced by their size.
 * The record in RAM, and the simulator's events.jsonl, keep everything.
 */
export function fitForJournal(record: LogRecord, bytesMax: number): LogRecord {
  if (encodedPayloadBytes(record) <= bytesMax) return record;
  const shrunk: Record<string, unknown> = { ...record };
  for (const key of [
    'old',
    'new',
    'value',
    'message',
    'mixture',
    'oldMixture',
    'newMixture',
    'pathMixture',
  ] as const) {
    if (key in shrunk)
      shrunk[key] = `(${JSON.stringify(shrunk[key]).length} characters, in the RAM log only)`;
  }
  return shrunk as LogRecord;
}

export class Controller {
  readonly log: EventLog;
  private readonly actor: Actor<typeof pumpMachine>;
  private readonly queue: PumpEventBody[] = [];
  private draining = false;
  private armedWakeMs = Number.NaN;
  /** A bug raised while carrying out an effect (XState would otherwise report it asynchronously). */
  private fault: unknown = undefined;
  /** Effects of the step being handled, carried out after its records are committed. */
  private readonly pending: Effect[] = [];
  private readonly store: PersistentStore | undefined;
  /** The context fields each record was last written from, so unchanged records are not rewritten. */
  private readonly written = new Map<StateRecordKind, readonly unknown[]>();
  nvmWrites = 0;
  private eventsHandled = 0;
  toneFailures = 0;

  constructor(private readonly options: ControllerOptions) {
    const { hal } = options;
    this.log = new EventLog(options.logCapacity ?? eventLogCapacity);
    const now = hal.clock.monotonicMs();
    this.actor = createActor(pumpMachine, {
      input: initialContext(options.config, options.library, now),
    });
    this.actor.on('*', (effect) => void this.pending.push(effect));
    // An error inside the statechart is our bug: `dispatch` reports it at once (an assertion),
    // so XState must not also report it later from a timer.
    this.actor.subscribe({ error: () => undefined });
    const persist = options.persist ?? hal.nvm.sizeBytes >= DEFAULT_LAYOUT.totalBytes;
    this.store = persist ? new PersistentStore(hal.nvm) : undefined;
    hal.clock.listen((e) => this.dispatch(e));
    hal.motor.listen((e) => this.dispatch(e));
    hal.button.listen((e) => this.dispatch(e));
    hal.battery.listen((e) => this.dispatch(e));
    this.actor.start();
  }

  /**
   * Start-up: restore the records that survived in non-volatile memory (or the given state), check
   * them, and enter the therapy state they describe. A damaged prescription is never run.
   */
  boot(restored?: RestoredState): void {
    const { clock, battery } = this.options.hal;
    const status = battery.status();
    const state = restored ?? this.recover(clock.monotonicMs());
    for (const r of this.store?.readLog() ?? []) this.log.restore([r as LogRecord]);
    this.dispatch({
      type: 'boot',
      rtcMs: clock.rtcMs(),
      battery: status.level,
      lowBatteryReset: status.lowBatteryReset,
      restored: state,
    });
  }

  private recover(nowMs: number): RestoredState | undefined {
    if (!this.store) return undefined;
    const report = this.store.recover();
    const records: LoadedRecords = {};
    for (const kind of STATE_RECORD_KINDS) {
      const r = report.states[kind];
      if (r.current) records[kind] = { value: r.current.value, corrupt: false };
      else if (r.status === 'corrupt') records[kind] = { value: undefined, corrupt: true };
    }
    return restore(records, nowMs);
  }

  /** A clinician command (programmer telemetry). */
  command(command: CommandEvent): void {
    this.dispatch(command);
  }

  get context(): PumpContext {
    return this.actor.getSnapshot().context;
  }

  /**
   * The active leaf of the therapy and motor regions, and what the alarms show, e.g.
   * `{ therapy: 'infusing.basal', motor: 'idle', alarms: 'quiet' }`.
   */
  get state(): { therapy: string; motor: MotorRegion; alarms: AlarmLevel } {
    const value = this.actor.getSnapshot().value as Record<string, string | Record<string, string>>;
    const leaf = (v: string | Record<string, string> | undefined): string =>
      typeof v === 'string'
        ? v
        : v === undefined
          ? ''
          : Object.entries(v).map(([k, s]) => `${k}.${s}`)[0]!;
    return {
      therapy: leaf(value.therapy),
      motor: leaf(value.motor) as MotorRegion,
      alarms: alarmLevel(this.context.alarms),
    };
  }

  /**
   * The active state of every parallel region, read only, e.g.
   * `{ therapy: 'infusing.basal', motor: 'idle', drugPath: 'unbridged' }` (`itpump live` lights
   * them up on its statechart).
   */
  get regions(): Record<string, string> {
    const path = (v: unknown): string =>
      typeof v === 'string'
        ? v
        : Object.entries(v as Record<string, unknown>)
            .map(([k, s]) => `${k}.${path(s)}`)
            .join(',');
    const value = this.actor.getSnapshot().value as Record<string, unknown>;
    return Object.fromEntries(Object.entries(value).map(([region, v]) => [region, path(v)]));
  }

  get handled(): number {
    return this.eventsHandled;
  }

  stop(): void {
    this.options.hal.clock.cancelWake();
    this.actor.stop();
  }

  private dispatch(body: PumpEventBody): void {
    this.queue.push(body);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        this.actor.send({ ...next, nowMs: this.options.hal.clock.monotonicMs() });
        this.eventsHandled++;
        const snapshot = this.actor.getSnapshot();
        assert(
          snapshot.status === 'active',
          `controller actor is ${snapshot.status}: ${String(snapshot.error ?? '')}`,
        );
        this.commit();
        this.options.onStep?.(this);
      }
    } finally {
      this.draining = false;
    }
    this.armWake();
  }

  private armWake(): void {
    const due = nextDeadlineMs(
      this.context,
      this.state.motor,
      this.options.hal.clock.monotonicMs(),
    );
    if (due === this.armedWakeMs) return;
    this.armedWakeMs = due;
    if (Number.isFinite(due)) this.options.hal.clock.wakeAt(due);
    else this.options.hal.clock.cancelWake();
  }

  /**
   * Write-ahead: changed state records, then log records, reach non-volatile memory before the
   * step's motor commands and tones are carried out, so a reset never leaves a delivered bolus
   * out of the ledger. A memory fault is a world fault (memory alarm); anything else propagates.
   */
  private commit(): void {
    const effects = this.pending.splice(0);
    // The ledger first: a power cut between it and the log loses a log line, never a grant.
    this.saveRecords();
    for (const effect of effects) if (effect.type === 'log') this.appendLog(effect);
    for (const effect of effects) if (effect.type !== 'log') this.carryOut(effect);
  }

  private saveRecords(): void {
    if (!this.store) return;
    const context = this.context;
    const therapy = therapyStateOf(this.state.therapy);
    const keys = recordKeys(context, therapy);
    let records: ReturnType<typeof recordsOf> | undefined;
    for (const kind of STATE_RECORD_KINDS) {
      const last = this.written.get(kind);
      if (last !== undefined && last.every((v, i) => Object.is(v, keys[kind][i]))) continue;
      records ??= recordsOf(context, therapy);
      const record = records[kind];
      if (!this.persistSafely(() => this.store!.saveState(kind, record), `write ${kind}`)) return;
      this.written.set(kind, keys[kind]);
      this.nvmWrites++;
    }
  }

  private persistSafely(write: () => unknown, what: string): boolean {
    try {
      write();
      return true;
    } catch (e) {
      if (!isHalError(e)) throw e;
      this.queue.push({ type: 'hal.nvm.failed', what: `${what}: ${e.message}` });
      return false;
    }
  }

  private appendLog(effect: Extract<Effect, { type: 'log' }>): void {
    const c = this.context;
    const record = this.log.append(effect.body, c.nowMs, c.nowMs + c.rtcOffsetMs);
    const store = this.store;
    if (
      store &&
      this.persistSafely(
        () => store.appendLog(fitForJournal(record, journalPayloadBytesMax(store.layout))),
        'append log',
      )
    )
      this.nvmWrites++;
    this.options.onLog?.(record);
  }

  private carryOut(effect: Effect): void {
    const { hal } = this.options;
    switch (effect.type) {
      case 'motor.deliver':
        try {
          hal.motor.deliver(effect.batch);
        } catch (e) {
          if (!isHalError(e)) throw e;
          this.queue.push({
            type: 'hal.motor.batchEnded',
            batchId: effect.batch.batchId,
            strokesDone: 0,
            reason: 'linkLost',
          });
        }
        return;
      case 'motor.stop':
        try {
          hal.motor.stop();
        } catch (e) {
          if (!isHalError(e)) throw e;
        }
        return;
      case 'tone':
        try {
          hal.annunciator.sound(effect.pattern);
        } catch (e) {
          if (!isHalError(e)) throw e;
          this.toneFailures++;
        }
        return;
      case 'clock.setRtc':
        hal.clock.setRtcMs(effect.rtcMs);
        return;
      case 'log':
        return; // committed before the hardware effects
    }
  }
}

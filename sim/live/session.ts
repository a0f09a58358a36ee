/**
 * A live session: the simulation `itpump run` would run, with its virtual time paced against the
 * wall clock at a chosen speed, paused, or stepped to the next deadline, and commands coming from
 * a page besides the scenario's timeline. The controller and its simulated drivers stay here, in
 * the server's process; the page only sends actions and reads state.
 *
 * Replay by construction: every command the pump was given is recorded as a timeline event at the
 * virtual time it was applied, and the session offers the scenario with those events appended
 * (`scenarioYaml`). `itpump run` of it reproduces the session's outputs byte for byte, wall time
 * aside. For that, a command is applied at a *quiet* time: the next whole second with nothing due
 * on the virtual clock before or at it and no trace sample at it. The replay then schedules the
 * event where nothing else happens, so the order of events is the same in both (see `quietTime`).
 * The session ends the same way: at a quiet time, as a scenario of that duration would.
 */
import { performance } from 'node:perf_hooks';
import { alarmCatalogue } from '../../src/alarms.js';
import type { LogRecord } from '../../src/eventLog.js';
import { deliveredPgLast24h } from '../../src/pump/decide.js';
import { HOUR_MS, SECOND_MS } from '../../src/units.js';
import { resultOf, Simulation, type RunResult } from '../runner.js';
import {
  describeZodError,
  timelineEventSchema,
  type Scenario,
  type TimelineEvent,
} from '../scenario.js';
import { timelineActionOf, timelineFieldOf, type TimelineRefusal } from '../timelineRefusals.js';
import { softLimitOf } from './softLimit.js';

/** The fastest and slowest pacing a session takes (virtual ms per wall ms). */
export const speedMin = 1;
export const speedMax = 100_000;

/** A page command the pump was given: when (virtual ms) and the action as the page wrote it. */
export interface RecordedCommand {
  atMs: number;
  action: Record<string, unknown>;
}

export type CommandOutcome =
  /** The action does not read as a timeline action: one line per problem (path, value, limit). */
  | { kind: 'invalid'; lines: string[] }
  /** Nothing sent: the action passes a soft limit; sent again with `confirm: true` it is taken. */
  | { kind: 'confirm'; field: string; value: string; limit: string; message: string }
  | { kind: 'ended'; lines: string[] }
  | {
      kind: 'applied';
      atMs: number;
      /** Its index in the replayed scenario's timeline. */
      index: number;
      records: LogRecord[];
      refusals: TimelineRefusal[];
      tones: string[];
    };

export class LiveSession {
  readonly sim: Simulation;
  readonly recorded: RecordedCommand[] = [];
  readonly every = HOUR_MS;
  speed: number;
  paused: boolean;
  private result: RunResult | undefined;
  private virtualTargetMs = 0;
  private lastWallMs: number;
  private readonly startedWallMs = performance.now();
  /** The scenario's duration as written (the simulation's is shortened by an early end). */
  readonly durationMs: number;

  constructor(
    readonly scenario: Scenario,
    readonly seed: number,
    options: { speed: number; paused: boolean },
  ) {
    this.speed = options.speed;
    this.paused = options.paused;
    this.durationMs = scenario.duration;
    this.sim = new Simulation(scenario, seed, { persist: true });
    this.sim.start({});
    this.lastWallMs = performance.now();
  }

  nowMs(): number {
    return this.sim.clock.nowMs();
  }

  get ended(): boolean {
    return this.result !== undefined;
  }

  /** Move virtual time on by the wall time since the last tick, at the session's speed. */
  tick(wallMs = performance.now()): void {
    const elapsed = Math.max(0, wallMs - this.lastWallMs);
    this.lastWallMs = wallMs;
    if (this.paused || this.ended) return;
    this.virtualTargetMs = Math.max(this.virtualTargetMs, this.nowMs()) + elapsed * this.speed;
    this.advanceTo(Math.floor(this.virtualTargetMs));
  }

  /** Run to the next thing due on the virtual clock (a deadline, a batch end, an event). */
  step(): void {
    if (this.ended) return;
    const due = this.sim.clock.nextDueMs();
    this.advanceTo(due === undefined ? this.durationMs : due);
    this.virtualTargetMs = this.nowMs();
  }

  setSpeed(speed: number): void {
    this.speed = Math.min(speedMax, Math.max(speedMin, speed));
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    this.virtualTargetMs = this.nowMs();
  }

  /**
   * Run up to `targetMs` (at most the end) as `run` does: a trace sample at every period boundary,
   * the run finished when it reaches its duration.
   */
  advanceTo(targetMs: number): void {
    if (this.ended) return;
    const target = Math.min(targetMs, this.durationMs);
    // What a command scheduled for its own moment runs first, as in the replay's runUntil.
    this.sim.clock.runUntil(this.nowMs());
    while (this.nowMs() < target) {
      const boundary = (Math.floor(this.nowMs() / this.every) + 1) * this.every;
      if (boundary <= target) this.sim.runTo(boundary, {});
      else this.sim.clock.runUntil(target);
    }
    if (this.nowMs() >= this.durationMs) {
      this.sim.finish();
      this.result = resultOf(this.sim, this.seed, performance.now() - this.startedWallMs);
    }
  }

  /**
   * Stand the clock at the next quiet time: a whole second, not a trace boundary, with nothing
   * due on the virtual clock after now up to it (what falls due first is run). Undefined when the
   * run reaches its end first.
   */
  quietTime(): number | undefined {
    for (;;) {
      if (this.ended) return undefined;
      const nowMs = this.nowMs();
      const at = (Math.floor(nowMs / SECOND_MS) + 1) * SECOND_MS;
      if (at >= this.durationMs) {
        this.advanceTo(this.durationMs);
        return undefined;
      }
      const due = this.sim.clock.nextDueMs();
      if (due !== undefined && due <= nowMs) this.sim.clock.runUntil(nowMs);
      else if (due !== undefined && due <= at) this.advanceTo(due);
      else if (at % this.every === 0) this.advanceTo(at);
      else {
        this.advanceTo(at);
        return at;
      }
    }
  }

  /** Check a page action as the scenario loader checks a timeline event, then apply it. */
  command(action: unknown, label = 'command'): CommandOutcome {
    const given = isObject(action) ? withoutAt(action) : {};
    const input = { ...given, at: '0 ms' };
    const parsed = timelineEventSchema.safeParse(input);
    if (!isObject(action) || !parsed.success) {
      const lines = parsed.success
        ? [`${label}: ${JSON.stringify(action)}: not an action object (e.g. {"press":{}})`]
        : describeZodError(label, parsed.error, given, timelineEventSchema).split('\n');
      return { kind: 'invalid', lines };
    }
    if (this.ended) return { kind: 'ended', lines: [this.endedLine()] };
    const c = this.sim.controller;
    const soft = softLimitOf(parsed.data, c.context, this.nowMs(), this.sim.motor.trueReservoirNl);
    if (soft) {
      // In the page's words (`clinicianBolus.dose`), as a timeline refusal names its field.
      const action = timelineActionOf(parsed.data);
      const field = `${action}${timelineFieldOf(`cmd.${action}`, soft.field)}`;
      return {
        kind: 'confirm',
        field,
        value: soft.value,
        limit: soft.limit,
        message: soft.message,
      };
    }
    const atMs = this.quietTime();
    if (atMs === undefined) return { kind: 'ended', lines: [this.endedLine()] };
    return this.apply({ ...parsed.data, at: atMs }, action, atMs);
  }

  private apply(e: TimelineEvent, action: Record<string, unknown>, atMs: number): CommandOutcome {
    const sim = this.sim;
    const index = this.scenario.timeline.length + this.recorded.length;
    this.recorded.push({ atMs, action: withoutAt(action) });
    const events = sim.events.length;
    const refusals = sim.timelineRefusals.length;
    const tones = sim.annunciator.tones.length;
    sim.guarded(() => sim.applyTimed(e, index));
    return {
      kind: 'applied',
      atMs,
      index,
      records: sim.events.slice(events),
      refusals: sim.timelineRefusals.slice(refusals),
      tones: sim.annunciator.tones.slice(tones).map((t) => t.pattern),
    };
  }

  private endedLine(): string {
    return `the run has ended at ${this.nowMs()} ms of virtual time: the pump takes no more commands`;
  }

  /**
   * End the session now (at the next quiet time; at its duration if that comes first), as a
   * scenario of that duration would end. Returns the run's result, as `run` returns it.
   */
  end(): RunResult {
    if (this.result) return this.result;
    const atMs = this.quietTime();
    if (atMs !== undefined) {
      this.sim.endAt(atMs);
      this.result = resultOf(this.sim, this.seed, performance.now() - this.startedWallMs);
    }
    return this.result!;
  }

  /** The finished run's result, once it ended (at its duration or by `end`). */
  get finished(): RunResult | undefined {
    return this.result;
  }

  /** The scenario's duration as the replay gives it: the end, or now for a run still going. */
  replayDurationMs(): number {
    return this.result ? this.sim.scenario.duration : this.nowMs();
  }

  /** What the page shows of the pump now. */
  view(): LiveView {
    const sim = this.sim;
    const c = sim.controller.context;
    const nowMs = this.nowMs();
    const rolling = deliveredPgLast24h(c, nowMs);
    return {
      nowMs,
      durationMs: this.sim.scenario.duration,
      speed: this.speed,
      paused: this.paused,
      ended: this.ended,
      rtcMs: sim.simClock.rtcMs(),
      regions: sim.controller.regions,
      alarmLevel: sim.controller.state.alarms,
      alarms: c.alarms.map((a) => ({ code: a.code, priority: alarmCatalogue[a.code].priority })),
      reservoir: {
        estimateNl: sim.reservoirEstimateNl(),
        trueNl: sim.motor.trueReservoirNl,
        capacityNl: c.config.reservoirCapacityNl,
      },
      rolling24h: (c.mixture ?? []).map((d) => {
        const limits = c.library.drugs.find((l) => l.drug === d.drug);
        return {
          drug: d.drug,
          pg: rolling.get(d.drug) ?? 0,
          softNg: limits?.dailyDoseNgSoftMax ?? null,
          hardNg: limits?.dailyDoseNgHardMax ?? null,
        };
      }),
      battery: { level: c.battery, remainingUah: sim.battery.remainingUah() },
      lockoutUntilMs: Number.isFinite(c.lockoutUntilMs) ? c.lockoutUntilMs : null,
      mixture: c.mixture ?? [],
      prescription: c.prescription ?? null,
      ptm: c.ptm ?? null,
    };
  }
}

export interface LiveView {
  nowMs: number;
  durationMs: number;
  speed: number;
  paused: boolean;
  ended: boolean;
  rtcMs: number;
  regions: Record<string, string>;
  alarmLevel: string;
  alarms: { code: string; priority: string }[];
  reservoir: { estimateNl: number; trueNl: number; capacityNl: number };
  rolling24h: { drug: string; pg: number; softNg: number | null; hardNg: number | null }[];
  battery: { level: string; remainingUah: number };
  lockoutUntilMs: number | null;
  mixture: unknown;
  prescription: unknown;
  ptm: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function withoutAt(action: Record<string, unknown>): Record<string, unknown> {
  const { at: _at, ...rest } = action;
  return rest;
}

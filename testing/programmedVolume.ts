/**
 * The programmed cumulative volume by the kit's own arithmetic (INV-4's oracle, REQ-DOS-1/2).
 *
 * The firmware keeps its own account (delivered strokes + owed + missed, `programmedFine` of its
 * programme); an oracle that read that account would share its bugs. This one integrates the
 * requirement instead, from what the pump was told and what it was seen to do, with its own
 * plain arithmetic:
 * - the rate of a prescription step is the dose over the primary drug's concentration, rounded
 *   down to whole nL per day (REQ-DOS-2); steps follow the pump's clock (its time of day);
 * - stopped, halted or starting up, nothing is programmed; at the safe minimum rate, the pump
 *   model's rate, lowered so that a day of it is at most half a listed drug's hard daily maximum
 *   at the strongest concentration the path may hold;
 * - a patient or clinician bolus adds its volume evenly over its duration; a priming bolus does
 *   the same but replaces the basal while it runs; a bolus cut short stops where it was cut;
 * - while a bridge flows (docs/drug-path.md), the basal follows the schedule the catheter tip
 *   delivered before the drug change, until the bridge's end.
 *
 * Observed, not computed: the therapy state of the statechart (the delivery mode), the
 * prescription, mixture, clock offset and bolus the pump holds (what it was told; when a bolus
 * started and when it is due to end), and a bridge's end (the pump's estimate of when the new
 * mixture reaches the tip, which the programme follows by design; REQ-DRG-1 is judged apart, by
 * INV-8). The rates, the steps in force, the integral over time and the minimum rate are this
 * file's.
 *
 * The account is kept between controller steps: after each step the kit reads the programme that
 * holds until the next one, and the next step first adds what it programmed.
 */
import type { DrugLibrary, Mixture, Prescription, PumpConfig } from '../src/therapy/schema.js';
import { DAY_MS, MINUTE_MS, PG_PER_NG } from '../src/units.js';

/** A basal schedule by the kit's arithmetic: from each step's time of day, its rate in nL/day. */
export interface KitSchedule {
  readonly startsMs: readonly number[];
  readonly ratesNlPerDay: readonly number[];
}

interface KitBolus {
  readonly priming: boolean;
  readonly startMs: number;
  readonly endMs: number;
  readonly volumeNl: number;
}

/** What holds from one controller step to the next. */
interface Segment {
  readonly mode: 'off' | 'basal' | 'minimum';
  readonly schedule: KitSchedule | undefined;
  readonly override: { readonly schedule: KitSchedule; readonly untilMs: number } | undefined;
  readonly minimumRateNlPerDay: number;
  readonly bolus: KitBolus | undefined;
  readonly rtcOffsetMs: number;
}

/** What the kit reads from the pump after a step (see the file comment for why each is read). */
export interface ProgrammeObservation {
  readonly nowMs: number;
  /** The therapy region's state, e.g. `infusing.basal`, `minimumRate`, `stopped`. */
  readonly therapyState: string;
  readonly prescription: Prescription | undefined;
  readonly mixture: Mixture | undefined;
  readonly rtcOffsetMs: number;
  readonly bolus: { kind: string; startMs: number; endMs: number; volumeNl: number } | undefined;
  readonly bridge:
    | {
        startMs: number;
        endMs: number;
        washoutOnly?: boolean | undefined;
        pausedRateNlPerDay?: number | undefined;
        pathMixture?: Mixture | undefined;
        steps: { startsMs: readonly number[]; ratesNlPerDay: readonly number[] };
      }
    | undefined;
}

/** The kit's schedule of a prescription at a concentration (µg/mL is pg/nL). */
export function kitSchedule(prescription: Prescription, concentrationUgPerMl: number): KitSchedule {
  const steps =
    prescription.mode === 'continuous'
      ? [{ startMinute: 0, doseNgPerDay: prescription.doseNgPerDay }]
      : prescription.steps;
  return {
    startsMs: steps.map((s) => s.startMinute * MINUTE_MS),
    ratesNlPerDay: steps.map((s) =>
      Math.floor((s.doseNgPerDay * PG_PER_NG) / concentrationUgPerMl),
    ),
  };
}

/** nL/day × ms of a schedule over [fromMs, toMs), walking the time-of-day steps. */
export function scheduleNlDayMs(s: KitSchedule, rtcOffsetMs: number, fromMs: number, toMs: number) {
  let sum = 0;
  let t = fromMs;
  while (t < toMs) {
    const tod = (((t + rtcOffsetMs) % DAY_MS) + DAY_MS) % DAY_MS;
    let i = 0;
    while (i + 1 < s.startsMs.length && s.startsMs[i + 1]! <= tod) i++;
    const end = Math.min(toMs, t + ((s.startsMs[i + 1] ?? DAY_MS) - tod));
    sum += s.ratesNlPerDay[i]! * (end - t);
    t = end;
  }
  return sum;
}

/** The bolus's volume programmed by `t`, in nL: its volume spread evenly from start to end. */
function bolusNlBy(b: KitBolus, t: number): number {
  if (t <= b.startMs) return 0;
  if (t >= b.endMs) return b.volumeNl;
  return (b.volumeNl * (t - b.startMs)) / (b.endMs - b.startMs);
}

export class ProgrammedVolume {
  /** Basal and minimum-rate volume up to `sinceMs`, as whole nL and a remainder in nL/day × ms. */
  private wholeNl = 0;
  private restNlDayMs = 0;
  /** Bolus volume up to `sinceMs`, nL (a fraction while a bolus runs). */
  private bolusNl = 0;
  private sinceMs: number;
  private segment: Segment;
  /** The schedule the tip delivered before the bridge now flowing, by the bridge's start. */
  private bridgeSchedule: { startMs: number; schedule: KitSchedule } | undefined;

  constructor(
    private readonly config: PumpConfig,
    private readonly library: DrugLibrary,
    startMs: number,
  ) {
    this.sinceMs = startMs;
    this.segment = {
      mode: 'off',
      schedule: undefined,
      override: undefined,
      minimumRateNlPerDay: 0,
      bolus: undefined,
      rtcOffsetMs: 0,
    };
  }

  /** The programmed cumulative volume at `t` (at or after the last step), in nL. */
  programmedNl(t: number): number {
    const s = this.segment;
    const from = this.sinceMs;
    const to = Math.max(from, t);
    return (
      this.wholeNl +
      (this.restNlDayMs + this.basalNlDayMs(s, from, to)) / DAY_MS +
      this.bolusNl +
      (s.bolus ? bolusNlBy(s.bolus, to) - bolusNlBy(s.bolus, from) : 0)
    );
  }

  /** After a controller step: add what the last programme programmed, then read the new one. */
  observe(o: ProgrammeObservation): void {
    const s = this.segment;
    const to = Math.max(this.sinceMs, o.nowMs);
    const rest = this.restNlDayMs + this.basalNlDayMs(s, this.sinceMs, to);
    this.wholeNl += Math.floor(rest / DAY_MS);
    this.restNlDayMs = rest % DAY_MS;
    if (s.bolus) this.bolusNl += bolusNlBy(s.bolus, to) - bolusNlBy(s.bolus, this.sinceMs);
    this.sinceMs = to;
    this.segment = this.read(o);
  }

  private basalNlDayMs(s: Segment, from: number, to: number): number {
    if (s.mode === 'off' || to <= from) return 0;
    if (s.mode === 'minimum') return s.minimumRateNlPerDay * (to - from);
    const pieces: [number, number][] =
      s.bolus?.priming === true
        ? [
            [from, Math.min(to, s.bolus.startMs)],
            [Math.max(from, s.bolus.endMs), to],
          ]
        : [[from, to]];
    let sum = 0;
    for (const [a, b] of pieces) {
      if (b <= a) continue;
      const o = s.override;
      const split = o === undefined ? a : Math.min(b, Math.max(a, o.untilMs));
      if (o !== undefined) sum += scheduleNlDayMs(o.schedule, s.rtcOffsetMs, a, split);
      if (s.schedule !== undefined) sum += scheduleNlDayMs(s.schedule, s.rtcOffsetMs, split, b);
    }
    return sum;
  }

  private read(o: ProgrammeObservation): Segment {
    const mode = o.therapyState.startsWith('infusing')
      ? 'basal'
      : o.therapyState === 'minimumRate'
        ? 'minimum'
        : 'off';
    const primary = o.mixture?.[0];
    const schedule =
      o.prescription && primary
        ? kitSchedule(o.prescription, primary.concentrationUgPerMl)
        : undefined;
    // What the tip delivered before this step: a bridge's schedule while one is open (flowing or
    // paused: a refill during a paused bridge keeps the schedule of before the first change).
    const previousTip = this.bridgeSchedule?.schedule ?? this.segment.schedule;
    const b = o.bridge;
    let override: Segment['override'];
    if (b !== undefined && b.washoutOnly !== true) {
      if (this.bridgeSchedule?.startMs !== b.startMs)
        // A bridge the kit saw start runs the schedule the tip delivered just before it; one it did
        // not see start (restored by a boot-path test) runs the schedule the pump recorded.
        this.bridgeSchedule = {
          startMs: b.startMs,
          schedule: previousTip ?? b.steps,
        };
      if (b.pausedRateNlPerDay === undefined)
        override = { schedule: this.bridgeSchedule.schedule, untilMs: b.endMs };
    } else this.bridgeSchedule = undefined;
    const bolus = o.bolus && {
      priming: o.bolus.kind === 'priming',
      startMs: o.bolus.startMs,
      endMs: o.bolus.endMs,
      volumeNl: o.bolus.volumeNl,
    };
    return {
      mode,
      schedule,
      override,
      minimumRateNlPerDay: this.minimumRateNlPerDay(o),
      bolus,
      rtcOffsetMs: o.rtcOffsetMs,
    };
  }

  /** The pump model's minimum rate, at most half a day's hard maximum of the strongest drug. */
  private minimumRateNlPerDay(o: ProgrammeObservation): number {
    let rate = this.config.safeMinimumRateNlPerDay;
    for (const d of [...(o.mixture ?? []), ...(o.bridge?.pathMixture ?? [])]) {
      const limits = this.library.drugs.find((l) => l.drug === d.drug);
      if (limits === undefined) continue;
      const halfDayMaxNl = (limits.dailyDoseNgHardMax * PG_PER_NG) / d.concentrationUgPerMl / 2;
      rate = Math.min(rate, Math.floor(halfDayMaxNl));
    }
    return rate;
  }
}

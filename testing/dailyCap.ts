/**
 * The forward daily cap (REQ-LIM-6) recomputed by brute force, as the QA kit's oracle: it walks the
 * strokes one by one and shares no code with src/dosing/dailyCap.ts.
 *
 * The rule, in the requirement's words: a decision at `now` is granted only if, for every drug and
 * every 24-hour window ending from now to 24 hours ahead, what the window already holds (each
 * stroke done since the window's start, counted as the mixture it was counted as) plus what the
 * pump will deliver until the window's end stays within the drug's hard daily maximum. What it
 * will deliver is counted in whole strokes, rounded up: ⌈(owed + programmed from now) ÷ stroke⌉.
 *
 * The oracle checks every window end where the sum can peak: the last millisecond each stroke is
 * still inside a window, and now + 24 hours, recounting the window's strokes for each.
 */
import type { DrugLibrary, Mixture } from '../src/therapy/schema.js';
import { DAY_MS, PG_PER_NG } from '../src/units.js';

/** One stroke that left the pump, and what it counts as. */
export interface DoneStroke {
  atMs: number;
  mixture: Mixture;
}

export interface CapOracleInput {
  library: DrugLibrary;
  nowMs: number;
  strokeVolumeNl: number;
  /** Every stroke done at or before now (any order; older than a day are ignored). */
  strokes: readonly DoneStroke[];
  /** Owed at now, in fine units (1/DAY_MS nL). */
  owedFine: number;
  /** Fine units the programme schedules over [now, e), for each window end e asked. */
  programmedFine: (endMs: number) => number;
  /** What every future stroke counts as. */
  mixture: Mixture;
}

export interface CapOracleExcess {
  drug: string;
  windowEndMs: number;
  dosePg: number;
  limitPg: number;
}

/** The first window past a hard daily maximum, or undefined when none is. */
export function capOracle(input: CapOracleInput): CapOracleExcess | undefined {
  const strokeFine = input.strokeVolumeNl * DAY_MS;
  const recent = input.strokes
    .filter((s) => s.atMs > input.nowMs - DAY_MS && s.atMs <= input.nowMs)
    .sort((a, b) => a.atMs - b.atMs);
  const ends = [...new Set([...recent.map((s) => s.atMs + DAY_MS - 1), input.nowMs + DAY_MS])]
    .filter((e) => e >= input.nowMs)
    .sort((a, b) => a - b);
  // The window's strokes, per drug: all recent ones at first, each taken out as the window passes it.
  const inWindow = new Map<string, number>();
  const add = (into: Map<string, number>, mixture: Mixture, volumeNl: number) => {
    for (const d of mixture)
      into.set(d.drug, (into.get(d.drug) ?? 0) + volumeNl * d.concentrationUgPerMl);
  };
  for (const s of recent) add(inWindow, s.mixture, input.strokeVolumeNl);
  let gone = 0;
  for (const end of ends) {
    for (; gone < recent.length && recent[gone]!.atMs <= end - DAY_MS; gone++)
      add(inWindow, recent[gone]!.mixture, -input.strokeVolumeNl);
    const perDrug = new Map(inWindow);
    const owedThen = input.owedFine + input.programmedFine(end);
    const strokesToCome = owedThen > 0 ? Math.ceil(owedThen / strokeFine) : 0;
    add(perDrug, input.mixture, strokesToCome * input.strokeVolumeNl);
    for (const [drug, dosePg] of perDrug) {
      const limits = input.library.drugs.find((d) => d.drug === drug);
      if (limits && dosePg > limits.dailyDoseNgHardMax * PG_PER_NG)
        return { drug, windowEndMs: end, dosePg, limitPg: limits.dailyDoseNgHardMax * PG_PER_NG };
    }
  }
  return undefined;
}

/** A bolus as the programme runs it: `rateNlPerDay` from `startMs` until `volumeNl` is programmed. */
export interface OracleBolus {
  startMs: number;
  volumeNl: number;
  rateNlPerDay: number;
}

/**
 * Fine units a basal schedule plus a bolus program over [fromMs, toMs), by the requirement's
 * arithmetic (REQ-DOS-2): each step's whole nL/day for each millisecond the real-time clock
 * (monotonic + `rtcOffsetMs`) spends in it; a bolus at its rate until its volume is reached.
 */
export function oracleProgrammedFine(
  steps: readonly { startMinute: number; rateNlPerDay: number }[],
  rtcOffsetMs: number,
  bolus: OracleBolus | undefined,
  fromMs: number,
  toMs: number,
): number {
  let fine = 0;
  for (let t = fromMs; t < toMs; ) {
    const tod = (((t + rtcOffsetMs) % DAY_MS) + DAY_MS) % DAY_MS;
    let i = 0;
    while (i + 1 < steps.length && steps[i + 1]!.startMinute * 60_000 <= tod) i++;
    const stepEnd = t + ((steps[i + 1]?.startMinute ?? 1440) * 60_000 - tod);
    const end = Math.min(toMs, stepEnd);
    fine += steps[i]!.rateNlPerDay * (end - t);
    t = end;
  }
  if (bolus) {
    const by = (t: number) =>
      Math.min(Math.max(0, bolus.rateNlPerDay * (t - bolus.startMs)), bolus.volumeNl * DAY_MS);
    fine += by(toMs) - by(fromMs);
  }
  return fine;
}

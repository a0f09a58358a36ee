/**
 * The forward daily cap (REQ-LIM-6): may a decision taken now (a press, a clinician bolus, a
 * reprogramming, a refill) be granted without any 24-hour window reaching past a drug's hard daily
 * maximum?
 *
 * A decision fixes the programme until the next decision. Every window it can reach ends somewhere
 * in [now, now + 24 h]; windows ending later hold only delivery under this programme, which the
 * programming check bounds (a day of basal plus every bolus the PTM allows, REQ-LIM-4). For a
 * window ending at e the pump knows exactly:
 * - H(e): what it has already delivered inside it, the strokes at times in (e − 24 h, now], each
 *   counted as the mixture it was counted as when its batch started;
 * - F(e): an upper bound on what it will deliver in (now, e]: N(e) = max(0, ⌈(o + P(now, e)) / S⌉)
 *   whole strokes, where o is the volume owed now (programmed, not yet delivered; negative when
 *   ahead), P the programme's integral and S a stroke, all in fine units. Counted as `mixture`.
 * The bound holds because the planner never lets a stroke come more than a stroke of volume early
 * (src/dosing/delivery.ts: the programmed volume at stroke k's time is above (k − 1)·S), and the
 * owed volume carries exactly from one batch to the next (a clamp only lowers it).
 *
 * H falls only as strokes leave the window and F only rises, so on each interval where H is
 * constant the sum peaks at the interval's right end: the last millisecond a stroke is still in
 * the window, t + 24 h − 1, or now + 24 h. Those are the only window ends checked, and checking
 * them is exact (docs/requirements.md, REQ-LIM-6, gives the proof).
 *
 * Cost: a quick bound settles most decisions at once (everything of the last 24 hours plus a whole
 * day ahead fits), a bound on eighths of the day most of the rest (a steady basal well below a
 * limit); only near the cap are the strokes walked, once each, in time order.
 * Integer arithmetic in pg and fine units throughout. Pure.
 */
import { assert } from '../assert.js';
import { rollingWindowMs } from '../constants.js';
import type { DrugLibrary, Mixture } from '../therapy/schema.js';
import { DAY_MS, PG_PER_NG } from '../units.js';
import { bolusFineAt, bolusReplacesBasal, rateAt, type Programme } from './delivery.js';

/** Strokes of one batch at firstMs, firstMs + intervalMs, …, counted as `mixture`. */
export interface StrokeRun {
  readonly firstMs: number;
  readonly intervalMs: number;
  readonly strokes: number;
  readonly mixture: Mixture;
}

export interface ForwardCapInput {
  readonly library: DrugLibrary;
  readonly nowMs: number;
  readonly strokeVolumeNl: number;
  /** Strokes done at or before now, oldest first (older than 24 hours are ignored). */
  readonly history: readonly StrokeRun[];
  /** Fine units programmed and not yet delivered at now (negative when delivery is ahead). */
  readonly owedFine: number;
  /** The programmes the decision may leave running; the highest count of each window is taken. */
  readonly programmes: readonly Programme[];
  /** What every future stroke is counted as. */
  readonly mixture: Mixture;
}

/** The first window that would pass a hard daily maximum, per the rule above. */
export interface CapExcess {
  readonly drug: string;
  /** The window (windowEndMs − 24 h, windowEndMs]. */
  readonly windowEndMs: number;
  readonly dosePg: number;
  readonly limitPg: number;
  /** Whole strokes still to come in that window. */
  readonly futureStrokes: number;
}

/** Pieces [fromMs, toMs) of a programme's basal at a constant rate, plus its bolus: P by parts. */
class ProgrammeIntegral {
  private readonly ends: number[] = [];
  private readonly cumulative: number[] = [];
  private readonly rates: number[] = [];
  private readonly starts: number[] = [];

  constructor(
    private readonly p: Programme,
    private readonly fromMs: number,
    toMs: number,
  ) {
    const basalOnly: Programme = { ...p, bolus: undefined };
    const b = p.bolus;
    const gaps: [number, number][] =
      b && bolusReplacesBasal(b)
        ? [
            [fromMs, Math.min(toMs, b.startMs)],
            [Math.max(fromMs, b.endMs), toMs],
          ]
        : [[fromMs, toMs]];
    let sum = 0;
    for (const [from, to] of gaps) {
      for (let t = from, guard = 0; t < to; guard++) {
        assert(guard < 256, 'ProgrammeIntegral: more rate changes than a day holds');
        const { rateNlPerDay, untilMs } = rateAt(basalOnly, t);
        const end = Math.min(untilMs, to);
        this.starts.push(t);
        this.rates.push(rateNlPerDay);
        this.cumulative.push(sum);
        this.ends.push(end);
        sum += rateNlPerDay * (end - t);
        t = end;
      }
    }
  }

  private piece = 0;

  /** Back to the start, for another walk. */
  reset(): void {
    this.piece = 0;
  }

  /** P(fromMs, e) in fine units, for non-decreasing `e` (a cursor: amortised constant time). */
  at(e: number): number {
    const last = this.ends.length - 1;
    while (this.piece < last && this.ends[this.piece]! <= e) this.piece++;
    const i = this.piece;
    const basal =
      last < 0
        ? 0
        : this.cumulative[i]! +
          this.rates[i]! * Math.max(0, Math.min(e, this.ends[i]!) - this.starts[i]!);
    const b = this.p.bolus;
    return basal + (b ? bolusFineAt(b, e) - bolusFineAt(b, this.fromMs) : 0);
  }
}

function limitPgOf(library: DrugLibrary, drug: string): number | undefined {
  const limits = library.drugs.find((d) => d.drug === drug);
  return limits === undefined ? undefined : limits.dailyDoseNgHardMax * PG_PER_NG;
}

/** Strokes of `r` at times after `cutoffMs`. */
function strokesAfter(r: StrokeRun, cutoffMs: number): number {
  if (r.firstMs > cutoffMs) return r.strokes;
  if (r.intervalMs <= 0) return 0;
  return Math.max(0, r.strokes - (Math.floor((cutoffMs - r.firstMs) / r.intervalMs) + 1));
}

/** Eighths of the day ahead that the segment bound judges (see `withinBySegments`). */
const SEGMENTS = 8;

/**
 * The segment bound, between the quick bound and the walk: for a window ending at e in a segment
 * [a, b] of [now, now + 24 h], what it already holds is at most what the window ending at a holds
 * (a stroke only leaves as the end moves on) and what is to come at most N(b) strokes (N only
 * rises). When that sum is within every limit on every segment, so is every window, and the walk
 * is not needed. A steady basal at two thirds of a limit passes here (2/3 + 2/3 ÷ 8 < 1) where the
 * quick bound (2/3 + 2/3) fails; whatever fails here is decided by the exact walk.
 */
function withinBySegments(
  input: ForwardCapInput,
  runs: readonly StrokeRun[],
  drugs: ReadonlySet<string>,
  futurePgPerStroke: ReadonlyMap<string, number>,
  integrals: readonly ProgrammeIntegral[],
  future: (e: number) => number,
): boolean {
  for (const i of integrals) i.reset();
  for (let k = 0; k < SEGMENTS; k++) {
    const a = input.nowMs + Math.floor((rollingWindowMs * k) / SEGMENTS);
    const b = input.nowMs + Math.floor((rollingWindowMs * (k + 1)) / SEGMENTS);
    const n = future(b);
    const cutoffMs = a - rollingWindowMs;
    for (const drug of drugs) {
      const limit = limitPgOf(input.library, drug);
      if (limit === undefined) continue;
      let pg = n * (futurePgPerStroke.get(drug) ?? 0);
      for (const r of runs) {
        const c = r.mixture.find((d) => d.drug === drug);
        if (c) pg += strokesAfter(r, cutoffMs) * input.strokeVolumeNl * c.concentrationUgPerMl;
      }
      if (pg > limit) return false;
    }
  }
  return true;
}

/** Whole strokes, at most, delivered in (now, e] for `programmedFine` = o + P(now, e). */
export function strokesBound(programmedFine: number, strokeFine: number): number {
  return programmedFine <= 0 ? 0 : Math.ceil(programmedFine / strokeFine);
}

/**
 * The first window ending in [now, now + 24 h] in which a drug would pass its hard daily maximum,
 * or undefined when every window stays within (drugs outside the library are not capped).
 */
export function forwardCapExcess(input: ForwardCapInput): CapExcess | undefined {
  const { nowMs, library, mixture } = input;
  assert(input.programmes.length > 0, 'the forward cap needs a programme');
  const strokeFine = input.strokeVolumeNl * DAY_MS;
  const horizonMs = nowMs + rollingWindowMs;
  const cutoffMs = nowMs - rollingWindowMs;
  // The strokes still inside the window ending now, oldest first.
  const runs: StrokeRun[] = [];
  for (const r of [...input.history].sort((a, b) => a.firstMs - b.firstMs)) {
    const skip = r.firstMs > cutoffMs ? 0 : Math.floor((cutoffMs - r.firstMs) / r.intervalMs) + 1;
    const lastMs = r.firstMs + (r.strokes - 1) * r.intervalMs;
    assert(r.strokes <= 0 || lastMs <= nowMs, () => `a stroke at ${lastMs} after now ${nowMs}`);
    if (skip < r.strokes)
      runs.push({ ...r, firstMs: r.firstMs + skip * r.intervalMs, strokes: r.strokes - skip });
  }
  const drugs = new Set<string>(mixture.map((d) => d.drug));
  for (const r of runs) for (const d of r.mixture) drugs.add(d.drug);
  const futurePgPerStroke = new Map<string, number>();
  for (const d of mixture)
    futurePgPerStroke.set(d.drug, input.strokeVolumeNl * d.concentrationUgPerMl);
  const historyPg = new Map<string, number>();
  for (const r of runs)
    for (const d of r.mixture)
      historyPg.set(
        d.drug,
        (historyPg.get(d.drug) ?? 0) + r.strokes * input.strokeVolumeNl * d.concentrationUgPerMl,
      );

  const integrals = input.programmes.map((p) => new ProgrammeIntegral(p, nowMs, horizonMs));
  const future = (e: number) =>
    Math.max(...integrals.map((i) => strokesBound(input.owedFine + i.at(e), strokeFine)));

  // Quick bound: all of the last 24 hours plus a whole day ahead.
  const dayAhead = future(horizonMs);
  let near = false;
  for (const drug of drugs) {
    const limit = limitPgOf(library, drug);
    const total = (historyPg.get(drug) ?? 0) + dayAhead * (futurePgPerStroke.get(drug) ?? 0);
    if (limit !== undefined && total > limit) near = true;
  }
  if (!near) return undefined;
  if (withinBySegments(input, runs, drugs, futurePgPerStroke, integrals, future)) return undefined;

  // Walk the window ends in time order: the last millisecond each stroke is inside, then now + 24 h.
  for (const i of integrals) i.reset();
  const left = new Map(historyPg);
  const check = (e: number): CapExcess | undefined => {
    const n = future(e);
    for (const drug of drugs) {
      const limit = limitPgOf(library, drug);
      if (limit === undefined) continue;
      const dose = (left.get(drug) ?? 0) + n * (futurePgPerStroke.get(drug) ?? 0);
      if (dose > limit)
        return { drug, windowEndMs: e, dosePg: dose, limitPg: limit, futureStrokes: n };
    }
    return undefined;
  };
  for (const r of runs) {
    for (let j = 0; j < r.strokes; j++) {
      const e = r.firstMs + j * r.intervalMs + rollingWindowMs - 1;
      if (e >= nowMs) {
        const excess = check(e);
        if (excess) return excess;
      }
      for (const d of r.mixture)
        left.set(d.drug, left.get(d.drug)! - input.strokeVolumeNl * d.concentrationUgPerMl);
    }
  }
  return check(horizonMs);
}

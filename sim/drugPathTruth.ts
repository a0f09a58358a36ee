/**
 * The drug path's truth: what the strokes that left the motor push through the catheter, computed
 * by the world (the catheter's plug flow), apart from the firmware's estimate. The runner feeds it;
 * the summary and the report read it.
 */
import { type StrokeRecord } from '../hal/sim/simMotor.js';
import { strokeLeavesAtMs } from '../hal/sim/strokeClock.js';
import {
  addDoses,
  concentrationOf,
  createDrugPath,
  DrugPathError,
  push,
  pathContentPg,
  inletContentPg,
  tipSegment,
  type DrugPath,
  type PathMixture,
} from '../src/dosing/catheter.js';
import { startPriming } from '../src/dosing/priming.js';
import type { Mixture } from '../src/therapy/schema.js';

const add = (into: Map<string, number>, drug: string, pg: number) =>
  into.set(drug, (into.get(drug) ?? 0) + pg);

/** A mixture change (refill) followed from the refill until its mixture first leaves the tip. */
export interface DrugChangeWindow {
  atMs: number;
  label: string;
  mixture: Mixture;
  bridged: boolean;
  arrivedAtMs: number | undefined;
  /** Per drug over the window, pg: basal volume at the tip and what the programme meant it to carry. */
  basalTipPg: Map<string, number>;
  basalIntendedPg: Map<string, number>;
  /** The same for the volume of patient and clinician boluses in the window. */
  bolusTipPg: Map<string, number>;
  bolusIntendedPg: Map<string, number>;
  /**
   * Per drug, pg a day of the old mixture at the old prescription's basal volume, at the change:
   * a drug that keeps arriving at most at this rate while it clears is a washout, not an overdose.
   */
  oldDailyPg: Map<string, number>;
}

/** A priming bolus as the simulator saw it. */
export interface PrimeRecord {
  atMs: number;
  volumeNl: number;
  /** False when the mixing model could not apply (the path's back was not one plain fluid): plug flow. */
  mixing: boolean;
  zoneLabel: string;
  fillLabel: string;
}

/** What a stroke batch's volume was programmed to carry: basal and bolus shares and their mixtures. */
export interface Intention {
  bolusShare: number;
  basal: PathMixture;
  bolus: PathMixture;
}

/**
 * The simulated drug path: plug flow (src/dosing/catheter.ts) fed by the true strokes with the true
 * reservoir mixture. It keeps, per drug, what left the tip; when each new fluid (label) first
 * reached the tip; per mixture change, the basal and bolus dose at the tip against what the
 * programme meant while the catheter cleared. Times within a batch come from the stroke at which
 * the volume crossed the tip (exact to a stroke).
 */
export class DrugPathTruth {
  path: DrugPath;
  fillLabel: string;
  private mixtures = 1;
  readonly tipPg = new Map<string, number>();
  readonly subcutaneousPg = new Map<string, number>();
  /** First time each label left the tip. */
  readonly arrivals: { label: string; atMs: number; mixture: PathMixture; changedAtMs: number }[] =
    [];
  readonly firstAtTip = new Map<string, number>();
  readonly windows: DrugChangeWindow[] = [];
  readonly primes: PrimeRecord[] = [];
  readonly pocketFills: { atMs: number; volumeNl: number; dosesPg: Map<string, number> }[] = [];
  /** The path's content at the start, so every pg can be accounted for at the end. */
  readonly initialContentPg: Map<string, number>;
  private readonly awaiting = new Map<string, { mixture: PathMixture; changedAtMs: number }>();
  private seen: { batchId: number; strokes: number } | undefined;

  constructor(deadVolumeNl: number, contents: 'drug' | 'saline', mixture: PathMixture) {
    this.fillLabel = 'mixture 1';
    this.path = createDrugPath({
      deadVolumeNl,
      fill: contents === 'drug' ? mixture : [],
      label: contents === 'drug' ? this.fillLabel : 'saline',
    });
    this.initialContentPg = new Map(pathContentPg(this.path));
    if (contents === 'saline') this.awaiting.set(this.fillLabel, { mixture, changedAtMs: 0 });
  }

  /** A refill changed the reservoir's mixture: new fluid enters behind the old. */
  mixtureChanged(
    atMs: number,
    mixture: PathMixture,
    bridged: boolean,
    oldDailyPg: Map<string, number>,
  ): void {
    this.mixtures += 1;
    this.fillLabel = `mixture ${this.mixtures}`;
    this.awaiting.set(this.fillLabel, { mixture, changedAtMs: atMs });
    const empty = () => new Map<string, number>();
    this.windows.push({
      atMs,
      label: this.fillLabel,
      mixture: [...mixture],
      bridged,
      arrivedAtMs: undefined,
      basalTipPg: empty(),
      basalIntendedPg: empty(),
      bolusTipPg: empty(),
      bolusIntendedPg: empty(),
      oldDailyPg,
    });
  }

  /** A priming bolus started: the front of the drug column becomes the mixing zone (src/dosing/priming.ts). */
  primed(
    atMs: number,
    volumeNl: number,
    mixture: PathMixture,
    model: { mixingZoneVolumePpm: number; mixingZoneSegmentCount: number },
  ): void {
    const zoneLabel = `${this.fillLabel} mixing zone`;
    let mixing = true;
    try {
      this.path = startPriming(this.path, mixture, model, zoneLabel).path;
    } catch (e) {
      if (!(e instanceof DrugPathError)) throw e;
      mixing = false; // the back of the path is not one plain fluid: plug flow
    }
    this.awaiting.set(zoneLabel, { mixture, changedAtMs: atMs });
    if (!this.arrivals.some((a) => a.label === this.fillLabel))
      this.awaiting.set(this.fillLabel, { mixture, changedAtMs: atMs });
    this.primes.push({ atMs, volumeNl, mixing, zoneLabel, fillLabel: this.fillLabel });
  }

  pocketFill(atMs: number, volumeNl: number, mixture: PathMixture): void {
    const dosesPg = new Map<string, number>();
    for (const d of mixture) {
      dosesPg.set(d.drug, volumeNl * d.concentrationUgPerMl);
      add(this.subcutaneousPg, d.drug, volumeNl * d.concentrationUgPerMl);
    }
    this.pocketFills.push({ atMs, volumeNl, dosesPg });
  }

  /** Strokes moved `r.volumeNl` of `mixture` into the path; `intention` is what the programme meant. */
  strokes(r: StrokeRecord, mixture: PathMixture, intention: Intention): void {
    const offset = this.seen?.batchId === r.batchId ? this.seen.strokes : 0;
    this.seen = { batchId: r.batchId, strokes: offset + r.strokes };
    if (r.volumeNl <= 0) return;
    const result = push(this.path, r.volumeNl, mixture, this.fillLabel);
    this.path = result.path;
    const open = this.windows.filter((w) => w.arrivedAtMs === undefined);
    let beforeNl = 0;
    for (const piece of result.leftTip) {
      // The first nL of this piece left with the stroke whose cumulative volume first passed `beforeNl`.
      const stroke = Math.min(r.strokes, Math.floor((beforeNl * r.strokes) / r.volumeNl) + 1);
      const atMs = strokeLeavesAtMs(r, offset + stroke);
      const awaited = piece.label === undefined ? undefined : this.awaiting.get(piece.label);
      if (piece.label !== undefined && awaited) {
        this.awaiting.delete(piece.label);
        this.arrivals.push({
          label: piece.label,
          atMs,
          mixture: awaited.mixture,
          changedAtMs: awaited.changedAtMs,
        });
        for (const w of open)
          if (w.label === piece.label && w.arrivedAtMs === undefined)
            this.closeWindow(w, atMs, intention, beforeNl);
      }
      for (const [drug, pg] of piece.dosePg) {
        if (pg > 0 && !this.firstAtTip.has(drug)) this.firstAtTip.set(drug, atMs);
        add(this.tipPg, drug, pg);
        for (const w of open) {
          if (w.arrivedAtMs !== undefined) continue;
          add(w.basalTipPg, drug, pg * (1 - intention.bolusShare));
          add(w.bolusTipPg, drug, pg * intention.bolusShare);
        }
      }
      beforeNl += piece.volumeNl;
    }
    for (const w of open) if (w.arrivedAtMs === undefined) this.intend(w, intention, r.volumeNl);
  }

  /** The window's mixture reached the tip after `volumeNl` of this batch: the programme's share up to there counts. */
  private closeWindow(
    w: DrugChangeWindow,
    atMs: number,
    intention: Intention,
    volumeNl: number,
  ): void {
    this.intend(w, intention, volumeNl);
    w.arrivedAtMs = atMs;
  }

  /** What the programme meant `volumeNl` to carry: the basal share at its mixture, the bolus share at the reservoir's. */
  private intend(w: DrugChangeWindow, intention: Intention, volumeNl: number): void {
    for (const d of intention.basal)
      add(
        w.basalIntendedPg,
        d.drug,
        volumeNl * (1 - intention.bolusShare) * d.concentrationUgPerMl,
      );
    for (const d of intention.bolus)
      add(w.bolusIntendedPg, d.drug, volumeNl * intention.bolusShare * d.concentrationUgPerMl);
  }

  /** Per drug, the drug still in the tubing and catheter (and a prime's inlet). */
  inPathPg(): Map<string, number> {
    const pg = new Map(pathContentPg(this.path));
    addDoses(pg, inletContentPg(this.path));
    return pg;
  }

  /** Per drug, the concentration of the fluid at the tip. */
  tipConcentrations(drugs: Iterable<string>): Record<string, number> {
    const tip = tipSegment(this.path);
    return Object.fromEntries(
      [...drugs].map((d) => [d, tip ? concentrationOf(tip.mixture, d) : 0]),
    );
  }
}

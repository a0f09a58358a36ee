/**
 * The drug path: pump tubing plus implanted catheter, from the reservoir outlet to the catheter
 * tip, as plug flow (docs/drug-path.md).
 *
 * Model and rules:
 * - The path always holds exactly its dead volume, as a first-in-first-out queue of segments,
 *   `segments[0]` at the tip. Each segment has its own mixture, so the fluid a refill or a prime
 *   puts behind the old one reaches the patient only after everything ahead of it has left.
 * - What leaves the tip is what the patient receives; `push()` returns it per drug in picograms.
 *   Arithmetic is exact integers: a volume of a segment holds `volumeNl × concentrationUgPerMl` pg
 *   of each drug, so splitting a segment is exact. Only segments made by mixing (the priming
 *   mixing zone, or the rare overflow merge below) carry `excessPg`, the part of their drug that a
 *   whole µg/mL cannot express; it leaves with the segment, rounded up per partial split, so mass
 *   is conserved to the picogram.
 * - The queue is bounded by `segmentCountMax`. Adjacent segments of the same mixture and label are
 *   merged, so steady delivery keeps one segment per fill. Only if a run of distinct tiny fills
 *   would exceed the bound are the two adjacent segments of smallest joint volume mixed into one
 *   (mass conserved; the blur is as small as the queue allows).
 * - The `inlet` is fluid committed to enter the path before reservoir fluid: the diluted back half
 *   of a priming mixing zone (src/dosing/priming.ts). It is empty in normal operation.
 * Pure functions over plain data: they return new objects and never mutate their inputs. This
 * module knows nothing of XState, the HAL, time sources or the controller's states.
 */
import { assert, assertSafeInteger } from '../assert.js';
import { concentrationUgPerMlMax, mixtureDrugsMax, rateNlPerDayMax } from '../constants.js';
import { DAY_MS, NL_PER_ML } from '../units.js';

/** Prometra catheter volume per cm of implanted length (Prometra II IFU p.33, docs/sources.md §2). */
export const PROMETRA_CATHETER_VOLUME_NL_PER_CM = 2_600;
/** Prometra catheter length before trimming (Prometra II IFU p.33, docs/sources.md §2). */
export const PROMETRA_CATHETER_LENGTH_CM_UNTRIMMED = 110;

/** Largest drug path accepted: far above any catheter (110 cm of Prometra is 0.286 mL). */
export const drugPathVolumeNlMax = 10 * NL_PER_ML;
/** Longest implanted catheter accepted. */
export const catheterLengthCmMax = 1_000;
/** Largest catheter volume per cm accepted (a 2 mm bore is about 31 µL/cm). */
export const catheterVolumeNlPerCmMax = 100_000;
/** Largest volume one `push()` may move: a whole reservoir of the largest pump, with margin. */
export const pushVolumeNlMax = 100 * NL_PER_ML;
/** Default bound of the segment queue: a prime (up to 16 zone segments) plus several fills. */
export const pathSegmentCountMaxDefault = 32;
/** Range a path's own `segmentCountMax` may take. */
export const pathSegmentCountMaxMin = 2;
export const pathSegmentCountMaxMax = 256;
/** Label given to a segment made by mixing two segments of different labels. */
export const MIXED_LABEL = 'mixed';

/** One drug of a mixture. A drug of concentration 0 is allowed inside the path (a mixing zone). */
export interface DrugConcentration {
  readonly drug: string;
  readonly concentrationUgPerMl: number;
}

/**
 * The drugs of one fluid, in the clinician's order (the first is the primary drug). An empty
 * mixture is drug-free fluid: the saline or water a new catheter is primed with.
 */
export type PathMixture = readonly DrugConcentration[];

/** Picograms per drug. */
export type DosesPg = ReadonlyMap<string, number>;

export interface PathSegment {
  readonly volumeNl: number;
  readonly mixture: PathMixture;
  /** Only on segments made by mixing: per drug, pg beyond `volumeNl × concentration`, < volumeNl. */
  readonly excessPg?: DosesPg;
  /** Where the fluid came from ("fill 2", "saline"), for reports. */
  readonly label?: string;
}

export interface DrugPath {
  readonly deadVolumeNl: number;
  readonly segmentCountMax: number;
  /** Tip first. Volumes sum to `deadVolumeNl`. */
  readonly segments: readonly PathSegment[];
  /** Fluid that enters before reservoir fluid (priming mixing zone); usually empty. */
  readonly inlet: readonly PathSegment[];
}

/** A volume of one segment's fluid that left the catheter tip. */
export interface TipOutflow {
  readonly volumeNl: number;
  readonly mixture: PathMixture;
  readonly label?: string;
  readonly dosePg: DosesPg;
}

export interface PushResult {
  readonly path: DrugPath;
  /** What left the tip, oldest first: the patient's dose. */
  readonly leftTip: readonly TipOutflow[];
  /** The sum of `leftTip` per drug. */
  readonly leftPg: DosesPg;
  /** What entered the path at the reservoir end per drug (differs from the reservoir fluid only while an inlet is consumed). */
  readonly enteredPg: DosesPg;
}

/** Bad input from the world (a configuration, a clinician's entry): names the field, the value and the limit. */
export class DrugPathError extends Error {
  override name = 'DrugPathError';
  readonly kind = 'invalidInput';
  constructor(
    readonly field: string,
    readonly value: string,
    readonly limit: string,
  ) {
    super(`${field} = ${value}: must be ${limit}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Validation

/** Throws unless `value` is an integer in [min, max]. */
export function checkInteger(field: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new DrugPathError(field, String(value), `an integer from ${min} to ${max}`);
  }
}

const drugNamePattern = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Throws unless `mixture` is a valid fluid: at most `mixtureDrugsMax` drugs of distinct
 * lower-case names, integer concentrations from `concentrationMin` (1 for a reservoir mixture,
 * 0 allowed inside the path) to `concentrationUgPerMlMax`, and at least `drugsMin` drugs.
 */
export function checkMixture(
  field: string,
  mixture: PathMixture,
  drugsMin = 0,
  concentrationMin = 1,
): void {
  if (mixture.length < drugsMin || mixture.length > mixtureDrugsMax) {
    throw new DrugPathError(
      `${field}.length`,
      String(mixture.length),
      `from ${drugsMin} to ${mixtureDrugsMax} drugs`,
    );
  }
  for (const [i, entry] of mixture.entries()) {
    if (!drugNamePattern.test(entry.drug)) {
      throw new DrugPathError(
        `${field}[${i}].drug`,
        JSON.stringify(entry.drug),
        'a lower-case drug name such as "morphine"',
      );
    }
    if (mixture.findIndex((other) => other.drug === entry.drug) !== i) {
      throw new DrugPathError(
        `${field}[${i}].drug`,
        JSON.stringify(entry.drug),
        'a drug not already in the mixture',
      );
    }
    checkInteger(
      `${field}[${i}].concentrationUgPerMl`,
      entry.concentrationUgPerMl,
      concentrationMin,
      concentrationUgPerMlMax,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Exact integer helpers

/** ⌊a / b⌋ for safe non-negative integers, exact even where the float quotient rounds. */
export function floorDiv(a: number, b: number): number {
  assert(
    Number.isSafeInteger(a) && a >= 0,
    `floorDiv: dividend ${a} is not a safe non-negative integer`,
  );
  assert(Number.isSafeInteger(b) && b > 0, `floorDiv: divisor ${b} is not a safe positive integer`);
  let q = Math.floor(a / b);
  while (q * b > a) q -= 1;
  while ((q + 1) * b <= a) q += 1;
  return q;
}

/** ⌈a / b⌉ for safe non-negative integers. */
export function ceilDiv(a: number, b: number): number {
  const q = floorDiv(a, b);
  return q * b === a ? q : q + 1;
}

/** Concentration of `drug` in a mixture; 0 when the mixture does not hold it. */
export function concentrationOf(mixture: PathMixture, drug: string): number {
  for (const entry of mixture) if (entry.drug === drug) return entry.concentrationUgPerMl;
  return 0;
}

/** Same drugs at the same concentrations, in any order; a drug at 0 counts as absent. */
export function sameMixture(a: PathMixture, b: PathMixture): boolean {
  if (a === b) return true;
  for (const entry of a)
    if (concentrationOf(b, entry.drug) !== entry.concentrationUgPerMl) return false;
  for (const entry of b)
    if (concentrationOf(a, entry.drug) !== entry.concentrationUgPerMl) return false;
  return true;
}

function addPg(into: Map<string, number>, drug: string, pg: number): void {
  const sum = (into.get(drug) ?? 0) + pg;
  assertSafeInteger(sum, `pg of ${drug}`);
  into.set(drug, sum);
}

/** Adds every drug of `from` into `into`. */
export function addDoses(into: Map<string, number>, from: DosesPg): void {
  for (const [drug, pg] of from) addPg(into, drug, pg);
}

/** Per drug, the exact picograms a segment holds (drugs at 0 included, so reports list them). */
export function segmentDosesPg(segment: PathSegment): DosesPg {
  const doses = new Map<string, number>();
  for (const { drug, concentrationUgPerMl } of segment.mixture) {
    addPg(
      doses,
      drug,
      segment.volumeNl * concentrationUgPerMl + (segment.excessPg?.get(drug) ?? 0),
    );
  }
  return doses;
}

/** A segment object without `undefined` keys, so equal segments compare equal. */
export function makeSegment(
  volumeNl: number,
  mixture: PathMixture,
  label?: string,
  excessPg?: DosesPg,
): PathSegment {
  const hasExcess = excessPg !== undefined && [...excessPg.values()].some((pg) => pg > 0);
  return {
    volumeNl,
    mixture,
    ...(hasExcess ? { excessPg: new Map([...excessPg].filter(([, pg]) => pg > 0)) } : {}),
    ...(label === undefined ? {} : { label }),
  };
}

/**
 * Splits `volumeNl` (0 < volumeNl < segment volume) off the front of a segment. The front's
 * drug is `volumeNl × concentration` plus its share of the excess rounded up, so the back keeps
 * an excess below its own volume and the two halves hold exactly what the segment held.
 */
function splitFront(
  segment: PathSegment,
  volumeNl: number,
): { front: PathSegment; back: PathSegment } {
  assert(
    volumeNl > 0 && volumeNl < segment.volumeNl,
    `split of ${volumeNl} nL from a segment of ${segment.volumeNl} nL`,
  );
  const backNl = segment.volumeNl - volumeNl;
  if (segment.excessPg === undefined) {
    return {
      front: makeSegment(volumeNl, segment.mixture, segment.label),
      back: makeSegment(backNl, segment.mixture, segment.label),
    };
  }
  const frontExcess = new Map<string, number>();
  const backExcess = new Map<string, number>();
  for (const [drug, pg] of segment.excessPg) {
    const frontPg = ceilDiv(volumeNl * pg, segment.volumeNl);
    frontExcess.set(drug, frontPg);
    backExcess.set(drug, pg - frontPg);
  }
  return {
    front: normalisedSegment(volumeNl, segment.mixture, segment.label, frontExcess),
    back: normalisedSegment(backNl, segment.mixture, segment.label, backExcess),
  };
}

/**
 * A segment whose excess may have reached its volume (a split can give a piece up to one pg per
 * nL): whole µg/mL move from the excess into the concentration, so the excess is again below the
 * volume. The piece then differs from its parent's mixture, which is the truth about it.
 */
function normalisedSegment(
  volumeNl: number,
  mixture: PathMixture,
  label: string | undefined,
  excessPg: Map<string, number>,
): PathSegment {
  if ([...excessPg.values()].every((pg) => pg < volumeNl))
    return makeSegment(volumeNl, mixture, label, excessPg);
  const normalised = mixture.map(({ drug, concentrationUgPerMl }) => {
    const pg = excessPg.get(drug) ?? 0;
    const wholeUgPerMl = floorDiv(pg, volumeNl);
    excessPg.set(drug, pg - wholeUgPerMl * volumeNl);
    return { drug, concentrationUgPerMl: concentrationUgPerMl + wholeUgPerMl };
  });
  return makeSegment(volumeNl, normalised, label, excessPg);
}

function mergeable(a: PathSegment, b: PathSegment): boolean {
  return a.label === b.label && sameMixture(a.mixture, b.mixture);
}

/** Joins two segments of the same mixture and label. Excesses add and stay below the joint volume. */
function merge(a: PathSegment, b: PathSegment): PathSegment {
  if (a.excessPg === undefined && b.excessPg === undefined)
    return makeSegment(a.volumeNl + b.volumeNl, a.mixture, a.label);
  const excess = new Map(a.excessPg ?? []);
  addDoses(excess, b.excessPg ?? new Map());
  return makeSegment(a.volumeNl + b.volumeNl, a.mixture, a.label, excess);
}

/** Appends a segment, merging it into the last one when they hold the same fluid. */
function appendMerging(queue: PathSegment[], segment: PathSegment): void {
  const last = queue[queue.length - 1];
  if (last !== undefined && mergeable(last, segment))
    queue[queue.length - 1] = merge(last, segment);
  else queue.push(segment);
}

/**
 * Mixes two adjacent segments into one: the union of their drugs at the mean concentration
 * rounded down, the remainder kept as excess. Used only when the queue would exceed its bound.
 */
export function mixSegments(a: PathSegment, b: PathSegment): PathSegment {
  const volumeNl = a.volumeNl + b.volumeNl;
  const totals = new Map(segmentDosesPg(a));
  addDoses(totals, segmentDosesPg(b));
  const mixture: DrugConcentration[] = [];
  const excess = new Map<string, number>();
  for (const [drug, pg] of totals) {
    const concentrationUgPerMl = floorDiv(pg, volumeNl);
    mixture.push({ drug, concentrationUgPerMl });
    excess.set(drug, pg - concentrationUgPerMl * volumeNl);
  }
  return makeSegment(volumeNl, mixture, a.label === b.label ? a.label : MIXED_LABEL, excess);
}

/** Mixes the adjacent pair of smallest joint volume (the oldest on a tie) until the bound holds. */
function boundSegments(queue: PathSegment[], segmentCountMax: number): PathSegment[] {
  while (queue.length > segmentCountMax) {
    let best = 0;
    for (let i = 1; i + 1 < queue.length; i++) {
      if (
        queue[i]!.volumeNl + queue[i + 1]!.volumeNl <
        queue[best]!.volumeNl + queue[best + 1]!.volumeNl
      )
        best = i;
    }
    queue.splice(best, 2, mixSegments(queue[best]!, queue[best + 1]!));
  }
  return queue;
}

/** Asserts the queue invariants (our bug if they fail): exact volume, positive parts, small excess, bound. */
export function assertPathInvariants(path: DrugPath): void {
  let volumeNl = 0;
  for (const segment of [...path.segments, ...path.inlet]) {
    assert(
      Number.isSafeInteger(segment.volumeNl) && segment.volumeNl > 0,
      `segment volume ${segment.volumeNl} is not a positive integer`,
    );
    for (const [drug, pg] of segment.excessPg ?? []) {
      assert(
        Number.isSafeInteger(pg) && pg >= 0,
        `excess of ${drug} ${pg} is not a non-negative integer`,
      );
      assert(
        pg < segment.volumeNl,
        `excess of ${drug} ${pg} pg is not below the segment volume ${segment.volumeNl} nL`,
      );
    }
  }
  for (const segment of path.segments) volumeNl += segment.volumeNl;
  assert(
    volumeNl === path.deadVolumeNl,
    `segments hold ${volumeNl} nL, the dead volume is ${path.deadVolumeNl} nL`,
  );
  assert(
    path.segments.length <= path.segmentCountMax,
    `${path.segments.length} segments exceed the bound ${path.segmentCountMax}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Construction

export interface DrugPathGeometry {
  /** Volume inside the pump from the reservoir outlet to the catheter port. */
  readonly pumpTubingVolumeNl: number;
  /** Implanted catheter length (Prometra: 110 cm minus the trimmed length). */
  readonly catheterLengthCm: number;
  /** Catheter volume per cm (Prometra: 2600 nL/cm). */
  readonly catheterVolumeNlPerCm: number;
}

/** Dead volume of a drug path: pump tubing plus catheter length × volume per cm. */
export function drugPathVolumeNl(geometry: DrugPathGeometry): number {
  checkInteger('pumpTubingVolumeNl', geometry.pumpTubingVolumeNl, 0, drugPathVolumeNlMax);
  checkInteger('catheterLengthCm', geometry.catheterLengthCm, 0, catheterLengthCmMax);
  checkInteger(
    'catheterVolumeNlPerCm',
    geometry.catheterVolumeNlPerCm,
    0,
    catheterVolumeNlPerCmMax,
  );
  const volumeNl =
    geometry.pumpTubingVolumeNl + geometry.catheterLengthCm * geometry.catheterVolumeNlPerCm;
  checkInteger(
    'pumpTubingVolumeNl + catheterLengthCm × catheterVolumeNlPerCm',
    volumeNl,
    0,
    drugPathVolumeNlMax,
  );
  return volumeNl;
}

export interface DrugPathSpec {
  readonly deadVolumeNl: number;
  /** What the path holds now: drug-free fluid after implant, or the mixture it already carries. */
  readonly fill: PathMixture;
  readonly label?: string;
  readonly segmentCountMax?: number;
}

/** A path full of one fluid. */
export function createDrugPath(spec: DrugPathSpec): DrugPath {
  checkInteger('deadVolumeNl', spec.deadVolumeNl, 0, drugPathVolumeNlMax);
  checkMixture('fill', spec.fill);
  const segmentCountMax = spec.segmentCountMax ?? pathSegmentCountMaxDefault;
  checkInteger('segmentCountMax', segmentCountMax, pathSegmentCountMaxMin, pathSegmentCountMaxMax);
  const segments =
    spec.deadVolumeNl === 0 ? [] : [makeSegment(spec.deadVolumeNl, spec.fill, spec.label)];
  return { deadVolumeNl: spec.deadVolumeNl, segmentCountMax, segments, inlet: [] };
}

// ---------------------------------------------------------------------------------------------
// Flow

/** Takes `volumeNl` off the front of a queue. */
function takeFront(
  queue: readonly PathSegment[],
  volumeNl: number,
): { taken: PathSegment[]; rest: PathSegment[] } {
  const taken: PathSegment[] = [];
  let index = 0;
  let remainingNl = volumeNl;
  let rest: PathSegment[] = [];
  while (remainingNl > 0) {
    const segment = queue[index];
    assert(segment !== undefined, `took ${volumeNl} nL from a queue that holds less`);
    if (segment.volumeNl <= remainingNl) {
      taken.push(segment);
      remainingNl -= segment.volumeNl;
      index += 1;
    } else {
      const { front, back } = splitFront(segment, remainingNl);
      taken.push(front);
      rest = [back];
      index += 1;
      remainingNl = 0;
    }
  }
  for (; index < queue.length; index++) rest.push(queue[index]!);
  return { taken, rest };
}

/** The fluid entering the path for a push: inlet first, then reservoir fluid. */
function enteringFluid(
  path: DrugPath,
  volumeNl: number,
  mixture: PathMixture,
  label: string | undefined,
) {
  let inletNl = 0;
  for (const segment of path.inlet) inletNl += segment.volumeNl;
  if (inletNl === 0)
    return { entering: [makeSegment(volumeNl, mixture, label)], inlet: path.inlet };
  const fromInletNl = Math.min(volumeNl, inletNl);
  const { taken, rest } = takeFront(path.inlet, fromInletNl);
  if (fromInletNl < volumeNl) taken.push(makeSegment(volumeNl - fromInletNl, mixture, label));
  return { entering: taken, inlet: rest };
}

/**
 * Pushes `volumeNl` of reservoir fluid (`mixture`) into the path; the same volume leaves the tip.
 * Returns the new path and exactly what left, per segment and per drug. A push larger than the
 * path sends part of the pushed fluid itself out of the tip.
 */
export function push(
  path: DrugPath,
  volumeNl: number,
  mixture: PathMixture,
  label?: string,
): PushResult {
  checkInteger('volumeNl', volumeNl, 0, pushVolumeNlMax);
  checkMixture('mixture', mixture);
  if (volumeNl === 0) return { path, leftTip: [], leftPg: new Map(), enteredPg: new Map() };
  const { entering, inlet } = enteringFluid(path, volumeNl, mixture, label);
  const enteredPg = new Map<string, number>();
  const queue = [...path.segments];
  for (const segment of entering) {
    addDoses(enteredPg, segmentDosesPg(segment));
    appendMerging(queue, segment);
  }
  const { taken, rest } = takeFront(queue, volumeNl);
  const leftPg = new Map<string, number>();
  const leftTip = taken.map((segment): TipOutflow => {
    const dosePg = segmentDosesPg(segment);
    addDoses(leftPg, dosePg);
    return {
      volumeNl: segment.volumeNl,
      mixture: segment.mixture,
      ...(segment.label === undefined ? {} : { label: segment.label }),
      dosePg,
    };
  });
  const next: DrugPath = { ...path, segments: boundSegments(rest, path.segmentCountMax), inlet };
  assertPathInvariants(next);
  return { path: next, leftTip, leftPg, enteredPg };
}

// ---------------------------------------------------------------------------------------------
// Queries

/** Per drug, what the path holds now (inlet excluded). */
export function pathContentPg(path: DrugPath): DosesPg {
  const doses = new Map<string, number>();
  for (const segment of path.segments) addDoses(doses, segmentDosesPg(segment));
  return doses;
}

/** Per drug, what the inlet holds (non-empty only during a prime). */
export function inletContentPg(path: DrugPath): DosesPg {
  const doses = new Map<string, number>();
  for (const segment of path.inlet) addDoses(doses, segmentDosesPg(segment));
  return doses;
}

export function inletVolumeNl(path: DrugPath): number {
  let volumeNl = 0;
  for (const segment of path.inlet) volumeNl += segment.volumeNl;
  return volumeNl;
}

/** The fluid at the tip, i.e. the mixture the patient receives now; undefined for a path of no volume. */
export function tipSegment(path: DrugPath): PathSegment | undefined {
  return path.segments[0];
}

/** Volume that must be pushed before segment `segmentIndex` first reaches the tip. */
export function volumeAheadNl(path: DrugPath, segmentIndex: number): number {
  checkInteger('segmentIndex', segmentIndex, 0, Math.max(0, path.segments.length - 1));
  let volumeNl = 0;
  for (let i = 0; i < segmentIndex; i++) volumeNl += path.segments[i]!.volumeNl;
  return volumeNl;
}

/** Volume ahead of the newest segment: what must still be pushed before it first reaches the tip. */
export function volumeAheadOfNewestNl(path: DrugPath): number {
  const newest = path.segments[path.segments.length - 1];
  return newest === undefined ? 0 : path.deadVolumeNl - newest.volumeNl;
}

/** Volume to push before fluid now in the reservoir first reaches the tip: the path plus any inlet. */
export function volumeAheadOfReservoirNl(path: DrugPath): number {
  return path.deadVolumeNl + inletVolumeNl(path);
}

/** Time to push `volumeNl` at a constant rate, rounded up to a whole ms (by then it has all been pushed). */
export function pushDurationMs(volumeNl: number, rateNlPerDay: number): number {
  checkInteger('volumeNl', volumeNl, 0, pushVolumeNlMax);
  checkInteger('rateNlPerDay', rateNlPerDay, 1, rateNlPerDayMax);
  const fine = volumeNl * DAY_MS;
  assertSafeInteger(fine, 'volumeNl × DAY_MS');
  return ceilDiv(fine, rateNlPerDay);
}

/** Time until segment `segmentIndex` first reaches the tip at a constant rate (ceil, ms). */
export function segmentAtTipAfterMs(
  path: DrugPath,
  segmentIndex: number,
  rateNlPerDay: number,
): number {
  return pushDurationMs(volumeAheadNl(path, segmentIndex), rateNlPerDay);
}

/** Time until fluid now in the reservoir (a new mixture after a refill) first reaches the tip (ceil, ms). */
export function reservoirFluidAtTipAfterMs(path: DrugPath, rateNlPerDay: number): number {
  return pushDurationMs(volumeAheadOfReservoirNl(path), rateNlPerDay);
}

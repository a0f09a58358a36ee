/**
 * The priming bolus and the mixing model at the front of the drug column (docs/drug-path.md).
 *
 * After implant or a catheter revision the drug path holds drug-free fluid; a priming bolus pushes
 * the dead volume at a high programmed rate so the drug reaches the tip. At high rates drug and
 * fluid mix: some drug arrives early, and the fluid behind it arrives diluted (docs/sources.md §1.2, F4).
 *
 * The model (an explicit, documented model, not a measured profile):
 * - The sharp interface between the fluid in the path (ahead) and the drug (behind) becomes a
 *   mixing zone of volume Z, centred on the interface: Z/2 of the fluid ahead and Z/2 of the drug
 *   behind. Across the zone the concentration of every drug ramps linearly from its value ahead to
 *   its value behind. Z is a fraction of the dead volume (`mixingZoneVolumePpm`); it is fixed when
 *   the prime starts and does not grow with distance travelled.
 * - The zone is cut into k equal segments (k even, so a cut falls on the interface). Segment i
 *   holds exactly ⌊F(end)⌋ − ⌊F(start)⌋ pg of a drug, F being the ramp's cumulative mass, so the
 *   zone holds exactly what the two halves held before mixing: (Z/2)·ahead + (Z/2)·behind per drug.
 *   Each segment's concentration is that mass over its volume rounded down to a whole µg/mL; the
 *   rest is the segment's `excessPg` and leaves with it.
 * - The front half replaces the last Z/2 of fluid in the path; the back half becomes the path's
 *   inlet, entering before reservoir fluid. The drug the front half gained ahead of time is exactly
 *   the drug the inlet lacks compared with reservoir fluid (`advancedPg`), so once the inlet has
 *   entered, drug in the path plus drug that left the tip equals what was there plus what the
 *   reservoir gave, to the picogram.
 * Pure functions; nothing of XState, the HAL or time sources.
 */
import { assert, assertSafeInteger } from '../assert.js';
import {
  assertPathInvariants,
  checkInteger,
  checkMixture,
  DrugPathError,
  drugPathVolumeNlMax,
  floorDiv,
  makeSegment,
  segmentDosesPg,
  type DosesPg,
  type DrugConcentration,
  type DrugPath,
  type PathMixture,
  type PathSegment,
} from './catheter.js';
import { NL_PER_ML } from '../units.js';

export interface MixingZoneModel {
  /** Zone volume as parts per million of the dead volume (0 turns mixing off: plug flow). */
  readonly mixingZoneVolumePpm: number;
  /** Segments the zone is cut into: even, half ahead of the interface and half behind. */
  readonly mixingZoneSegmentCount: number;
}

/** Placeholders (no source gives a mixing volume): a zone of 20 % of the dead volume in 8 steps. */
export const mixingZoneModelDefault: MixingZoneModel = {
  mixingZoneVolumePpm: 200_000,
  mixingZoneSegmentCount: 8,
};
/**
 * Default priming rate when neither the command nor the pump configuration names one: 12 mL/day
 * (0.5 mL/h, a 0.26 mL catheter in about half an hour). A placeholder: no source gives a rate.
 */
export const primingRateNlPerDayDefault = 12 * NL_PER_ML;
/** At most this many zone segments, so a prime fits the path's segment bound with room to spare. */
export const mixingZoneSegmentCountMax = 16;
/** The zone may not exceed the dead volume (a ramp longer than the path would reach the tip at once). */
export const mixingZoneVolumePpmMax = 1_000_000;
export const PRIMING_ZONE_LABEL = 'priming mixing zone';

const PPM = 1_000_000;

/** Zone volume for a dead volume: rounded down to an even number of nL, so it splits in two halves. */
export function mixingZoneVolumeNl(deadVolumeNl: number, mixingZoneVolumePpm: number): number {
  checkInteger('deadVolumeNl', deadVolumeNl, 0, drugPathVolumeNlMax);
  checkInteger('mixingZoneVolumePpm', mixingZoneVolumePpm, 0, mixingZoneVolumePpmMax);
  return 2 * Math.floor((deadVolumeNl * mixingZoneVolumePpm) / (2 * PPM));
}

/** ⌊a / b⌋ for big integers of any sign (BigInt division truncates toward zero). */
function floorDivBig(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** ⌊F(x)⌋, F(x) = x·a + (b − a)·x² / (2Z): the ramp's mass from the zone's front to position x. */
function rampMassFloorPg(
  x: number,
  aheadUgPerMl: number,
  behindUgPerMl: number,
  zoneVolumeNl: number,
): number {
  const big =
    BigInt(x) * BigInt(aheadUgPerMl) +
    floorDivBig(
      BigInt(behindUgPerMl - aheadUgPerMl) * BigInt(x) * BigInt(x),
      2n * BigInt(zoneVolumeNl),
    );
  const pg = Number(big);
  assertSafeInteger(pg, 'ramp mass');
  return pg;
}

/** Drugs of both fluids: the drug's own order first, then those only the fluid ahead holds. */
function zoneDrugs(ahead: PathMixture, behind: PathMixture): string[] {
  const drugs = behind.map((d) => d.drug);
  for (const { drug } of ahead) if (!drugs.includes(drug)) drugs.push(drug);
  return drugs;
}

/**
 * The mixing zone between a fluid ahead and a fluid behind it, front (tip side) first: `segmentCount`
 * segments whose concentrations ramp linearly. The first half lies ahead of the interface.
 */
export function mixingZoneSegments(
  ahead: PathMixture,
  behind: PathMixture,
  zoneVolumeNl: number,
  segmentCount: number,
  label = PRIMING_ZONE_LABEL,
): readonly PathSegment[] {
  checkMixture('ahead', ahead, 0, 0);
  checkMixture('behind', behind);
  checkInteger('mixingZoneSegmentCount', segmentCount, 2, mixingZoneSegmentCountMax);
  if (segmentCount % 2 !== 0)
    throw new DrugPathError(
      'mixingZoneSegmentCount',
      String(segmentCount),
      'even, so a cut falls on the interface',
    );
  checkInteger('zoneVolumeNl', zoneVolumeNl, segmentCount, drugPathVolumeNlMax);
  if (zoneVolumeNl % 2 !== 0)
    throw new DrugPathError(
      'zoneVolumeNl',
      String(zoneVolumeNl),
      'even, so it splits into two equal halves',
    );
  const drugs = zoneDrugs(ahead, behind);
  const cut = (i: number) => Math.floor((i * zoneVolumeNl) / segmentCount);
  const segments: PathSegment[] = [];
  for (let i = 0; i < segmentCount; i++) {
    const startNl = cut(i);
    const volumeNl = cut(i + 1) - startNl;
    const mixture: DrugConcentration[] = [];
    const excessPg = new Map<string, number>();
    for (const drug of drugs) {
      const a = ahead.find((d) => d.drug === drug)?.concentrationUgPerMl ?? 0;
      const b = behind.find((d) => d.drug === drug)?.concentrationUgPerMl ?? 0;
      const pg =
        rampMassFloorPg(startNl + volumeNl, a, b, zoneVolumeNl) -
        rampMassFloorPg(startNl, a, b, zoneVolumeNl);
      assert(pg >= 0, `zone mass of ${drug} is negative: ${pg} pg`);
      const concentrationUgPerMl = floorDiv(pg, volumeNl);
      mixture.push({ drug, concentrationUgPerMl });
      excessPg.set(drug, pg - concentrationUgPerMl * volumeNl);
    }
    segments.push(makeSegment(volumeNl, mixture, label, excessPg));
  }
  return segments;
}

/** The priming bolus: the dead volume (pump tubing + catheter), plus an optional margin. */
export function primingBolusVolumeNl(path: DrugPath, marginNl = 0): number {
  checkInteger('marginNl', marginNl, 0, drugPathVolumeNlMax);
  return path.deadVolumeNl + marginNl;
}

export interface PrimingStart {
  /** The path with the zone's front half at its back and its back half as the inlet. */
  readonly path: DrugPath;
  readonly zoneVolumeNl: number;
  /** Per drug, drug placed in the path ahead of the reservoir (negative: a drug of the fluid ahead moved back). */
  readonly advancedPg: DosesPg;
}

/**
 * Starts a prime of `drugMixture` into a path whose back holds one plain fluid (after implant: all
 * of it). Push the priming bolus with `push()` afterwards; the inlet enters first by itself.
 */
export function startPriming(
  path: DrugPath,
  drugMixture: PathMixture,
  model: MixingZoneModel = mixingZoneModelDefault,
  label = PRIMING_ZONE_LABEL,
): PrimingStart {
  checkMixture('drugMixture', drugMixture, 1);
  if (path.inlet.length > 0)
    throw new DrugPathError(
      'path.inlet',
      `${path.inlet.length} segments`,
      'empty: a prime is already in progress',
    );
  const zoneVolumeNl = mixingZoneVolumeNl(path.deadVolumeNl, model.mixingZoneVolumePpm);
  if (zoneVolumeNl === 0) return { path, zoneVolumeNl, advancedPg: new Map() };
  checkInteger(
    'mixingZoneSegmentCount',
    model.mixingZoneSegmentCount,
    2,
    Math.min(mixingZoneSegmentCountMax, path.segmentCountMax - 2),
  );
  const halfNl = zoneVolumeNl / 2;
  const back = path.segments[path.segments.length - 1];
  if (back === undefined || back.volumeNl < halfNl || back.excessPg !== undefined) {
    throw new DrugPathError(
      'path',
      `${back?.volumeNl ?? 0} nL of plain fluid at the back`,
      `at least half the mixing zone, ${halfNl} nL of one plain fluid`,
    );
  }
  const zone = mixingZoneSegments(
    back.mixture,
    drugMixture,
    zoneVolumeNl,
    model.mixingZoneSegmentCount,
    label,
  );
  const frontHalf = zone.slice(0, zone.length / 2);
  const keptNl = back.volumeNl - halfNl;
  const segments = [
    ...path.segments.slice(0, -1),
    ...(keptNl > 0 ? [makeSegment(keptNl, back.mixture, back.label)] : []),
    ...frontHalf,
  ];
  if (segments.length > path.segmentCountMax) {
    throw new DrugPathError(
      'path.segments.length',
      String(path.segments.length),
      `at most ${path.segmentCountMax - frontHalf.length} before a prime with ${zone.length} zone segments`,
    );
  }
  const advancedPg = new Map<string, number>();
  for (const segment of frontHalf) {
    for (const [drug, pg] of segmentDosesPg(segment))
      advancedPg.set(drug, (advancedPg.get(drug) ?? 0) + pg);
  }
  for (const { drug, concentrationUgPerMl } of back.mixture)
    advancedPg.set(drug, (advancedPg.get(drug) ?? 0) - halfNl * concentrationUgPerMl);
  const primed: DrugPath = { ...path, segments, inlet: zone.slice(zone.length / 2) };
  assertPathInvariants(primed);
  return { path: primed, zoneVolumeNl, advancedPg };
}

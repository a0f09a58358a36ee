/**
 * The priming bolus and its mixing zone.
 *
 * Method: an untrimmed Prometra catheter (110 cm × 2600 nL/cm = 286 000 nL) full of saline is
 * primed with morphine 25 mg/mL; the mixing zone is 20 % of the dead volume (57 200 nL) in 8
 * segments of 7 150 nL. The zone's mass per segment is worked out by hand from the linear ramp,
 * the tip's output is pushed one zone segment at a time, and mass conservation is checked exactly
 * (here on one example; tests/dosing/catheter.property.test.ts checks it for random primes).
 */
import { describe, expect, it } from 'vitest';
import {
  createDrugPath,
  inletContentPg,
  inletVolumeNl,
  pathContentPg,
  push,
  type DosesPg,
  type DrugPath,
  type PathMixture,
} from '../../src/dosing/catheter.js';
import {
  mixingZoneSegments,
  mixingZoneVolumeNl,
  primingBolusVolumeNl,
  startPriming,
} from '../../src/dosing/priming.js';

const deadVolumeNl = 110 * 2_600;
const morphine25: PathMixture = [{ drug: 'morphine', concentrationUgPerMl: 25_000 }];
const saline = () => createDrugPath({ deadVolumeNl, fill: [], label: 'saline' });
const model = { mixingZoneVolumePpm: 200_000, mixingZoneSegmentCount: 8 };
const pg = (doses: DosesPg, drug = 'morphine') => doses.get(drug) ?? 0;

// Zone Z = 57 200 nL, segment v = 7 150 nL, c = 25 000 µg/mL. Over a linear ramp from 0 to c, the
// segment i (front first) holds c·v·(2i + 1)/(2k) = 25 000 × 7 150 × (2i + 1) / 16 pg.
const zoneUnitPg = (25_000 * 7_150) / 16; // 11 171 875 pg

/** Pushes `count` chunks of `chunkNl` of morphine and returns the pg of each chunk at the tip. */
function chunksAtTip(path: DrugPath, chunkNl: number, count: number) {
  const chunks: number[] = [];
  for (let i = 0; i < count; i++) {
    const result = push(path, chunkNl, morphine25, 'fill 1');
    path = result.path;
    chunks.push(pg(result.leftPg));
  }
  return { path, chunks };
}

describe('priming bolus volume', () => {
  it('is the dead volume, plus a margin when one is asked for', () => {
    expect(primingBolusVolumeNl(saline())).toBe(286_000);
    expect(primingBolusVolumeNl(saline(), 10_000)).toBe(296_000);
    expect(() => primingBolusVolumeNl(saline(), -1)).toThrow('marginNl = -1');
  });
});

describe('mixing zone', () => {
  it('is 20 % of the dead volume rounded down to an even nL, and 0 turns it off', () => {
    expect(mixingZoneVolumeNl(deadVolumeNl, 200_000)).toBe(57_200);
    expect(mixingZoneVolumeNl(1_001, 500_000)).toBe(500); // 500.5 → 500 (even)
    expect(mixingZoneVolumeNl(1_003, 500_000)).toBe(500); // 501.5 → 501 → 500 (even)
    expect(mixingZoneVolumeNl(deadVolumeNl, 0)).toBe(0);
  });

  it('ramps linearly: segment i holds c·v·(2i+1)/16, split into whole µg/mL plus an exact excess', () => {
    const zone = mixingZoneSegments([], morphine25, 57_200, 8);
    expect(zone.map((s) => s.volumeNl)).toEqual(Array(8).fill(7_150));
    zone.forEach((segment, i) => {
      expect(
        pg(
          pathContentPg({
            deadVolumeNl: 7_150,
            segmentCountMax: 2,
            segments: [segment],
            inlet: [],
          }),
        ),
      ).toBe(zoneUnitPg * (2 * i + 1));
    });
    // Segment 0: 1 562.5 µg/mL → 1 562 µg/mL and 0.5 × 7 150 = 3 575 pg of excess.
    expect(zone[0]!.mixture).toEqual([{ drug: 'morphine', concentrationUgPerMl: 1_562 }]);
    expect(zone[0]!.excessPg).toEqual(new Map([['morphine', 3_575]]));
    // Segment 1: 4 687.5 µg/mL.
    expect(zone[1]!.mixture).toEqual([{ drug: 'morphine', concentrationUgPerMl: 4_687 }]);
  });

  it('holds exactly what the two halves held before mixing, even with an odd segment volume', () => {
    // 1 000 nL in 6 segments: cuts at 0, 166, 333, 500, 666, 833, 1000.
    const zone = mixingZoneSegments(
      [{ drug: 'baclofen', concentrationUgPerMl: 50 }],
      morphine25,
      1_000,
      6,
    );
    const total = pathContentPg({
      deadVolumeNl: 1_000,
      segmentCountMax: 6,
      segments: zone,
      inlet: [],
    });
    expect(pg(total, 'morphine')).toBe(500 * 25_000);
    expect(pg(total, 'baclofen')).toBe(500 * 50);
    expect(zone.map((s) => s.volumeNl)).toEqual([166, 167, 167, 166, 167, 167]);
  });

  it('refuses an odd segment count or a zone smaller than its segments, naming the field', () => {
    expect(() => mixingZoneSegments([], morphine25, 1_000, 5)).toThrow(
      /mixingZoneSegmentCount = 5: must be even/,
    );
    expect(() => mixingZoneSegments([], morphine25, 6, 8)).toThrow(
      /zoneVolumeNl = 6: must be an integer from 8/,
    );
  });
});

describe('a prime of an untrimmed Prometra catheter', () => {
  const start = startPriming(saline(), morphine25, model);

  it('puts the zone front ahead of the interface and the diluted back half in the inlet', () => {
    expect(start.zoneVolumeNl).toBe(57_200);
    expect(start.path.segments.map((s) => s.volumeNl)).toEqual([
      286_000 - 28_600,
      7_150,
      7_150,
      7_150,
      7_150,
    ]);
    expect(inletVolumeNl(start.path)).toBe(28_600);
    // Front half: (1 + 3 + 5 + 7) units = c·Z/8 of morphine placed ahead of the reservoir.
    expect(pg(start.advancedPg)).toBe(16 * zoneUnitPg);
    expect(pg(start.advancedPg)).toBe((25_000 * 57_200) / 8);
    // Back half: (9 + 11 + 13 + 15) units, which is Z/2 of morphine minus what went ahead.
    expect(pg(inletContentPg(start.path))).toBe(28_600 * 25_000 - pg(start.advancedPg));
  });

  it('shows a ramp at the tip, not a step: drug arrives early, then diluted', () => {
    // Push the bolus and Z/2 more in zone-segment chunks: 286 000 / 7 150 = 40, plus 4.
    const { chunks } = chunksAtTip(start.path, 7_150, 44);
    // Saline for D − Z/2 = 257 400 nL = 36 chunks, then the 8 zone segments, each (2i + 1) units.
    expect(chunks.slice(0, 36).every((p) => p === 0)).toBe(true);
    expect(chunks.slice(36)).toEqual([1, 3, 5, 7, 9, 11, 13, 15].map((n) => n * zoneUnitPg));
    // Plug flow would give nothing before 286 000 nL and full strength (16 units) after it.
    const plug = chunksAtTip(
      startPriming(saline(), morphine25, { ...model, mixingZoneVolumePpm: 0 }).path,
      7_150,
      44,
    ).chunks;
    expect(plug.slice(0, 40).every((p) => p === 0)).toBe(true);
    expect(plug.slice(40)).toEqual(Array(4).fill(16 * zoneUnitPg));
  });

  it('delivers the early drug during the bolus and leaves the diluted half for after it', () => {
    const bolus = push(start.path, primingBolusVolumeNl(start.path), morphine25, 'fill 1');
    expect(pg(bolus.leftPg)).toBe(pg(start.advancedPg));
    // The next Z/2 at basal rate carries 9 + 11 + 13 + 15 = 48 units instead of 64 of full strength.
    const after = push(bolus.path, 28_600, morphine25, 'fill 1');
    expect(pg(after.leftPg)).toBe(48 * zoneUnitPg);
    expect(48 * zoneUnitPg).toBeLessThan(28_600 * 25_000);
    // Then full strength.
    expect(pg(push(after.path, 1_000, morphine25, 'fill 1').leftPg)).toBe(1_000 * 25_000);
  });

  it('conserves morphine exactly: what left the tip plus what is in the path equals what left the reservoir', () => {
    let path = start.path;
    let leftPg = 0;
    let pushedNl = 0;
    for (const volumeNl of [1, 99_999, 150_000, 7_151, 3, 28_600, 40_000]) {
      const result = push(path, volumeNl, morphine25, 'fill 1');
      path = result.path;
      leftPg += pg(result.leftPg);
      pushedNl += volumeNl;
    }
    expect(inletVolumeNl(path)).toBe(0);
    expect(leftPg + pg(pathContentPg(path))).toBe(pushedNl * 25_000);
  });

  it('refuses to start a second prime while the inlet of the first has not entered', () => {
    expect(() => startPriming(start.path, morphine25, model)).toThrow(
      /path.inlet = 4 segments: must be empty/,
    );
  });
});

/** Parsing and formatting of human quantities (src/units.ts): exact, and errors name what was expected. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as u from '../../src/units.js';

describe('units', () => {
  it('parses quantities exactly into firmware integers', () => {
    expect(u.parseVolumeNl('0.1 mL')).toBe(100_000);
    expect(u.parseVolumeNl('0.5 uL')).toBe(500);
    expect(u.parseDailyDoseNg('2.6 mg/day')).toBe(2_600_000);
    expect(u.parseDailyDoseNg('65 µg/day')).toBe(65_000);
    expect(u.parseConcentrationUgPerMl('30 mg/mL')).toBe(30_000);
    expect(u.parseRateNlPerDay('0.048 mL/day')).toBe(48_000);
    expect(u.parseDurationMs('1d 2h 30min')).toBe(u.DAY_MS + 2 * u.HOUR_MS + 30 * u.MINUTE_MS);
    expect(u.parseTimeMs('2d 08:10')).toBe(2 * u.DAY_MS + 8 * u.HOUR_MS + 10 * u.MINUTE_MS);
    expect(u.parseTimeMs('36h')).toBe(36 * u.HOUR_MS);
  });

  it('refuses what it cannot read exactly, saying what it expected', () => {
    expect(() => u.parseVolumeNl('20 lbs')).toThrow(/not a volume .*mL/);
    expect(() => u.parseVolumeNl('0.0000001 mL')).toThrow(/more precise/);
    expect(() => u.parseTimeMs('2d 25:00')).toThrow(/time/);
    expect(() => u.parseDurationMs('')).toThrow(/duration/);
  });

  it('round-trips doses through formatting', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 9 }), (ng) => {
        expect(u.parseMassNg(u.formatMg(ng, 6).replace(' mg', '') + ' mg')).toBe(ng);
      }),
      { seed: Number(process.env.FC_SEED ?? 42), numRuns: 200 },
    );
    expect(u.formatTimeMs(2 * u.DAY_MS + 8 * u.HOUR_MS + 5_000)).toBe('2d 08:00:05');
    expect(u.formatDoseNg(65_000)).toBe('65.0 µg');
    expect(u.formatDoseNg(2_600_000)).toBe('2.600 mg');
    expect(u.dosePg(500, 4000)).toBe(2_000_000); // 0.5 µL of 4 mg/mL = 2 µg
  });
});

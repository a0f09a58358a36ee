/**
 * The accuracy test's pure parts (its scenario, balance rows to a delivery series, the analysis
 * of the second half) and the real-time clock port (on fake timers: monotonic integers, the time
 * scale, a wake never early, re-arming, the RTC offset).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RealTimeClock, SerialRigError } from '../../hal/serial/index.js';
import { accuracyScenario, analyseAccuracy, deliverySamples } from '../../sim/rig/accuracy.js';
import { calibrationSchema } from '../../sim/rig/calibration.js';
import { volumeNlOfMassUg, type BalanceRow } from '../../sim/rig/rigRun.js';
import { pumpConfigOf, toMixture, toPrescription } from '../../sim/scenario.js';
import { rateSteps } from '../../src/dosing/rates.js';
import { DAY_MS, HOUR_MS } from '../../src/units.js';

/** Balance rows of a pump running `errorPercent` off rate r, read every `everyMs`. */
function rows(
  rateNlPerDay: number,
  errorPercent: number,
  everyMs: number,
  untilMs: number,
): BalanceRow[] {
  const out: BalanceRow[] = [];
  for (let t = 0; t <= untilMs; t += everyMs) {
    const deliveredNl = (rateNlPerDay * (1 + errorPercent / 100) * t) / DAY_MS;
    out.push({
      timeMs: t,
      rigTimeMs: t,
      massUg: Math.round(deliveredNl),
      deliveredNl,
      stable: true,
    });
  }
  return out;
}

describe('accuracy test', () => {
  it('its scenario delivers exactly the rate asked, with water at 1 mg/mL and the given stroke', () => {
    const s = accuracyScenario({
      rateNlPerDay: 12_000_000,
      durationMs: 2 * HOUR_MS,
      strokeVolumeNl: 490,
    });
    expect(
      rateSteps(toPrescription(s.prescription), toMixture(s.initialFill.mixture)).ratesNlPerDay,
    ).toEqual([12_000_000]);
    expect(pumpConfigOf(s).strokeVolumeNl).toBe(490);
    expect(s.duration).toBe(2 * HOUR_MS);
    expect(s.timeline).toEqual([]);
  });

  it('analyses the second hour: a pump 2 % slow shows A = −2 % and flat windows', () => {
    const r = analyseAccuracy(
      rows(12_000_000, -2, 15_000, 2 * HOUR_MS + 30_000),
      12_000_000,
      2 * HOUR_MS,
    );
    expect(r.analysisStartMs).toBe(HOUR_MS);
    expect(r.analysisDurationMs).toBe(HOUR_MS);
    expect(r.meanFlowErrorPercent).toBeCloseTo(-2, 9);
    for (const w of r.windows) {
      expect(w.epMaxPercent).toBeCloseTo(-2, 9);
      expect(w.epMinPercent).toBeCloseTo(-2, 9);
    }
    expect(r.windows.map((w) => w.windowMs / 60_000)).toEqual([2, 5, 11, 19, 31]);
  });

  it('a short test keeps only the windows that fit its second half', () => {
    const r = analyseAccuracy(
      rows(12_000_000, 0, 10_000, 20 * 60_000 + 30_000),
      12_000_000,
      20 * 60_000,
    );
    expect(r.windows.map((w) => w.windowMs / 60_000)).toEqual([2, 5]);
  });

  it('readings with a repeated or earlier timestamp are dropped, not allowed to break the series', () => {
    const base = rows(1_000_000, 0, 30_000, 120_000);
    const messy = [base[0]!, base[1]!, { ...base[1]!, massUg: 999 }, base[0]!, base[2]!, base[3]!];
    expect(deliverySamples(messy).map((s) => s.timeMs)).toEqual([0, 30_000, 60_000, 90_000]);
  });

  it('water: 1 µg on the balance is 1 nL', () => {
    expect(volumeNlOfMassUg(490)).toBe(490);
  });

  it('a calibration file is checked field by field', () => {
    const ok = {
      strokeVolumeNl: 490,
      strokes: 200,
      massBeforeUg: 0,
      massAfterUg: 98_000,
      densityMgPerMl: 1000,
      measuredAt: 'x',
      port: 'p',
      firmwareId: 'f',
    };
    expect(calibrationSchema.safeParse(ok).success).toBe(true);
    expect(calibrationSchema.safeParse({ ...ok, strokeVolumeNl: 0 }).success).toBe(false);
    expect(calibrationSchema.safeParse({ ...ok, extra: 1 }).success).toBe(false);
  });
});

describe('real-time clock port', () => {
  afterEach(() => vi.useRealTimers());

  it('pump time is real time × the scale, in whole ms that never go back', () => {
    let now = 1_000.4;
    const clock = new RealTimeClock({ timeScale: 60, nowMs: () => now, rtcStartMs: 0 });
    now += 10.5;
    expect(clock.realMs()).toBe(10);
    expect(clock.monotonicMs()).toBe(630);
    now -= 5; // a source that jitters back
    expect(clock.realMs()).toBe(10);
    expect(clock.monotonicMs()).toBe(630);
  });

  it('the RTC runs with pump time from its start value, and setting it does not move monotonic time', () => {
    let now = 0;
    const clock = new RealTimeClock({
      timeScale: 2,
      nowMs: () => now,
      rtcStartMs: 1_700_000_000_000,
    });
    now = 500;
    expect(clock.rtcMs()).toBe(1_700_000_001_000);
    clock.setRtcMs(5_000);
    now = 1_000;
    expect(clock.rtcMs()).toBe(6_000);
    expect(clock.monotonicMs()).toBe(2_000);
  });

  it('a wake fires once, at or after the armed pump time, never inside wakeAt; arming again replaces it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const clock = new RealTimeClock({ timeScale: 10 });
    const wakes: number[] = [];
    clock.listen(() => wakes.push(clock.monotonicMs()));
    clock.wakeAt(5_000);
    expect(wakes).toEqual([]);
    clock.wakeAt(2_000); // replaces the first
    await vi.advanceTimersByTimeAsync(199);
    expect(wakes).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(wakes).toHaveLength(1);
    expect(wakes[0]).toBeGreaterThanOrEqual(2_000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(wakes).toHaveLength(1);
    clock.wakeAt(20_000);
    clock.cancelWake();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(wakes).toHaveLength(1);
    clock.close();
  });

  it("a wake beyond Node's longest timer is split and still fires on time", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const clock = new RealTimeClock();
    let woke = -1;
    clock.listen(() => (woke = clock.monotonicMs()));
    const atMs = 30 * DAY_MS; // more than 2^31 − 1 ms
    clock.wakeAt(atMs);
    await vi.advanceTimersByTimeAsync(atMs - 1);
    expect(woke).toBe(-1);
    await vi.advanceTimersByTimeAsync(2);
    expect(woke).toBeGreaterThanOrEqual(atMs);
    clock.close();
  });

  it('a time scale out of range is refused, naming the limit', () => {
    expect(() => new RealTimeClock({ timeScale: 0 })).toThrow(SerialRigError);
    expect(() => new RealTimeClock({ timeScale: 721 })).toThrow(
      /timeScale is 721, must be an integer from 1 to 720/,
    );
  });
});

/**
 * INV-1 (REQ-PTM-1, REQ-PTM-2, REQ-PTM-3): no two patient boluses start closer than the lockout,
 * start to start, whatever the real-time clock says; a clinician bolus restarts the lockout.
 *
 * Method: (1) model-based timelines weighted towards presses, bursts of presses, clock changes
 * forward and back and clinician boluses, every grant judged against every earlier lockout start
 * by the reference model; (2) a direct property: after a grant, a press any time before the
 * lockout ends is denied for the lockout, however far the clock is moved in between, and the first
 * press at the lockout's end is granted.
 * Seed and run count come from FC_SEED and FC_NUM_RUNS.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS, NL_PER_ML } from '../../src/units.js';
import {
  PumpRig,
  clockShiftMsArb,
  qaScenarioArb,
  replayOptions,
  runQa,
} from '../../testing/index.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 25 * Number(process.env.FC_RUNS_FACTOR ?? 1));
const file = 'tests/properties/lockout.property.test.ts';

describe('INV-1 lockout, start to start, whatever the clock', () => {
  it(`holds over timelines of presses, clock changes and clinician boluses (seed ${seed}, ${numRuns} runs)`, () => {
    const weights = {
      press: 6,
      pressBurst: 4,
      wait: 3,
      setClock: 4,
      clinicianBolus: 2,
      reprogram: 1,
      invalidReprogram: 0,
      refill: 0,
      invalidRefill: 0,
      stopResumeClear: 1,
    };
    fc.assert(
      fc.property(qaScenarioArb({ weights }), ({ setup, commands }) => {
        runQa(setup, commands);
      }),
      { seed, numRuns, ...replayOptions(file) },
    );
  });

  it(`denies every press before the lockout ends and grants the first one after, with the clock moved between (seed ${seed}, ${numRuns} runs)`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }).map((h) => h * HOUR_MS), // lockout
        fc.array(fc.tuple(clockShiftMsArb(), fc.integer({ min: 1, max: 1000 })), {
          minLength: 1,
          maxLength: 6,
        }), // clock shift, then wait (‰ of the lockout)
        (lockoutMs, moves) => {
          const rig = new PumpRig();
          rig.command({
            type: 'cmd.refill',
            withdrawnNl: 0,
            addedNl: 20 * NL_PER_ML,
            mixture: [{ drug: 'morphine', concentrationUgPerMl: 10_000 }],
          });
          rig.command({
            type: 'cmd.program',
            prescription: { mode: 'continuous', doseNgPerDay: 1_000_000 },
            ptm: {
              bolusDoseNg: 100_000,
              bolusDurationMs: 10 * MINUTE_MS,
              lockoutMs,
              bolusesPer24hMax: 24,
            },
          });
          rig.command({ type: 'cmd.resume' });
          expect(rig.press().records.some((r) => r.type === 'pressGranted')).toBe(true);
          const grantMs = rig.nowMs;
          for (const [shiftMs, permille] of moves) {
            rig.command({ type: 'cmd.setClock', rtcMs: rig.simClock.rtcMs() + shiftMs });
            const left = grantMs + lockoutMs - rig.nowMs;
            rig.advance(
              Math.max(
                0,
                Math.min(left - 1, Math.floor((lockoutMs * permille) / 1000 / moves.length)),
              ),
            );
            if (rig.nowMs < grantMs + lockoutMs)
              expect(rig.press().records).toContainEqual(
                expect.objectContaining({ type: 'pressDenied', reason: 'lockout' }),
              );
          }
          rig.advance(grantMs + lockoutMs - rig.nowMs);
          expect(rig.press().records.some((r) => r.type === 'pressGranted')).toBe(true);
        },
      ),
      { seed, numRuns, ...replayOptions(file) },
    );
  });
});

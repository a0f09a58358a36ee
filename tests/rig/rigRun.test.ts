/**
 * The unchanged controller on the serial backend against the rig emulator, in virtual time: the
 * strokes the rig executed equal the strokes the controller accounted (context.deliveredStrokes),
 * no more, under corrupted and dropped bytes, a cable cut mid-bolus and rig resets; a lost link is
 * handled as a stall (retries, then the critical motor alarm); the run's outputs have the shapes
 * of `itpump run`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { traceCsv } from '../../sim/outputs.js';
import { balanceCsv } from '../../sim/rig/rigRun.js';
import { linkLostMs } from '../../src/protocol/index.js';
import { HOUR_MS, MINUTE_MS } from '../../src/units.js';
import { finishVirtualRun, smallScenario, startVirtualRun } from './virtualRig.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 6);

const withBolus = `
timeline:
  - { at: 20 min, press: {} }
  - { at: 1h, clinicianBolus: { dose: 0.2 mg, duration: 30 min, confirm: true } }
  - { at: 2h 30min, press: {} }
`;

describe('rig run in virtual time', () => {
  it('on a clean wire: the controller accounts exactly the strokes the rig made, and the outputs are complete', async () => {
    const v = await startVirtualRun(smallScenario(withBolus), {
      rig: { strokeVolumeErrorPpm: -20_000 },
    });
    v.clock.runUntil(v.run.endMs);
    const r = finishVirtualRun(v);
    expect(r.settled).toBe(true);
    expect(r.accounted).toBe(r.executed);
    expect(r.executed).toBeGreaterThan(0);
    const result = v.run.result();
    const s = result.summary;
    expect(s.scenario).toBe('rig-small');
    expect(s.presses.granted).toBe(2);
    expect(s.boluses).toEqual({ patient: 2, clinician: 1 });
    // By the balance, the rig's -2 % strokes delivered 2 % less than the pump counted.
    const [morphine] = s.drugs;
    expect(morphine!.drug).toBe('morphine');
    expect(morphine!.trueDeliveredNg / morphine!.deliveredNg).toBeCloseTo(0.98, 2);
    expect(s.finalState.therapy).toBe('stopped');
    expect(result.settings).toMatchObject({ backend: 'serial rig', pump: { strokeVolumeNl: 500 } });
    expect(traceCsv(result).split('\n')[0]).toBe(
      'time_ms,reservoir_estimate_nl,reservoir_true_nl,therapy,morphine_delivered_pg,morphine_true_delivered_pg',
    );
    const csv = balanceCsv(v.run.balance).trim().split('\n');
    expect(csv[0]).toBe(
      'time_ms,rig_time_ms,mass_ug,delivered_nl,stable,accounted_strokes,low_nl,high_nl',
    );
    expect(csv.length).toBeGreaterThan(3 * 60); // a reading a minute for three hours
    // Every reading was weighed against the reported strokes, and a -2 % stroke is within band.
    expect(s.flowCheck).toMatchObject({ failure: null, tolerancePercent: 10 });
    expect(s.flowCheck!.readings).toBe(v.run.balance.length);
    expect(s.flowCheck!.marginNl).toBeGreaterThan(0);
  });

  it("counts a running batch's strokes before its report: the status line does not say 0 while the balance climbs", async () => {
    const v = await startVirtualRun(smallScenario(withBolus));
    v.clock.runUntil(v.run.startMs + HOUR_MS + 10 * MINUTE_MS); // inside the clinician bolus
    const c = v.run.controller.context;
    // The situation: a batch runs and has made strokes the controller has not yet accounted.
    expect(c.batch).toBeDefined();
    const running = v.run.runningBatchStrokes();
    expect(running).toBeGreaterThan(0);
    expect(running).toBeLessThanOrEqual(c.batch!.count);
    // The rig, by its own count, is within a stroke of the accounted strokes plus those.
    const executed = v.emulator.core.strokesExecuted;
    expect(Math.abs(executed - (c.deliveredStrokes + running))).toBeLessThanOrEqual(1);
  });

  it('a cable cut mid-bolus: the batch ends as a stall, the count is resynchronised, nothing is counted twice', async () => {
    const v = await startVirtualRun(smallScenario(withBolus));
    v.clock.runUntil(v.run.startMs + HOUR_MS + 10 * MINUTE_MS); // inside the clinician bolus
    expect(v.run.controller.context.bolus).toBeDefined();
    v.emulator.disconnect(linkLostMs + 1_000);
    v.clock.runUntil(v.run.endMs);
    const r = finishVirtualRun(v);
    expect(r.accounted).toBe(r.executed);
    expect(v.host.session.stats.batchesResynchronised).toBe(1);
    expect(v.run.events.filter((e) => e.type === 'motorStall')).toHaveLength(1);
    expect(v.run.events.some((e) => e.type === 'motorRecovered')).toBe(true);
  });

  it('a rig reset mid-batch: resynchronised from the persistent record, nothing counted twice', async () => {
    const v = await startVirtualRun(smallScenario(withBolus));
    v.clock.runUntil(v.run.startMs + HOUR_MS + 5 * MINUTE_MS);
    v.emulator.reboot();
    v.clock.runUntil(v.run.endMs);
    const r = finishVirtualRun(v);
    expect(r.accounted).toBe(r.executed);
    expect(v.host.session.stats.rigReboots).toBe(1);
    expect(v.host.session.stats.batchesBounded).toBe(0);
  });

  it('a rig that stays away: stalls are retried, then the critical motor alarm, and no stroke goes uncounted', async () => {
    const v = await startVirtualRun(smallScenario());
    v.clock.runUntil(v.run.startMs + 30 * MINUTE_MS);
    v.emulator.disconnect(HOUR_MS + 30 * MINUTE_MS);
    v.clock.runUntil(v.run.startMs + 2 * HOUR_MS);
    expect(v.run.events.filter((e) => e.type === 'motorStall').length).toBeGreaterThanOrEqual(3);
    expect(v.run.events.some((e) => e.type === 'alarmRaised' && e.code === 'motorStall')).toBe(
      true,
    );
    v.clock.runUntil(v.run.endMs);
    const r = finishVirtualRun(v);
    // The first batch was cut off with the rig unreachable: accounted at its upper bound (safe
    // side), and the difference reported once the rig was back.
    const s = v.host.session.stats;
    expect(r.accounted - s.strokesOverAccounted).toBe(r.executed);
    expect(r.accounted).toBeGreaterThanOrEqual(r.executed);
  });

  it('scenario motor faults are simulator-only: skipped with a warning', async () => {
    const v = await startVirtualRun(
      smallScenario(`
timeline:
  - { at: 1h, motorStall: { for: 10 min } }
`),
    );
    expect(v.warnings.join('\n')).toMatch(/motorStall\) is a simulator fault and is skipped/);
    v.clock.runUntil(v.run.startMs + 2 * HOUR_MS);
    expect(v.run.events.some((e) => e.type === 'motorStall')).toBe(false);
  });

  it('property: under random line noise, cable cuts and resets, accounted = executed + what the host knowingly over-counted', async () => {
    const faultPlan = fc.record({
      seed: fc.integer({ min: 1, max: 1_000_000 }),
      dropRate: fc.constantFrom(0, 0.0005, 0.002),
      corruptRate: fc.constantFrom(0, 0.0005, 0.002),
      delayMs: fc.constantFrom(0, 5, 40),
      cuts: fc.array(
        fc.record({
          atMin: fc.integer({ min: 1, max: 170 }),
          forMs: fc.integer({ min: 100, max: 12_000 }),
        }),
        { maxLength: 3 },
      ),
      resets: fc.array(fc.integer({ min: 1, max: 170 }), { maxLength: 2 }),
      persistent: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(faultPlan, async (plan) => {
        const v = await startVirtualRun(smallScenario(withBolus), {
          rig: {
            seed: plan.seed,
            persistentBatchRecord: plan.persistent,
            faults: {
              dropRate: plan.dropRate,
              corruptRate: plan.corruptRate,
              delayMs: plan.delayMs,
            },
          },
        });
        const actions = [
          ...plan.cuts.map((c) => ({
            atMs: c.atMin * MINUTE_MS,
            run: () => v.emulator.disconnect(c.forMs),
          })),
          ...plan.resets.map((atMin) => ({
            atMs: atMin * MINUTE_MS + 7,
            run: () => v.emulator.reboot(),
          })),
        ].sort((a, b) => a.atMs - b.atMs);
        for (const a of actions) {
          v.clock.runUntil(Math.max(v.clock.nowMs(), v.run.startMs + a.atMs));
          a.run();
        }
        v.clock.runUntil(Math.max(v.clock.nowMs(), v.run.endMs));
        const r = finishVirtualRun(v, 120_000);
        const s = v.host.session.stats;
        expect(r.settled).toBe(true);
        // The host's count and the controller's agree: every report reached the controller once.
        expect(r.hostAccounted).toBe(r.accounted);
        // Never fewer strokes than the rig made; more only by what the host bounded and said so.
        expect(r.accounted).toBeGreaterThanOrEqual(r.executed);
        if (s.batchesBounded === 0) expect(r.accounted).toBe(r.executed);
        else expect(r.accounted - s.strokesOverAccounted).toBeGreaterThanOrEqual(r.executed);
        // No batch ran past its count, and none ran twice: a second run of a wire id would restart
        // its count, so the per-batch counts would no longer add up to the motor's strokes.
        const batches = [...v.emulator.core.batches.values()];
        for (const b of batches) expect(b.strokesDone).toBeLessThanOrEqual(b.count);
        expect(batches.reduce((sum, b) => sum + b.strokesDone, 0)).toBe(r.executed);
      }),
      { seed, numRuns },
    );
  });
});

/**
 * The controller on the serial backend against the rig emulator over a real pty pair (socat), in
 * compressed real time: the bytes cross the kernel's tty layer, the timers are real. In each test
 * the strokes the rig executed equal the strokes the controller accounted
 * (context.deliveredStrokes), no more: with corrupted bytes, with the cable cut mid-bolus, with a
 * rig that resets mid-batch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RealTimeClock, SerialRig } from '../../hal/serial/index.js';
import { RigEmulator } from '../../sim/rig/emulator.js';
import type { RigCoreOptions } from '../../sim/rig/rigCore.js';
import { RigRun } from '../../sim/rig/rigRun.js';
import { parseScenario } from '../../sim/scenario.js';
import { linkLostMs } from '../../src/protocol/index.js';
import { MINUTE_MS } from '../../src/units.js';
import { sleep, startPtyPair, waitFor, type PtyPair } from './ptyPair.js';

const scenarioYaml = (duration: string, bolusAt: string) => `
name: pty
duration: ${duration}
pump: { strokeVolume: 0.5 uL, stallRetry: 1 min, stallAttemptsMax: 3 }
initialFill: { volume: 20 mL, mixture: [{ drug: morphine, concentration: 2 mg/mL }] }
prescription: { mode: continuous, dose: 4 mg/day }
ptm: { bolusDose: 0.1 mg, bolusDuration: 10 min, lockout: 1 h, maxPer24h: 6 }
timeline:
  - { at: ${bolusAt}, clinicianBolus: { dose: 0.25 mg, duration: 10 min, confirm: true } }
`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** socat pair, emulator on one end, SerialRig + RigRun on the other, started. */
async function startOnPty(options: {
  duration: string;
  bolusAt: string;
  timeScale: number;
  rig?: Partial<RigCoreOptions>;
}) {
  const pair: PtyPair = await startPtyPair();
  cleanups.push(() => pair.stop());
  const emulator = await RigEmulator.open({
    path: pair.rigPath,
    timeScale: options.timeScale,
    balanceIntervalMs: 30_000,
    ...options.rig,
  });
  cleanups.push(() => emulator.close());
  const linkClock = new RealTimeClock();
  let runClock: RealTimeClock | undefined;
  const warnings: string[] = [];
  const host = await SerialRig.open({
    path: pair.hostPath,
    timers: linkClock,
    pumpMs: () => runClock?.monotonicMs() ?? 0,
    timeScale: options.timeScale,
    onWarning: (t) => warnings.push(t),
  });
  cleanups.push(async () => {
    await host.close();
    runClock?.close();
    linkClock.close();
  });
  const scenario = parseScenario(scenarioYaml(options.duration, options.bolusAt), 'pty.yaml');
  const clock = new RealTimeClock({
    timeScale: options.timeScale,
    rtcStartMs: Date.parse(scenario.startRtc),
  });
  runClock = clock;
  const run = new RigRun({
    scenario,
    rig: host,
    clock,
    atPumpMs: (atMs, go) => clock.setPumpAlarm(atMs, go),
  });
  run.start();
  /** Sleep until run time `runMs`. */
  const until = (runMs: number) => sleep(Math.max(0, (runMs - run.nowMs()) / options.timeScale));
  /** Sleep to the end, stop the pump, and wait for its last report. */
  const finish = async () => {
    await until(scenario.duration);
    run.stopPump();
    const settled = await waitFor(() => run.settled, linkLostMs + 3_000);
    return {
      settled,
      executed: emulator.core.strokesExecuted,
      accounted: run.controller.context.deliveredStrokes,
    };
  };
  return { pair, emulator, host, run, until, finish, warnings };
}

describe('rig over a real pty pair', () => {
  it('corrupted and dropped bytes: retransmits repair them, and the accounts agree', async () => {
    const t = await startOnPty({
      duration: '40 min',
      bolusAt: '5 min',
      timeScale: 720,
      rig: { seed: 11, faults: { dropRate: 0.002, corruptRate: 0.004, delayMs: 0 } },
    });
    const r = await t.finish();
    expect(r.settled).toBe(true);
    expect(t.emulator.core.bytesCorrupted + t.emulator.core.bytesDropped).toBeGreaterThan(0);
    expect(r.executed).toBeGreaterThan(0);
    expect(r.accounted).toBe(r.executed);
    expect(t.run.events.some((e) => e.type === 'bolusFinished' && e.kind === 'clinician')).toBe(
      true,
    );
  });

  it('the cable cut mid-bolus: a stall for the controller, the count resynchronised, nothing twice', async () => {
    const t = await startOnPty({ duration: '16 min', bolusAt: '1 min', timeScale: 120 });
    await t.until(2 * MINUTE_MS); // one minute into the ten-minute bolus
    expect(t.run.controller.context.bolus?.kind).toBe('clinician');
    t.emulator.disconnect(linkLostMs + 500);
    const r = await t.finish();
    expect(r.settled).toBe(true);
    expect(r.accounted).toBe(r.executed);
    expect(t.host.session.stats.linkLosses).toBeGreaterThanOrEqual(1);
    expect(t.host.session.stats.batchesResynchronised).toBeGreaterThanOrEqual(1);
    expect(t.host.session.stats.batchesBounded).toBe(0);
    expect(t.run.events.some((e) => e.type === 'motorStall')).toBe(true);
  });

  it('a rig that resets mid-batch: the persistent record gives the count, nothing twice', async () => {
    const t = await startOnPty({ duration: '40 min', bolusAt: '5 min', timeScale: 720 });
    await t.until(8 * MINUTE_MS);
    t.emulator.reboot();
    const r = await t.finish();
    expect(r.settled).toBe(true);
    expect(r.accounted).toBe(r.executed);
    expect(t.host.session.stats.rigReboots).toBe(1);
    expect(t.host.session.stats.batchesBounded).toBe(0);
  });
});

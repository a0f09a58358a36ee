/**
 * The serial backend and the rig emulator joined by a wire in memory, in virtual time: the same
 * adapters (`SerialRig`, `RigEmulator`) as on a pty, with `ByteTransport`s that hand bytes over
 * through the virtual clock and timers that are virtual-clock callbacks. Nothing here reads a
 * clock or opens a port, so a run of hours takes milliseconds and a seed reproduces it.
 */
import type { MotorEvent } from '../../hal/motor.js';
import { SerialRig, type ByteTransport, type Timers } from '../../hal/serial/index.js';
import { SimClock } from '../../hal/sim/simClock.js';
import { RigEmulator } from '../../sim/rig/emulator.js';
import type { RigCoreOptions } from '../../sim/rig/rigCore.js';
import { RigRun, type RigRunOptions } from '../../sim/rig/rigRun.js';
import { parseScenario, type Scenario } from '../../sim/scenario.js';
import { VirtualClock } from '../../sim/virtualClock.js';

/** One end of an in-memory wire. */
class MemoryEnd implements ByteTransport {
  peer: MemoryEnd | undefined;
  isOpen = true;
  /** False cuts this direction (bytes written are lost). */
  connected = true;
  bytesWritten = 0;
  private dataListener: ((bytes: Uint8Array) => void) | undefined;
  private closeListener: ((error: Error | undefined) => void) | undefined;

  constructor(
    readonly path: string,
    private readonly clock: VirtualClock,
    private readonly latencyMs: number,
  ) {}

  /** Sees every write; returns what goes on the wire (a test drops or spoils bytes here). */
  tamper: ((bytes: Uint8Array) => Uint8Array) | undefined;

  write(bytes: Uint8Array): void {
    if (!this.isOpen || !this.connected) return;
    this.bytesWritten += bytes.length;
    const copy = this.tamper === undefined ? bytes.slice() : this.tamper(bytes.slice());
    if (copy.length === 0) return;
    const peer = this.peer;
    this.clock.schedule(
      this.clock.nowMs() + this.latencyMs,
      () => peer?.isOpen && peer.dataListener?.(copy),
    );
  }

  onData(listener: (bytes: Uint8Array) => void): void {
    this.dataListener = listener;
  }

  onClose(listener: (error: Error | undefined) => void): void {
    this.closeListener = listener;
  }

  async close(): Promise<void> {
    this.isOpen = false;
    this.closeListener?.(undefined);
  }

  /** The world closes the port (a USB adapter pulled out). */
  unplug(): void {
    this.isOpen = false;
    this.closeListener?.(new Error('device disconnected'));
  }
}

export function memoryWire(clock: VirtualClock, latencyMs = 1): [MemoryEnd, MemoryEnd] {
  const host = new MemoryEnd('mem:host', clock, latencyMs);
  const rig = new MemoryEnd('mem:rig', clock, latencyMs);
  host.peer = rig;
  rig.peer = host;
  return [host, rig];
}

export function virtualTimers(clock: VirtualClock): Timers {
  return { realMs: () => clock.nowMs(), setAlarm: (atMs, run) => clock.schedule(atMs, run) };
}

/** Every motor report the host session gives the controller, in order. */
export function recordMotor(host: SerialRig): MotorEvent[] {
  const events: MotorEvent[] = [];
  host.motor.listen((e) => events.push(e));
  return events;
}

export interface VirtualRigOptions {
  rig?: Partial<RigCoreOptions>;
  /** The balance as the run's flow check models it (default: the CLI's). */
  balance?: RigRunOptions['balance'];
  latencyMs?: number;
  sessionIdFirst?: number;
}

/** Host backend and emulator over a memory wire, connected (handshake done). */
export async function connectVirtualRig(options: VirtualRigOptions = {}) {
  const clock = new VirtualClock(0);
  const timers = virtualTimers(clock);
  const [hostEnd, rigEnd] = memoryWire(clock, options.latencyMs ?? 1);
  const warnings: string[] = [];
  const rigLog: string[] = [];
  const emulator = await RigEmulator.open({
    path: rigEnd.path,
    transport: rigEnd,
    timers,
    balanceIntervalMs: 60_000,
    ...options.rig,
    onEvent: (t) => rigLog.push(`${clock.nowMs()} ${t}`),
  });
  const opening = SerialRig.open({
    path: hostEnd.path,
    transport: hostEnd,
    timers,
    pumpMs: () => clock.nowMs(),
    timeScale: options.rig?.timeScale ?? 1,
    sessionIdFirst: options.sessionIdFirst ?? 1000,
    // Plugged in again: a new host end on the same rig end.
    reopen: async () => {
      const end = new MemoryEnd('mem:host', clock, options.latencyMs ?? 1);
      end.peer = rigEnd;
      rigEnd.peer = end;
      return end;
    },
    onWarning: (t) => warnings.push(`${clock.nowMs()} ${t}`),
  });
  // The handshake completes on the virtual clock; step it until the promise settles.
  let settled = false;
  opening.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 100 && !settled; i++) {
    clock.advance(100);
    await Promise.resolve();
    await Promise.resolve();
  }
  const host = await opening;
  return { clock, timers, hostEnd, rigEnd, emulator, host, warnings, rigLog };
}

export const smallScenarioYaml = `
name: rig-small
seed: 3
duration: 3h
pump: { strokeVolume: 0.5 uL, stallRetry: 1 min, stallAttemptsMax: 3 }
initialFill:
  volume: 20 mL
  mixture: [{ drug: morphine, concentration: 2 mg/mL }]
prescription: { mode: continuous, dose: 4 mg/day }
ptm: { bolusDose: 0.1 mg, bolusDuration: 10 min, lockout: 1 h, maxPer24h: 6 }
`;

export function smallScenario(overrides = ''): Scenario {
  return parseScenario(smallScenarioYaml + overrides, 'rig-small.yaml');
}

/** A connected virtual rig running a scenario's controller. */
export async function startVirtualRun(scenario: Scenario, options: VirtualRigOptions = {}) {
  const v = await connectVirtualRig(options);
  const clock = new SimClock(v.clock, Date.parse(scenario.startRtc));
  const run = new RigRun({
    scenario,
    rig: v.host,
    clock,
    atPumpMs: (atMs, go) => v.clock.schedule(atMs, go),
    ...(options.balance !== undefined ? { balance: options.balance } : {}),
    onWarning: (t) => v.warnings.push(`${v.clock.nowMs()} ${t}`),
  });
  run.start();
  return { ...v, run };
}

/** Stop the pump, let the last report arrive, and return the strokes on both sides. */
export function finishVirtualRun(
  v: Awaited<ReturnType<typeof startVirtualRun>>,
  settleMs = 30_000,
) {
  v.run.stopPump();
  const duration = v.run.endMs - v.run.startMs;
  for (let t = 0; t < settleMs && !(v.run.settled && v.run.balanceUntilMs >= duration); t += 100)
    v.clock.advance(100);
  return {
    settled: v.run.settled,
    executed: v.emulator.core.strokesExecuted,
    accounted: v.run.controller.context.deliveredStrokes,
    hostAccounted: v.host.session.stats.strokesAccounted,
  };
}

/**
 * Benchmark: the serial rig's command round trip over a real pty pair (socat), in real time.
 *
 * One round trip is what the controller waits for when it commands the rig: `motor.deliver()` of
 * a one-stroke batch with no lead, until `hal.motor.batchEnded` comes back. On the wire that is
 * DELIVER_STROKES, the rig's ACK, the stroke, BATCH_REPORT and the host's ACK, through both
 * protocol stacks and the kernel's tty layer. The emulator runs as its own process
 * (`itpump rig emulate`), as a rig would, at time scale 1.
 *
 * Prints JSON: { medianMs, p99Ms, samples, … }. `npm run bench` calls `benchRigRoundTrip()`.
 * Needs socat on the PATH.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MotorEvent } from '../hal/motor.js';
import { RealTimeClock, SerialRig } from '../hal/serial/index.js';

export interface RigRoundTripResult {
  medianMs: number;
  p99Ms: number;
  /** Round trips measured. */
  samples: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
  warmup: number;
  transport: string;
}

const root = new URL('..', import.meta.url).pathname;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > end) throw new Error(`bench: ${what} within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** The value at quantile q of sorted values (nearest rank). */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export async function benchRigRoundTrip(
  options: { samples?: number; warmup?: number } = {},
): Promise<RigRoundTripResult> {
  const samples = options.samples ?? 500;
  const warmup = options.warmup ?? 20;
  const dir = mkdtempSync(join(tmpdir(), 'itpump-bench-'));
  const hostPath = join(dir, 'ttyHOST');
  const rigPath = join(dir, 'ttyRIG');
  const socat = spawn(
    'socat',
    ['-d', '-d', `pty,raw,echo=0,link=${hostPath}`, `pty,raw,echo=0,link=${rigPath}`],
    { stdio: 'ignore' },
  );
  let emulatorErr = '';
  const emulator = spawn(
    join(root, 'node_modules/.bin/tsx'),
    ['sim/rig/commands.ts', 'rig', 'emulate', '--port', rigPath, '--quiet'],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  emulator.stderr!.on('data', (d) => (emulatorErr += String(d)));
  const clock = new RealTimeClock();
  let rig: SerialRig | undefined;
  try {
    await until(
      () => existsSync(hostPath) && existsSync(rigPath),
      5_000,
      'socat made no ptys (is socat installed?)',
    );
    await until(
      () => emulatorErr.includes('itpump rig emulator on'),
      30_000,
      `the emulator did not start (${emulatorErr.trim()})`,
    );
    rig = await SerialRig.open({
      path: hostPath,
      timers: clock,
      pumpMs: () => clock.monotonicMs(),
    });
    let resolveEnd: ((e: MotorEvent) => void) | undefined;
    rig.motor.listen((e) => resolveEnd?.(e));
    const times: number[] = [];
    for (let i = 1; i <= warmup + samples; i++) {
      const ended = new Promise<MotorEvent>((resolve) => (resolveEnd = resolve));
      const start = performance.now();
      rig.motor.deliver({ batchId: i, count: 1, leadMs: 0, intervalMs: 1 });
      const e = await ended;
      const ms = performance.now() - start;
      if (e.reason !== 'completed' || e.strokesDone !== 1)
        throw new Error(`bench: batch ${i} ended ${e.reason} with ${e.strokesDone} strokes`);
      if (i > warmup) times.push(ms);
    }
    const sorted = [...times].sort((a, b) => a - b);
    return {
      medianMs: round(quantile(sorted, 0.5)),
      p99Ms: round(quantile(sorted, 0.99)),
      samples: times.length,
      minMs: round(sorted[0]!),
      maxMs: round(sorted.at(-1)!),
      meanMs: round(times.reduce((a, b) => a + b, 0) / times.length),
      warmup,
      transport: 'pty pair (socat), emulator in its own process, 115200 baud (a pty ignores it)',
    };
  } finally {
    await rig?.close();
    clock.close();
    emulator.kill('SIGINT');
    socat.kill('SIGTERM');
    await sleep(50);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchRigRoundTrip();
  process.stdout.write(JSON.stringify({ bench: 'rig-roundtrip', ...result }, null, 2) + '\n');
}

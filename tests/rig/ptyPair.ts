/**
 * A real pty pair from socat for the rig's integration tests: two linked serial devices, one for
 * the host backend and one for the emulator. `.ci/run` installs socat. A pty ignores the baud
 * rate, and `SerialPort.list()` never shows it; tests open it by the link path.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  hostPath: string;
  rigPath: string;
  dir: string;
  stop(): Promise<void>;
}

/** Start socat and wait until both link files exist. */
export async function startPtyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'itpump-pty-'));
  const hostPath = join(dir, 'ttyHOST');
  const rigPath = join(dir, 'ttyRIG');
  const socat: ChildProcess = spawn(
    'socat',
    ['-d', '-d', `pty,raw,echo=0,link=${hostPath}`, `pty,raw,echo=0,link=${rigPath}`],
    { stdio: 'ignore' },
  );
  const failed = new Promise<never>((_, reject) => {
    socat.once('error', (e) =>
      reject(new Error(`cannot start socat (apt-get install socat): ${e.message}`)),
    );
    socat.once('exit', (code) =>
      reject(new Error(`socat exited with ${code} before the ptys were ready`)),
    );
  });
  const ready = (async () => {
    for (let waited = 0; !(existsSync(hostPath) && existsSync(rigPath)); waited += 10) {
      if (waited > 5_000) throw new Error('socat did not create the pty links within 5 s');
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  await Promise.race([ready, failed]);
  failed.catch(() => undefined);
  return {
    hostPath,
    rigPath,
    dir,
    stop: async () => {
      if (socat.exitCode === null) {
        const exited = new Promise((r) => socat.once('exit', r));
        socat.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `done` every 10 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > until) return false;
    await sleep(10);
  }
  return true;
}

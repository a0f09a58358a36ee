/**
 * A real pty pair for the rig's integration tests: two linked serial devices, one for the host
 * backend and one for the emulator. socat makes it where it is installed (`.ci/run` installs
 * it); elsewhere python3 stands in with tests/rig/ptypair.py, which does the same (raw ptys,
 * `link=` symlinks, bytes relayed both ways). `ITPUMP_PTY=socat` or `ITPUMP_PTY=python` forces
 * one. A pty ignores the baud rate, and `SerialPort.list()` never shows it; tests open it by the
 * link path.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PtyPair {
  hostPath: string;
  rigPath: string;
  dir: string;
  stop(): Promise<void>;
}

export type PtyImplementation = 'socat' | 'python';

const relayScript = fileURLToPath(new URL('./ptypair.py', import.meta.url));
const readyWithinMs = 5_000;

/** Which program makes the pairs: `ITPUMP_PTY` if set, else socat if on PATH, else python3. */
export function ptyImplementation(env: NodeJS.ProcessEnv = process.env): PtyImplementation {
  const forced = env.ITPUMP_PTY;
  if (forced === 'socat' || forced === 'python') return forced;
  if (forced !== undefined && forced !== '') {
    throw new Error(`ITPUMP_PTY is "${forced}", must be socat or python`);
  }
  return onPath('socat', env.PATH) ? 'socat' : 'python';
}

function onPath(program: string, path = ''): boolean {
  return path
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, program), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** Start the pair and wait until both link files exist. */
export async function startPtyPair(
  implementation: PtyImplementation = ptyImplementation(),
): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'itpump-pty-'));
  const hostPath = join(dir, 'ttyHOST');
  const rigPath = join(dir, 'ttyRIG');
  const child =
    implementation === 'socat'
      ? spawn(
          'socat',
          ['-d', '-d', `pty,raw,echo=0,link=${hostPath}`, `pty,raw,echo=0,link=${rigPath}`],
          { stdio: 'ignore' },
        )
      : // stdin stays a pipe: the relay exits when it closes, that is, when this process ends.
        spawn('python3', [relayScript, hostPath, rigPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  const program = implementation === 'socat' ? 'socat' : 'python3 ptypair.py';
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (e) =>
      reject(
        new Error(
          implementation === 'socat'
            ? `cannot start socat (apt-get install socat, or ITPUMP_PTY=python): ${e.message}`
            : `cannot start python3 for the pty relay (install python3, or socat): ${e.message}`,
        ),
      ),
    );
    child.once('exit', (code, signal) =>
      reject(
        new Error(
          `${program} exited (${signal ?? code}) before the ptys were ready${stderr ? `: ${stderr.trim()}` : ''}`,
        ),
      ),
    );
  });
  const linked = () => existsSync(hostPath) && existsSync(rigPath);
  const ready =
    implementation === 'socat'
      ? (async () => {
          for (let waited = 0; !linked(); waited += 10) {
            if (waited > readyWithinMs)
              throw new Error('socat did not create the pty links in 5 s');
            await new Promise((r) => setTimeout(r, 10));
          }
        })()
      : readyLine(child, program, linked);
  try {
    await Promise.race([ready, failed]);
  } catch (e) {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    failed.catch(() => undefined);
    ready.catch(() => undefined);
  }
  return {
    hostPath,
    rigPath,
    dir,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves at the relay's "ready …" line, once the links it announces are really there. */
function readyLine(child: ChildProcess, program: string, linked: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`${program} did not say ready within 5 s`)),
      readyWithinMs,
    );
    timer.unref();
    child.stdout!.on('data', (d) => {
      out += String(d);
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      const line = out.slice(0, out.indexOf('\n'));
      if (!/^ready \S+ \S+$/.test(line)) reject(new Error(`${program} said "${line}", not ready`));
      else if (!linked()) reject(new Error(`${program} said ready, but the pty links are missing`));
      else resolve();
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
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

/**
 * The pty pairs the rig tests run over: which program makes them (socat, or python3 with
 * tests/rig/ptypair.py where socat is absent), and that the python relay is a faithful stand-in:
 * every byte value passes both ways unchanged, nothing echoes, a client may close its end and
 * open it again, and the relay goes away (links removed) on SIGTERM or when its stdin closes.
 * The ends are opened with plain fs calls, not serialport, which would make them raw itself.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  constants,
  existsSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ptyImplementation, sleep, startPtyPair, waitFor, type PtyPair } from './ptyPair.js';

const relayScript = new URL('./ptypair.py', import.meta.url).pathname;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Whether a link itself exists (existsSync follows it, and a dead relay's ptys are gone). */
function linkExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The relay run directly, with python's output buffered as it is by default. */
function spawnRelay(args: string[]) {
  const env = { ...process.env };
  delete env.PYTHONUNBUFFERED;
  return spawn('python3', [relayScript, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'itpump-ptypair-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** One end of the pair, opened as a plain file: no termios settings of its own. */
function openEnd(path: string) {
  const fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  let closed = false;
  cleanups.push(() => void (closed || closeSync(fd)));
  const received: number[] = [];
  return {
    received,
    write: (bytes: Uint8Array) => expect(writeSync(fd, bytes)).toBe(bytes.length),
    /** Read whatever has arrived. */
    drain: () => {
      const chunk = Buffer.alloc(4096);
      for (;;) {
        try {
          const n = readSync(fd, chunk, 0, chunk.length, null);
          if (n === 0) return;
          received.push(...chunk.subarray(0, n));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return;
          throw e;
        }
      }
    },
    close: () => {
      closed = true;
      closeSync(fd);
    },
  };
}

/** Send `bytes` from one end and wait until the other has them all, or 2 s pass. */
async function send(
  from: ReturnType<typeof openEnd>,
  to: ReturnType<typeof openEnd>,
  bytes: Uint8Array,
) {
  const before = to.received.length;
  from.write(bytes);
  await waitFor(() => (to.drain(), to.received.length >= before + bytes.length), 2_000);
  await sleep(50); // and a moment more, for anything extra (an echo, a translation) to show
  to.drain();
  from.drain();
  return to.received.slice(before);
}

const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);

async function passesBytesBothWays(pair: PtyPair) {
  const host = openEnd(pair.hostPath);
  const rig = openEnd(pair.rigPath);
  expect(await send(host, rig, everyByte)).toEqual([...everyByte]);
  expect(await send(rig, host, everyByte.slice().reverse())).toEqual([...everyByte].reverse());
  // Nothing came back to a sender: no echo.
  expect(host.received).toEqual([...everyByte].reverse());
  expect(rig.received).toEqual([...everyByte]);
  // The rig end closed and opened again: the pair still carries bytes, both ways.
  rig.close();
  const again = openEnd(pair.rigPath);
  expect(await send(host, again, Uint8Array.of(0x7e, 0x03, 0x0d, 0x0a))).toEqual([
    0x7e, 0x03, 0x0d, 0x0a,
  ]);
  expect(await send(again, host, Uint8Array.of(0x04, 0x11, 0x13))).toEqual([0x04, 0x11, 0x13]);
}

describe('pty pairs', () => {
  it('ITPUMP_PTY forces the program; else socat if it is on PATH, else python3', () => {
    const withSocat = tempDir();
    writeFileSync(join(withSocat, 'socat'), '#!/bin/sh\n');
    chmodSync(join(withSocat, 'socat'), 0o755);
    const without = tempDir();
    expect(ptyImplementation({ PATH: withSocat })).toBe('socat');
    expect(ptyImplementation({ PATH: without })).toBe('python');
    expect(ptyImplementation({ PATH: withSocat, ITPUMP_PTY: 'python' })).toBe('python');
    expect(ptyImplementation({ PATH: without, ITPUMP_PTY: 'socat' })).toBe('socat');
    expect(() => ptyImplementation({ PATH: without, ITPUMP_PTY: 'screen' })).toThrow(
      'ITPUMP_PTY is "screen", must be socat or python',
    );
  });

  it('the python relay, forced, passes every byte value both ways, raw and without echo', async () => {
    const pair = await startPtyPair('python');
    cleanups.push(() => pair.stop());
    await passesBytesBothWays(pair);
  });

  it('the pair the rig tests get (ptyImplementation()) does the same', async () => {
    const pair = await startPtyPair();
    cleanups.push(() => pair.stop());
    await passesBytesBothWays(pair);
  });

  it('stop() ends the python relay and removes its folder', async () => {
    const pair = await startPtyPair('python');
    await pair.stop();
    expect(linkExists(pair.hostPath)).toBe(false);
    expect(existsSync(pair.dir)).toBe(false);
  });

  for (const how of ['SIGTERM', 'its stdin closing'] as const) {
    it(`the relay exits on ${how}, removing the links`, async () => {
      const dir = tempDir();
      const links = [join(dir, 'A'), join(dir, 'B')];
      const relay = spawnRelay(links);
      cleanups.push(() => void (relay.exitCode === null && relay.kill('SIGKILL')));
      const exited = new Promise<number | null>((r) => relay.once('exit', (code) => r(code)));
      let out = '';
      relay.stdout.on('data', (d) => (out += String(d)));
      expect(await waitFor(() => out.includes('\n'), 5_000)).toBe(true);
      expect(out).toMatch(/^ready \/dev\/pts\/\d+ \/dev\/pts\/\d+\n$/);
      expect(links.every((l) => existsSync(l))).toBe(true); // links to live ptys
      if (how === 'SIGTERM') relay.kill('SIGTERM');
      else relay.stdin.end();
      expect(await exited).toBe(0);
      expect(links.some(linkExists)).toBe(false);
    });
  }

  it('the relay refuses a wrong call with its usage, and a link that exists with one line', async () => {
    const run = async (args: string[]) => {
      const relay = spawnRelay(args);
      let err = '';
      relay.stderr.on('data', (d) => (err += String(d)));
      const code = await new Promise<number | null>((r) => relay.once('exit', (c) => r(c)));
      return { code, err };
    };
    expect(await run(['only-one'])).toEqual({ code: 2, err: 'usage: ptypair.py LINK_A LINK_B\n' });
    const dir = tempDir();
    writeFileSync(join(dir, 'B'), '');
    const taken = await run([join(dir, 'A'), join(dir, 'B')]);
    expect(taken.code).toBe(1);
    expect(taken.err).toMatch(
      /^ptypair\.py: cannot make the pty pair: \[Errno 17\] File exists.*\n$/,
    );
    expect(linkExists(join(dir, 'A'))).toBe(false); // the first link, made, is removed again
  });
});

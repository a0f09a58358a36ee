/**
 * `itpump rig ports` printing the filesystem's list when udevadm is missing: the fallback line on
 * stderr, the ports (or "no serial ports found") on stdout, exit code 0; and one error line with
 * exit code 2 when nothing can list the ports. The listing reads a temp tree (ports.test.ts
 * builds richer ones); here only the CLI's side is under test.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rigMain } from '../../sim/rig/commands.js';
import type { PortRoots } from '../../sim/rig/ports.js';

const tree = vi.hoisted(() => ({ roots: undefined as PortRoots | undefined }));

vi.mock('../../sim/rig/ports.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../sim/rig/ports.js')>();
  const noUdevadm = () =>
    Promise.reject(
      Object.assign(new Error('spawn udevadm ENOENT'), {
        code: 'ENOENT',
        syscall: 'spawn udevadm',
        path: 'udevadm',
      }),
    );
  return { ...real, listPorts: () => real.listPorts({ systemList: noUdevadm, roots: tree.roots }) };
});

let out = '';
let err = '';
let root = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  root = mkdtempSync(join(tmpdir(), 'itpump-ports-cli-'));
  tree.roots = {
    sysClassTty: join(root, 'sys/class/tty'),
    serialById: join(root, 'dev/serial/by-id'),
    dev: join(root, 'dev'),
  };
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(root, { recursive: true, force: true });
});

describe('rig ports without udevadm, as printed', () => {
  it('nothing there: "no serial ports found", where it looked, exit code 0', async () => {
    mkdirSync(tree.roots!.sysClassTty, { recursive: true });
    expect(await rigMain(['rig', 'ports'])).toBe(0);
    expect(err).toBe(`listed from ${tree.roots!.sysClassTty} (udevadm not found)\n`);
    expect(out).toMatch(/^no serial ports found\nnote: ptys \(\/dev\/pts\/N/);
  });

  it('a port there: one line for it', async () => {
    mkdirSync(tree.roots!.serialById, { recursive: true });
    writeFileSync(join(tree.roots!.dev, 'ttyUSB0'), '');
    mkdirSync(join(root, 'sys/devices/usb/ttyUSB0'), { recursive: true });
    mkdirSync(join(tree.roots!.sysClassTty, 'ttyUSB0'), { recursive: true });
    symlinkSync('../../../devices/usb/ttyUSB0', join(tree.roots!.sysClassTty, 'ttyUSB0/device'));
    expect(await rigMain(['rig', 'ports'])).toBe(0);
    expect(err).toBe(
      `listed from ${tree.roots!.sysClassTty} and ${tree.roots!.serialById} (udevadm not found)\n`,
    );
    expect(out).toMatch(new RegExp(`^${join(tree.roots!.dev, 'ttyUSB0')}\\nnote: ptys`));
  });

  it('no /sys/class/tty either: one error line, exit code 2, no stack', async () => {
    expect(await rigMain(['rig', 'ports'])).toBe(2);
    expect(err).toBe(
      `error: cannot list serial ports: udevadm not found, and there is no ${tree.roots!.sysClassTty} to list them from\n`,
    );
    expect(out).toBe('');
  });
});

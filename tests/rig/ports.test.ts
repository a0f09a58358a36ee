/**
 * `rig ports` without udevadm: the ports read from a temp folder tree that imitates
 * /sys/class/tty, /sys/devices, /dev and /dev/serial/by-id (symlinks as the kernel and udev make
 * them). No real devices needed.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  formatPort,
  listPorts,
  listPortsFromFilesystem,
  PortListError,
  type PortRoots,
} from '../../sim/rig/ports.js';
import { InputError } from '../../sim/scenario.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The error serialport's list rejects with when there is no udevadm (child_process spawn). */
function udevadmMissing(): Error {
  return Object.assign(new Error('spawn udevadm ENOENT'), {
    code: 'ENOENT',
    errno: -2,
    syscall: 'spawn udevadm',
    path: 'udevadm',
  });
}
const noUdevadm = () => Promise.reject(udevadmMissing());

function file(path: string, text = ''): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
function link(path: string, target: string): void {
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path);
}

/** An empty tree: the roots exist (or not, with `without`), nothing in them. */
function emptyTree(without: (keyof PortRoots)[] = []): PortRoots {
  const root = mkdtempSync(join(tmpdir(), 'itpump-ports-'));
  dirs.push(root);
  const roots: PortRoots = {
    sysClassTty: join(root, 'sys/class/tty'),
    serialById: join(root, 'dev/serial/by-id'),
    dev: join(root, 'dev'),
  };
  for (const key of Object.keys(roots) as (keyof PortRoots)[]) {
    if (!without.includes(key)) mkdirSync(roots[key], { recursive: true });
  }
  return roots;
}

/** A machine: a real UART, a phantom one, an FTDI cable, an Arduino, and what must not show. */
function machine(): PortRoots {
  const roots = emptyTree();
  const sys = dirname(dirname(roots.sysClassTty));
  const tty = (name: string, device: string | undefined, node = true) => {
    const entry = join(roots.sysClassTty, name);
    file(join(entry, 'dev'), '4:64\n');
    if (device !== undefined) {
      mkdirSync(join(sys, device), { recursive: true });
      link(join(entry, 'device'), join('../../..', device));
    }
    if (node) file(join(roots.dev, name));
  };
  tty('ttyS0', 'devices/pnp0/00:04');
  file(join(roots.sysClassTty, 'ttyS0/type'), '4\n');
  tty('ttyS1', 'devices/platform/serial8250'); // registered, never found: type 0
  file(join(roots.sysClassTty, 'ttyS1/type'), '0\n');
  tty('ttyS2', 'devices/platform/serial8250', false); // no /dev node in this container
  tty('ttyS3', undefined); // a serial name with no hardware behind it
  tty('tty0', undefined); // a virtual console
  tty('console', undefined);
  tty('ptmx', undefined);
  // An FTDI cable: the USB device two levels above the tty's device.
  const ftdi = 'devices/pci0000:00/usb1/1-2';
  tty('ttyUSB0', `${ftdi}/1-2:1.0/ttyUSB0`);
  file(join(sys, ftdi, 'idVendor'), '0403\n');
  file(join(sys, ftdi, 'idProduct'), '6001\n');
  file(join(sys, ftdi, 'manufacturer'), 'FTDI\n');
  file(join(sys, ftdi, 'serial'), 'A10K5Q3Z\n');
  // An Arduino (CDC ACM): one level above.
  const acm = 'devices/pci0000:00/usb1/1-3';
  tty('ttyACM0', `${acm}/1-3:1.0`);
  file(join(sys, acm, 'idVendor'), '2341\n');
  file(join(sys, acm, 'idProduct'), '0043\n');
  file(join(sys, acm, 'manufacturer'), 'Arduino (www.arduino.cc)\n');
  // udev's stable names, a dangling one, and one that points at a disk.
  link(join(roots.serialById, 'usb-FTDI_FT232R_USB_UART_A10K5Q3Z-if00-port0'), '../../ttyUSB0');
  link(join(roots.serialById, 'usb-gone-if00'), '../../ttyUSB7');
  file(join(roots.dev, 'sda'));
  link(join(roots.serialById, 'usb-disk-if00'), '../../sda');
  return roots;
}

describe('rig ports without udevadm', () => {
  it('lists the ttys with hardware and a device node, their USB attributes and by-id names', async () => {
    const roots = machine();
    const { ports, fallback } = await listPorts({ systemList: noUdevadm, roots });
    expect(fallback).toBe(
      `listed from ${roots.sysClassTty} and ${roots.serialById} (udevadm not found)`,
    );
    expect(ports).toEqual([
      {
        path: join(roots.dev, 'ttyACM0'),
        manufacturer: 'Arduino (www.arduino.cc)',
        serialNumber: undefined,
        vendorId: '2341',
        productId: '0043',
        links: [],
      },
      {
        path: join(roots.dev, 'ttyS0'),
        manufacturer: undefined,
        serialNumber: undefined,
        vendorId: undefined,
        productId: undefined,
        links: [],
      },
      {
        path: join(roots.dev, 'ttyUSB0'),
        manufacturer: 'FTDI',
        serialNumber: 'A10K5Q3Z',
        vendorId: '0403',
        productId: '6001',
        links: [join(roots.serialById, 'usb-FTDI_FT232R_USB_UART_A10K5Q3Z-if00-port0')],
      },
    ]);
    expect(formatPort(ports[2]!)).toBe(
      `${join(roots.dev, 'ttyUSB0')}  (FTDI, 0403:6001, A10K5Q3Z, ${join(roots.serialById, 'usb-FTDI_FT232R_USB_UART_A10K5Q3Z-if00-port0')})`,
    );
    expect(formatPort(ports[1]!)).toBe(join(roots.dev, 'ttyS0'));
  });

  it('a by-id name whose tty the class does not show is still listed', () => {
    const roots = emptyTree();
    file(join(roots.dev, 'ttyUSB3'));
    link(join(roots.serialById, 'usb-Prolific-if00-port0'), '../../ttyUSB3');
    expect(listPortsFromFilesystem(roots)).toEqual([
      {
        path: join(roots.dev, 'ttyUSB3'),
        manufacturer: undefined,
        serialNumber: undefined,
        vendorId: undefined,
        productId: undefined,
        links: [join(roots.serialById, 'usb-Prolific-if00-port0')],
      },
    ]);
  });

  it('what sysfs says is checked: bad ids dropped, control characters removed, long text cut', () => {
    const roots = emptyTree();
    const sys = dirname(dirname(roots.sysClassTty));
    mkdirSync(join(sys, 'devices/usb1/1-1/1-1:1.0'), { recursive: true });
    link(join(roots.sysClassTty, 'ttyACM1/device'), '../../../devices/usb1/1-1/1-1:1.0');
    file(join(roots.dev, 'ttyACM1'));
    file(join(sys, 'devices/usb1/1-1/idVendor'), '../../etc\n');
    file(join(sys, 'devices/usb1/1-1/idProduct'), 'BEEF\n');
    file(join(sys, 'devices/usb1/1-1/manufacturer'), '\x1b[2J\x1b[31mEvil\r\nCorp\x07\n');
    file(join(sys, 'devices/usb1/1-1/serial'), 'S'.repeat(500));
    const [port] = listPortsFromFilesystem(roots);
    expect(port).toEqual({
      path: join(roots.dev, 'ttyACM1'),
      manufacturer: '[2J [31mEvil Corp',
      serialNumber: 'S'.repeat(64),
      vendorId: undefined,
      productId: 'beef',
      links: [],
    });
    expect(formatPort(port!)).not.toMatch(/[\x00-\x1f]/);
  });

  it('a name that is not a serial tty is not listed, even with a device link', () => {
    const roots = emptyTree();
    const sys = dirname(dirname(roots.sysClassTty));
    mkdirSync(join(sys, 'devices/x'), { recursive: true });
    for (const name of ['tty1', 'ttyprintk', 'ttyS0;rm -rf', 'ttyS0\nfake']) {
      link(join(roots.sysClassTty, name, 'device'), '../../../devices/x');
      file(join(roots.dev, name));
    }
    expect(listPortsFromFilesystem(roots)).toEqual([]);
  });

  it('nothing there: no ports, and still says where it looked', async () => {
    const roots = emptyTree(['serialById']);
    expect(await listPorts({ systemList: noUdevadm, roots })).toEqual({
      ports: [],
      fallback: `listed from ${roots.sysClassTty} (udevadm not found)`,
    });
  });

  it('any other failure of the system list falls back too, and names it on one line', async () => {
    const roots = machine();
    const { ports, fallback } = await listPorts({
      systemList: () =>
        Promise.reject(new Error('Error listing ports udevadm exited with error code: 1\n')),
      roots,
    });
    expect(fallback).toBe(
      `listed from ${roots.sysClassTty} and ${roots.serialById} (the system's list failed: Error listing ports udevadm exited with error code: 1)`,
    );
    expect(ports.map((p) => p.path)).toEqual(
      ['ttyACM0', 'ttyS0', 'ttyUSB0'].map((n) => join(roots.dev, n)),
    );
  });

  it('no /sys/class/tty either: one clear error the CLI prints with exit code 2', async () => {
    const roots = emptyTree(['sysClassTty']);
    const listing = listPorts({ systemList: noUdevadm, roots });
    await expect(listing).rejects.toThrow(PortListError);
    await expect(listing).rejects.toThrow(InputError);
    await expect(listing).rejects.toThrow(
      `cannot list serial ports: udevadm not found, and there is no ${roots.sysClassTty} to list them from`,
    );
  });

  it('when the system list works, it is what is listed, with nothing from the filesystem', async () => {
    const roots = machine();
    const reported = {
      path: '/dev/ttyUSB9',
      manufacturer: 'Silicon Labs',
      serialNumber: '0001',
      vendorId: '10c4',
      productId: 'ea60',
    };
    expect(await listPorts({ systemList: async () => [reported], roots })).toEqual({
      ports: [{ ...reported, links: [] }],
    });
  });
});

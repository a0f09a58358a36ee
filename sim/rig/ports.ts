/**
 * The serial ports for `itpump rig ports`. serialport's list asks `udevadm`, which containers and
 * CI machines often lack (`spawn udevadm ENOENT`); then the ports are read from the kernel's own
 * view instead: `/sys/class/tty/X` entries with a `device` link (a real UART or USB serial
 * device, not a virtual console or a pty) whose `/dev/X` exists, plus the stable names in
 * `/dev/serial/by-id`. The roots are parameters so a test can imitate them in a temp folder.
 *
 * What the filesystem says is checked before it is shown: names must look like a serial tty (the
 * same pattern serialport applies to udevadm's list), USB ids must be four hex digits, and text
 * attributes are stripped of control characters and cut to a sane length.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { listSerialPorts, type SerialPortListing } from '../../hal/serial/index.js';
import { InputError } from '../scenario.js';

export interface PortRoots {
  /** The kernel's tty class: one entry per tty, `device` links for those with hardware. */
  sysClassTty: string;
  /** udev's stable names: symlinks to the device nodes. May be absent. */
  serialById: string;
  /** Where the device nodes are. */
  dev: string;
}

export const linuxPortRoots: PortRoots = {
  sysClassTty: '/sys/class/tty',
  serialById: '/dev/serial/by-id',
  dev: '/dev',
};

export interface ListedPort extends SerialPortListing {
  /** Stable `/dev/serial/by-id` names of this port, when udev made any. */
  links: string[];
}

export interface PortList {
  ports: ListedPort[];
  /** When serialport's list failed: one line saying where the ports came from instead, and why. */
  fallback?: string;
}

/** Cannot list ports at all; the CLI prints the message and exits 2. */
export class PortListError extends InputError {
  override name = 'PortListError';
}

/** serialport's name filter for udevadm's list (bindings-cpp linux-list), anchored to a name. */
const serialTtyName = /^(tty(S|WCH|ACM|USB|AMA|MFD|O|XRUSB)|rfcomm)[A-Za-z0-9_.-]{0,32}$/;
const usbId = /^[0-9a-f]{4}$/;
/** Levels above a tty's `device` to look for the USB device's attributes (ttyUSB: 2, ttyACM: 1). */
const usbLevelsUp = 3;

/**
 * serialport's list, or on any failure of it the filesystem's. Throws `PortListError` when
 * neither can list (no `/sys/class/tty`: not Linux, or /sys not mounted).
 */
export async function listPorts(
  options: { systemList?: () => Promise<SerialPortListing[]>; roots?: PortRoots } = {},
): Promise<PortList> {
  const { systemList = () => listSerialPorts(), roots = linuxPortRoots } = options;
  let why: string;
  try {
    const ports = await systemList();
    return { ports: ports.map((p) => ({ ...p, links: [] })) };
  } catch (e) {
    why = systemListFailure(e);
  }
  if (!isDirectory(roots.sysClassTty)) {
    throw new PortListError(
      `cannot list serial ports: ${why}, and there is no ${roots.sysClassTty} to list them from`,
    );
  }
  const ports = listPortsFromFilesystem(roots);
  const sources = isDirectory(roots.serialById)
    ? `${roots.sysClassTty} and ${roots.serialById}`
    : roots.sysClassTty;
  return { ports, fallback: `listed from ${sources} (${why})` };
}

/** Why serialport's list failed, in a few words on one line. */
function systemListFailure(e: unknown): string {
  const error = e as NodeJS.ErrnoException | undefined;
  if (error?.code === 'ENOENT' && /\budevadm\b/.test(`${error.path} ${error.syscall}`)) {
    return 'udevadm not found';
  }
  const message = e instanceof Error ? e.message : String(e);
  return `the system's list failed: ${cleanText(message, 200) ?? 'no reason given'}`;
}

/** The ports `/sys/class/tty` and `/dev/serial/by-id` show, sorted by path. */
export function listPortsFromFilesystem(roots: PortRoots = linuxPortRoots): ListedPort[] {
  const byPath = new Map<string, ListedPort>();
  for (const name of entries(roots.sysClassTty)) {
    if (!serialTtyName.test(name)) continue;
    const entry = join(roots.sysClassTty, name);
    const device = resolve(join(entry, 'device'));
    if (device === undefined) continue; // a virtual tty: no hardware behind it
    // A UART the driver registered but never found (the 8250 driver's ttyS1…ttyS31): type 0.
    if (readAttribute(join(entry, 'type'), 8) === '0') continue;
    const path = join(roots.dev, name);
    if (!existsSync(path)) continue; // no device node: it cannot be opened here
    byPath.set(path, { path, ...usbAttributes(device), links: [] });
  }
  const devReal = resolve(roots.dev);
  for (const name of entries(roots.serialById)) {
    const link = join(roots.serialById, name);
    const target = resolve(link);
    if (target === undefined || devReal === undefined) continue; // a dangling link
    const ttyName = basename(target);
    if (dirname(target) !== devReal || !serialTtyName.test(ttyName)) continue;
    const path = join(roots.dev, ttyName);
    const port = byPath.get(path) ?? {
      path,
      manufacturer: undefined,
      serialNumber: undefined,
      vendorId: undefined,
      productId: undefined,
      links: [],
    };
    port.links.push(link);
    byPath.set(path, port);
  }
  const ports = [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path));
  for (const p of ports) p.links.sort();
  return ports;
}

/** The USB device's ids, maker and serial number, from the first ancestor that has `idVendor`. */
function usbAttributes(device: string): Omit<SerialPortListing, 'path'> {
  let dir = device;
  for (let up = 0; up <= usbLevelsUp; up++, dir = dirname(dir)) {
    const vendorId = readAttribute(join(dir, 'idVendor'), 8)?.toLowerCase();
    if (vendorId === undefined) continue;
    const productId = readAttribute(join(dir, 'idProduct'), 8)?.toLowerCase();
    return {
      vendorId: vendorId && usbId.test(vendorId) ? vendorId : undefined,
      productId: productId && usbId.test(productId) ? productId : undefined,
      manufacturer: readAttribute(join(dir, 'manufacturer'), 64),
      serialNumber: readAttribute(join(dir, 'serial'), 64),
    };
  }
  return {
    manufacturer: undefined,
    serialNumber: undefined,
    vendorId: undefined,
    productId: undefined,
  };
}

/** A sysfs attribute as clean text, or undefined when missing, unreadable or empty. */
function readAttribute(file: string, maxLength: number): string | undefined {
  try {
    return cleanText(readFileSync(file, 'utf8').slice(0, 4096), maxLength);
  } catch {
    return undefined;
  }
}

/** One printable line: control characters become spaces, runs of space one, at most `max`. */
function cleanText(text: string, max: number): string | undefined {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').replace(/\s+/g, ' ');
  const trimmed = clean.trim().slice(0, max).trim();
  return trimmed === '' ? undefined : trimmed;
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return []; // absent or unreadable: nothing listed from it
  }
}

function resolve(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `path  (manufacturer, vid:pid, serial, by-id links)`: one line of `rig ports`. */
export function formatPort(p: ListedPort): string {
  const details = [
    p.manufacturer,
    p.vendorId && p.productId ? `${p.vendorId}:${p.productId}` : undefined,
    p.serialNumber,
    ...p.links,
  ]
    .filter(Boolean)
    .join(', ');
  return `${p.path}${details ? `  (${details})` : ''}`;
}

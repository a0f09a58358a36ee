/**
 * Bytes over a serial port: the only module of the project that imports serialport.
 *
 * `openSerialTransport` opens a port (a real one, a pty from socat, or serialport's mock binding)
 * and hands back a `ByteTransport`: write bytes, hear bytes, hear the port close. Everything above
 * it (the host session, the rig emulator) is written against `ByteTransport`, so it runs the same
 * on a wire in memory.
 *
 * Rules:
 * - Open errors become `SerialRigError`s with an operator's message (errors.ts): missing port,
 *   port in use ("Cannot lock port"), no permission, not a tty.
 * - Modem-line and low-latency settings are not touched: ptys refuse those ioctls, and the
 *   protocol needs none of them. A pty also ignores the baud rate, so nothing here may rely on it
 *   for timing.
 * - The mock binding is reached through `SerialPortMock.binding`, never by importing
 *   '@serialport/binding-mock' (that would load a second copy with its own port registry).
 *
 * This module knows nothing of frames, the protocol or the controller.
 */
import type { SerialPort, SerialPortMock } from 'serialport';

/** serialport (and its native binding) loads at the first open or listing, not with this module. */
const serialport = () => import('serialport');
import { baudRateMin } from '../../src/protocol/constants.js';
import { SerialRigError, serialOpenError } from './errors.js';

/** The fastest line we accept; the protocol was designed down to `baudRateMin`. */
export const baudRateMax = 4_000_000;

export interface ByteTransport {
  /** The port's path, for messages. */
  readonly path: string;
  readonly isOpen: boolean;
  /** Queue bytes for the wire. Never throws; a failed write shows up as silence to the link. */
  write(bytes: Uint8Array): void;
  /** One listener: every chunk of bytes as it arrives. */
  onData(listener: (bytes: Uint8Array) => void): void;
  /** One listener: the port closed, by `close()` (error undefined) or by the world. */
  onClose(listener: (error: Error | undefined) => void): void;
  close(): Promise<void>;
}

export interface SerialTransportOptions {
  path: string;
  baudRate: number;
  /** Open through serialport's mock binding (unit tests); the port must have been created. */
  mock?: boolean;
}

/** Port details as `itpump rig ports` prints them. */
export interface SerialPortListing {
  path: string;
  manufacturer: string | undefined;
  serialNumber: string | undefined;
  vendorId: string | undefined;
  productId: string | undefined;
}

export function checkBaudRate(baudRate: number, field = 'baudRate'): number {
  if (!Number.isInteger(baudRate) || baudRate < baudRateMin || baudRate > baudRateMax) {
    throw new SerialRigError(
      'badOption',
      `${field} is ${baudRate}, must be an integer from ${baudRateMin} to ${baudRateMax} (the rig protocol's timing is designed for ${baudRateMin} baud and faster; 115200 is the default)`,
    );
  }
  return baudRate;
}

class SerialTransport implements ByteTransport {
  private dataListener: ((bytes: Uint8Array) => void) | undefined;
  private closeListener: ((error: Error | undefined) => void) | undefined;
  private closing = false;
  writeErrors = 0;

  constructor(readonly port: SerialPort | SerialPortMock) {
    port.on('data', (chunk: Buffer) =>
      this.dataListener?.(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
    );
    port.on('close', (error: Error | null | undefined) =>
      this.closeListener?.(this.closing ? undefined : (error ?? new Error('the port closed'))),
    );
    // Errors after open (a write to a vanished device) also arrive as 'close' or as silence; an
    // unhandled 'error' event would crash the process, so it is counted instead.
    port.on('error', () => this.writeErrors++);
  }

  get path(): string {
    return this.port.path;
  }

  get isOpen(): boolean {
    return this.port.isOpen;
  }

  write(bytes: Uint8Array): void {
    if (!this.port.isOpen || bytes.length === 0) return;
    this.port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (error) => {
      if (error) this.writeErrors++;
    });
  }

  onData(listener: (bytes: Uint8Array) => void): void {
    this.dataListener = listener;
  }

  onClose(listener: (error: Error | undefined) => void): void {
    this.closeListener = listener;
  }

  close(): Promise<void> {
    this.closing = true;
    if (!this.port.isOpen) return Promise.resolve();
    return new Promise((resolve) => {
      // Let queued writes (an emergency stop, say) reach the wire before closing.
      this.port.drain(() => this.port.close(() => resolve()));
    });
  }
}

/** Open a serial port for the rig protocol. Throws `SerialRigError` with an operator's message. */
export async function openSerialTransport(
  options: SerialTransportOptions,
): Promise<ByteTransport & { readonly port: SerialPort | SerialPortMock }> {
  const { path } = options;
  const baudRate = checkBaudRate(options.baudRate);
  const { SerialPort, SerialPortMock } = await serialport();
  const port = options.mock
    ? new SerialPortMock({ path, baudRate, autoOpen: false })
    : new SerialPort({
        path,
        baudRate,
        autoOpen: false,
        dataBits: 8,
        parity: 'none',
        stopBits: 1,
        rtscts: false,
      });
  await new Promise<void>((resolve, reject) => {
    port.open((error) => (error ? reject(serialOpenError(path, baudRate, error)) : resolve()));
  });
  return new SerialTransport(port);
}

/** The serial ports the operating system reports. On Linux, ptys (/dev/pts/N) are never listed. */
export async function listSerialPorts(
  options: { mock?: boolean } = {},
): Promise<SerialPortListing[]> {
  const { SerialPort, SerialPortMock } = await serialport();
  const ports = options.mock ? await SerialPortMock.list() : await SerialPort.list();
  return ports.map((p) => ({
    path: p.path,
    manufacturer: p.manufacturer,
    serialNumber: p.serialNumber,
    vendorId: p.vendorId,
    productId: p.productId,
  }));
}

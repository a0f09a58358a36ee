/**
 * The rig emulator on a serial port: `itpump rig emulate --port PATH` (docs/rig.md).
 *
 * A `RigCore` (rigCore.ts: the rig's link, stepper and balance) on a byte transport, with the one
 * timer it asks for and the scheduled faults of the command line (`--disconnect-after-ms`,
 * `--reboot-after-ms`). Operators without hardware run it on one end of a socat pty pair and point
 * `itpump rig run` at the other; the tests do the same in-process.
 *
 * Time: the core's link runs on real milliseconds; its motor and balance on real × `timeScale`,
 * which must equal the host's --time-scale. The emulator announces its scale in its firmware id
 * ("itpump-emu x60"), and the host refuses a mismatch.
 *
 * This module knows nothing of the host's controller.
 */
import {
  openSerialTransport,
  RealTimeClock,
  type ByteTransport,
  type Timers,
} from '../../hal/serial/index.js';
import { baudRateDefault } from '../../src/protocol/index.js';
import { RigCore, type RigCoreOptions } from './rigCore.js';

export interface EmulatorOptions extends Partial<RigCoreOptions> {
  path: string;
  baudRate?: number;
  /** Open through serialport's mock binding (unit tests). */
  mock?: boolean;
  /** A transport to use instead of opening `path`. */
  transport?: ByteTransport;
  /** Default: a new real-time clock. */
  timers?: Timers;
  /** Cut the cable this long (real ms) after start … */
  disconnectAfterMs?: number;
  /** … for this long (real ms). Default 5000. */
  disconnectForMs?: number;
  /** Reset the rig this long (real ms) after start. */
  rebootAfterMs?: number;
  onEvent?: (text: string) => void;
}

export class RigEmulator {
  readonly core: RigCore;
  readonly path: string;
  /** Resolves when the port closes (by `close()` or by the world). */
  readonly closed: Promise<void>;
  private readonly timers: Timers;
  private readonly ownsTimers: RealTimeClock | undefined;
  private alarm: { cancel(): void } | undefined;
  private alarmAtMs = Number.NaN;
  private readonly scheduled: { cancel(): void }[] = [];
  private isClosed = false;
  private resolveClosed!: () => void;

  private constructor(
    private readonly transport: ByteTransport,
    options: EmulatorOptions,
  ) {
    this.path = options.path;
    this.ownsTimers = options.timers === undefined ? new RealTimeClock() : undefined;
    this.timers = options.timers ?? this.ownsTimers!;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    const {
      path: _path,
      baudRate: _baud,
      mock: _mock,
      transport: _t,
      timers: _timers,
      disconnectAfterMs,
      disconnectForMs,
      rebootAfterMs,
      onEvent,
      ...coreOptions
    } = options;
    this.core = new RigCore({ ...coreOptions, startRealMs: this.timers.realMs() });
    this.core.onEvent = onEvent;
    transport.onData((bytes) => {
      if (this.isClosed) return;
      this.core.receiveBytes(bytes, this.timers.realMs());
      this.service();
    });
    transport.onClose((error) => {
      if (error !== undefined) onEvent?.(`port ${this.path} closed: ${error.message}`);
      void this.close();
    });
    const start = this.timers.realMs();
    if (disconnectAfterMs !== undefined)
      this.at(start + disconnectAfterMs, () => this.disconnect(disconnectForMs ?? 5_000));
    if (rebootAfterMs !== undefined) this.at(start + rebootAfterMs, () => this.reboot());
    this.service();
  }

  static async open(options: EmulatorOptions): Promise<RigEmulator> {
    const transport =
      options.transport ??
      (await openSerialTransport({
        path: options.path,
        baudRate: options.baudRate ?? baudRateDefault,
        ...(options.mock ? { mock: true } : {}),
      }));
    return new RigEmulator(transport, options);
  }

  /** Cut the cable for `forMs` real milliseconds. */
  disconnect(forMs: number): void {
    this.core.disconnect(this.timers.realMs(), forMs);
    this.service();
  }

  /** Reset the rig now. */
  reboot(): void {
    this.core.reboot(this.timers.realMs());
    this.service();
  }

  /** The patient presses the button. */
  press(): void {
    this.core.press(this.timers.realMs());
    this.service();
  }

  jam(): void {
    this.core.jam(this.timers.realMs());
    this.service();
  }

  unjam(): void {
    this.core.unjam(this.timers.realMs());
    this.service();
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.alarm?.cancel();
    for (const s of this.scheduled) s.cancel();
    this.ownsTimers?.close();
    await this.transport.close();
    this.resolveClosed();
  }

  private at(atRealMs: number, run: () => void): void {
    this.scheduled.push(this.timers.setAlarm(atRealMs, () => !this.isClosed && run()));
  }

  private service(): void {
    if (this.isClosed) return;
    const now = this.timers.realMs();
    const bytes = this.core.takeBytes(now);
    if (bytes.length > 0) this.transport.write(bytes);
    const due = this.core.nextDeadlineRealMs();
    if (due === this.alarmAtMs && this.alarm !== undefined) return;
    this.alarm?.cancel();
    this.alarmAtMs = due;
    this.alarm = Number.isFinite(due)
      ? this.timers.setAlarm(due, () => {
          this.alarm = undefined;
          this.alarmAtMs = Number.NaN;
          if (this.isClosed) return;
          this.core.handleTimeout(this.timers.realMs());
          this.service();
        })
      : undefined;
  }
}

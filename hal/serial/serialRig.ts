/**
 * The serial rig HAL backend: a `HostSession` (hostSession.ts) on a byte transport, with the one
 * timer it asks for. This is what `itpump rig run` plugs into the controller.
 *
 * `SerialRig.open()` opens the port, starts the handshake and resolves once the rig has answered,
 * or rejects with a `SerialRigError` an operator understands: missing port, port in use, no answer
 * ("no HELLO_ACK within 3000 ms at 115200 baud …"), garbage that points to a wrong baud rate, a
 * rig of another protocol version, an emulator at another time scale. After that the link
 * supervises itself: a port that closes (USB unplugged) is reopened every `reopenIntervalMs`, a
 * silent rig is handled by the session (lost link, in-doubt batch, resynchronisation).
 *
 * The ports handed to the controller flush what they queued at once, so a command reaches the
 * wire in the same turn of the event loop.
 *
 * This module knows nothing of the controller, scenarios or the CLI.
 */
import { randomInt } from 'node:crypto';
import {
  baudRateDefault,
  handshakeTimeoutMs,
  u32Max,
  type FrameDecoderStats,
} from '../../src/protocol/index.js';
import type { AnnunciatorPort } from '../annunciator.js';
import type { ButtonPort } from '../button.js';
import type { MotorPort } from '../motor.js';
import { SerialRigError } from './errors.js';
import { HostSession, type RigInfo } from './hostSession.js';
import type { Timers } from './realTimeClock.js';
import {
  openSerialTransport,
  type ByteTransport,
  type SerialTransportOptions,
} from './transport.js';

export interface SerialRigOptions {
  /** The serial port, e.g. /dev/ttyUSB0 or a socat pty link. */
  path: string;
  baudRate?: number;
  /** Real time and alarms; the controller's clock (a `RealTimeClock`) usually serves. */
  timers: Timers;
  /** Pump time (the controller's monotonic clock). */
  pumpMs: () => number;
  /** The host's --time-scale; checked against what an emulator announces. Default 1. */
  timeScale?: number;
  /** Open through serialport's mock binding (unit tests). */
  mock?: boolean;
  /** A transport to use instead of opening `path` (tests on a wire in memory). */
  transport?: ByteTransport;
  /** How to open the port again after it closed by itself. Default `openSerialTransport`. */
  reopen?: (options: SerialTransportOptions) => Promise<ByteTransport>;
  reopenIntervalMs?: number;
  resyncSlackMs?: number;
  sessionIdFirst?: number;
  onWarning?: (text: string) => void;
}

/** The time scale an emulator announces in its firmware id ("itpump-emu x60"), if any. */
export function announcedTimeScale(firmwareId: string): number | undefined {
  const match = /^itpump-emu x(\d+)$/.exec(firmwareId);
  return match ? Number(match[1]) : undefined;
}

/** Why the handshake failed, in words for the operator. */
export function handshakeError(
  path: string,
  baudRate: number,
  stats: FrameDecoderStats,
  foreignVersion: number | undefined,
): SerialRigError {
  const base = `no HELLO_ACK from ${path} within ${handshakeTimeoutMs} ms at ${baudRate} baud`;
  if (foreignVersion !== undefined) {
    return new SerialRigError(
      'foreignProtocol',
      `${base}: the rig speaks protocol version ${foreignVersion}, this host speaks version 1. Update the rig's firmware or itpump.`,
    );
  }
  const spoilt =
    stats.badCrc + stats.badEscape + stats.truncated + stats.oversize + stats.badLength;
  if (stats.bytesReceived > 0 && stats.framesDecoded === 0) {
    return new SerialRigError(
      'wrongBaudRate',
      `${base}: ${stats.bytesReceived} bytes arrived but not one valid frame (${spoilt} spoilt). The rig probably runs at another baud rate: check the baud rate (--baud) and the rig's firmware settings.`,
    );
  }
  if (stats.bytesReceived > 0 && spoilt > 0) {
    // Frames came through and others were spoilt: our HELLO or its answer was lost on the line.
    const share = Math.round((spoilt * 100) / (spoilt + stats.framesDecoded));
    return new SerialRigError(
      'noisyLine',
      `${base}: ${stats.framesDecoded} valid frames arrived and ${spoilt} spoilt ones (${share} % of frames; CRC, escape or length errors), so our HELLO or its answer was likely lost on the line. Check the cable (length, shielding, connectors) and try a lower --baud.`,
    );
  }
  if (stats.bytesReceived > 0) {
    return new SerialRigError(
      'handshakeUnanswered',
      `${base}: valid frames arrived but no answer to our HELLO. Check the baud rate and the rig's firmware (does it implement docs/protocol.md §6.1?).`,
    );
  }
  return new SerialRigError(
    'handshakeUnanswered',
    `${base}, and not a single byte came back: check the baud rate and the rig's firmware, that the rig is powered and its cable is in this port (for the emulator: is \`itpump rig emulate\` running on the other end of the pty?).`,
  );
}

export class SerialRig {
  readonly session: HostSession;
  readonly motor: MotorPort;
  readonly button: ButtonPort;
  readonly annunciator: AnnunciatorPort;
  readonly path: string;
  readonly baudRate: number;
  /** Port closures by the world, and reopen attempts. */
  portCloses = 0;
  private transport: ByteTransport | undefined;
  private alarm: { cancel(): void } | undefined;
  private alarmAtMs = Number.NaN;
  private reopenTimer: { cancel(): void } | undefined;
  private closed = false;

  private constructor(
    private readonly options: SerialRigOptions,
    transport: ByteTransport,
  ) {
    this.path = options.path;
    this.baudRate = options.baudRate ?? baudRateDefault;
    const { timers } = options;
    this.session = new HostSession({
      time: { realMs: () => timers.realMs(), pumpMs: options.pumpMs },
      sessionIdFirst: options.sessionIdFirst ?? randomInt(1, u32Max),
      ...(options.resyncSlackMs !== undefined ? { resyncSlackMs: options.resyncSlackMs } : {}),
    });
    this.session.onWarning = options.onWarning;
    const s = this.session;
    this.motor = {
      deliver: (batch) => this.flushAfter(() => s.motor.deliver(batch)),
      stop: () => this.flushAfter(() => s.motor.stop()),
      listen: (listener) => s.motor.listen(listener),
    };
    this.button = s.button;
    this.annunciator = { sound: (pattern) => this.flushAfter(() => s.annunciator.sound(pattern)) };
    this.attach(transport);
    this.service();
  }

  /**
   * Open the port and wait for the rig's HELLO_ACK. Rejects with `SerialRigError` for a port that
   * cannot be opened, an unanswered handshake, or an emulator at another time scale.
   */
  static async open(options: SerialRigOptions): Promise<SerialRig> {
    const baudRate = options.baudRate ?? baudRateDefault;
    const transport =
      options.transport ??
      (await openSerialTransport({
        path: options.path,
        baudRate,
        ...(options.mock ? { mock: true } : {}),
      }));
    const rig = new SerialRig(options, transport);
    try {
      await rig.handshake();
      return rig;
    } catch (e) {
      await rig.close();
      throw e;
    }
  }

  private handshake(): Promise<RigInfo> {
    const s = this.session;
    return new Promise<RigInfo>((resolve, reject) => {
      s.onHandshakeUnanswered = (e) =>
        reject(handshakeError(this.path, this.baudRate, e.decoderStats, e.foreignVersion));
      s.onLinkUp = (info) => {
        const hostScale = this.options.timeScale ?? 1;
        const rigScale = announcedTimeScale(info.firmwareId) ?? 1;
        if (rigScale !== hostScale) {
          const what =
            announcedTimeScale(info.firmwareId) === undefined
              ? `the rig (${info.firmwareId}) runs in real time`
              : `the emulator runs at --time-scale ${rigScale}`;
          reject(
            new SerialRigError(
              'timeScaleMismatch',
              `${what} but this run uses --time-scale ${hostScale}: start both with the same --time-scale (only the emulator can run faster than real time).`,
            ),
          );
          return;
        }
        resolve(info);
      };
    }).finally(() => {
      s.onHandshakeUnanswered = undefined;
      s.onLinkUp = undefined;
    });
  }

  get linkUp(): boolean {
    return this.session.linkUp;
  }

  /** Stop the motor and latch it until the next session (operator abort). False without a session. */
  emergencyStop(): boolean {
    let sent = false;
    this.flushAfter(() => (sent = this.session.emergencyStop()));
    return sent;
  }

  /**
   * Stop: optionally an emergency stop first (the motor halts and latches until the next session),
   * then close the port and cancel every timer.
   */
  async close(options: { emergencyStop?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    if (options.emergencyStop) this.emergencyStop();
    this.closed = true;
    this.alarm?.cancel();
    this.reopenTimer?.cancel();
    await this.transport?.close();
    this.transport = undefined;
  }

  private attach(transport: ByteTransport): void {
    this.transport = transport;
    transport.onData((bytes) => {
      if (this.closed) return;
      this.session.receiveBytes(bytes);
      this.service();
    });
    transport.onClose((error) => {
      if (error === undefined || this.closed) return;
      this.portCloses++;
      this.transport = undefined;
      this.options.onWarning?.(`serial port ${this.path} closed (${error.message}); reopening`);
      this.scheduleReopen();
    });
  }

  private scheduleReopen(): void {
    const { timers } = this.options;
    const every = this.options.reopenIntervalMs ?? 1_000;
    this.reopenTimer = timers.setAlarm(timers.realMs() + every, () => {
      this.reopenTimer = undefined;
      if (this.closed) return;
      const reopen = this.options.reopen ?? openSerialTransport;
      reopen({
        path: this.path,
        baudRate: this.baudRate,
        ...(this.options.mock ? { mock: true } : {}),
      }).then(
        (t) => {
          if (this.closed) void t.close();
          else this.attach(t);
        },
        () => this.scheduleReopen(),
      );
    });
  }

  private flushAfter(run: () => void): void {
    try {
      run();
    } finally {
      this.service();
    }
  }

  private flush(): void {
    const bytes = this.session.bytesToSend();
    if (bytes.length > 0) this.transport?.write(bytes);
  }

  /** Write what the session queued, and arm the timer for its next deadline. */
  private service(): void {
    if (this.closed) return;
    this.flush();
    const due = this.session.nextDeadlineRealMs();
    if (due === this.alarmAtMs && this.alarm !== undefined) return;
    this.alarm?.cancel();
    this.alarm = undefined;
    this.alarmAtMs = due;
    if (!Number.isFinite(due)) return;
    this.alarm = this.options.timers.setAlarm(due, () => {
      this.alarm = undefined;
      this.alarmAtMs = Number.NaN;
      if (this.closed) return;
      this.session.handleTimeout();
      this.service();
    });
  }
}

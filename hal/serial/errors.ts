/**
 * Faults of the serial rig connection, as typed errors with messages an operator can act on.
 *
 * Every fault is a `HalError` (hal/halError.ts), so the controller and the CLI treat it as a
 * fault of the world, never as our bug. `fault` says precisely what went wrong; `kind` is the
 * nearest generic HAL kind. The message is written for the person at the bench: what happened,
 * on which port, and what to check. `serialOpenError` turns serialport's open errors (plain
 * `Error`s whose only structure is their text, e.g. "Cannot lock port") into these.
 *
 * This module knows nothing of serialport itself, the protocol or the controller.
 */
import { HalError, type HalErrorKind } from '../halError.js';

export type SerialFault =
  | 'portMissing' // no device at the path
  | 'portInUse' // another program holds the port (serialport could not lock it)
  | 'permissionDenied' // the user may not open the device
  | 'notASerialPort' // the path is a file or device that is not a tty
  | 'openFailed' // any other error from opening the port
  | 'badOption' // a baud rate or time scale out of range
  | 'handshakeUnanswered' // nothing came back to our HELLOs
  | 'wrongBaudRate' // bytes came back, but never a valid frame
  | 'noisyLine' // valid frames came back, and spoilt ones: the answer was lost on the line
  | 'foreignProtocol' // valid frames of another protocol version
  | 'timeScaleMismatch' // the emulator runs at another --time-scale than the host
  | 'portClosed' // the port went away while in use (USB unplugged)
  | 'linkDown'; // a command while the rig link is down

const kindOf: Record<SerialFault, HalErrorKind> = {
  portMissing: 'other',
  portInUse: 'busy',
  permissionDenied: 'other',
  notASerialPort: 'other',
  openFailed: 'other',
  badOption: 'outOfRange',
  handshakeUnanswered: 'timeout',
  wrongBaudRate: 'timeout',
  noisyLine: 'timeout',
  foreignProtocol: 'other',
  timeScaleMismatch: 'other',
  portClosed: 'linkLost',
  linkDown: 'linkLost',
};

export class SerialRigError extends HalError {
  override name = 'SerialRigError';
  constructor(
    readonly fault: SerialFault,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(kindOf[fault], message, options);
  }
}

export function isSerialRigError(e: unknown): e is SerialRigError {
  return e instanceof SerialRigError;
}

/** A hint that fits every "cannot find the port" situation, ptys included. */
const findPortHint =
  'Run `itpump rig ports` to list serial ports. A pty from socat is not listed there: use the path socat created (its `link=` name or the /dev/pts/N it printed).';

/** Map an error from opening a serial port to a `SerialRigError` an operator understands. */
export function serialOpenError(path: string, baudRate: number, error: unknown): SerialRigError {
  const text = error instanceof Error ? error.message : String(error);
  const cause = { cause: error };
  if (/no such file|ENOENT|does not exist/i.test(text)) {
    return new SerialRigError(
      'portMissing',
      `serial port ${path} does not exist. ${findPortHint}`,
      cause,
    );
  }
  if (
    /cannot lock port|port is locked|resource temporarily unavailable|EBUSY|device or resource busy/i.test(
      text,
    )
  ) {
    return new SerialRigError(
      'portInUse',
      `serial port ${path} is in use by another program (it could not be locked). Close the other program (another itpump, screen, minicom, a serial monitor) and try again.`,
      cause,
    );
  }
  if (/permission denied|EACCES/i.test(text)) {
    return new SerialRigError(
      'permissionDenied',
      `no permission to open serial port ${path}. On Linux, add your user to the group that owns it (usually \`dialout\`: sudo usermod -aG dialout $USER, then log in again).`,
      cause,
    );
  }
  if (/inappropriate ioctl|ENOTTY/i.test(text)) {
    return new SerialRigError(
      'notASerialPort',
      `${path} is not a serial port (it does not accept serial settings such as ${baudRate} baud). ${findPortHint}`,
      cause,
    );
  }
  return new SerialRigError(
    'openFailed',
    `could not open serial port ${path} at ${baudRate} baud: ${text}`,
    cause,
  );
}

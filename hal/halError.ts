/**
 * Faults of the world, as values.
 *
 * Every port method may fail with a `HalError` whose `kind` the controller maps to a state
 * (see docs/faults.md). A `HalError` is never a bug of ours: bugs are assertions (src/assert.ts).
 */
export type HalErrorKind =
  | 'motorStall' // the motor was commanded and did not turn
  | 'busy' // a command arrived while the port was still executing an earlier one
  | 'linkLost' // the transport to the hardware is gone (serial rig unplugged, silent)
  | 'timeout' // the hardware did not answer within its contract
  | 'writeFailed' // non-volatile memory refused or cut a write
  | 'readFailed' // non-volatile memory could not be read
  | 'outOfRange' // an address or value outside what the hardware supports
  | 'other';

export class HalError extends Error {
  override name = 'HalError';
  constructor(
    readonly kind: HalErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isHalError(e: unknown): e is HalError {
  return e instanceof HalError;
}

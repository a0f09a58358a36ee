/**
 * Assertions for our own bugs.
 *
 * An assertion failing means the firmware is wrong, not the world: it is never caught, never
 * mapped to an alarm, and it stops a simulation run. Faults of the world (a stalled motor, a torn
 * write, a garbled frame) are values of type `HalError` instead and lead to states.
 */
export class AssertionFailure extends Error {
  override name = 'AssertionFailure';
}

/** `message` may be a function, so a hot path does not build the text of a failure that never comes. */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new AssertionFailure(typeof message === 'string' ? message : message());
}

/** An integer that is safe for exact arithmetic. */
export function assertSafeInteger(value: number, name: string): void {
  if (!Number.isSafeInteger(value))
    throw new AssertionFailure(`${name} is not a safe integer: ${value}`);
}

export function assertNever(value: never, message = 'unreachable'): never {
  throw new AssertionFailure(`${message}: ${JSON.stringify(value)}`);
}

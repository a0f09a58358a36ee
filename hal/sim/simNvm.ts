/**
 * Simulated non-volatile memory: an in-memory `NvmPort` driver with seeded fault knobs.
 *
 * The memory is a `Uint8Array` owned by one instance; it survives a simulated reset because the
 * harness keeps the `SimNvm` and builds a new controller (and `PersistentStore`) over it. There is
 * no module-global state, so any number of simulated pumps can run side by side.
 *
 * Fault model (what it injects, and why each is survivable by src/persistence/):
 * - Torn write, chosen: `tearNextWriteAt(n)` arms the next `write()` to stop after `n` bytes have
 *   landed and throw `HalError('writeFailed')` (power lost mid-write). With `n` at or past the
 *   write's length every byte lands and it still throws (power lost after the last byte, before
 *   the write returned), so the caller never learns the write was whole. The store survives both
 *   because it never writes over the copy it would fall back to.
 * - Torn write, random: with probability `tearProbability` a write is torn after a uniformly drawn
 *   number of bytes in `[0, length - 1]` (so it is never whole). Draws come only from the seeded
 *   `random` source, so a run is reproduced by its seed.
 * - Bit flip: `flipBit(offset, bit)` inverts one stored bit (retention loss, radiation). CRCs
 *   catch it; the store falls back to the other copy.
 * - Read failure: `failNextRead()` makes the next `read()` throw `HalError('readFailed')`.
 *
 * Torn writes land a prefix of the new bytes, exactly what hal/nvm.ts allows, never more. The
 * memory is byte-writable (EEPROM or FRAM-like): no page erase is modelled.
 *
 * Must not know: record formats, layouts or anything in src/persistence/.
 */
import { HalError } from '../halError.js';
import type { NvmPort } from '../nvm.js';
import { assert } from '../../src/assert.js';
import type { SimRandom } from './simTime.js';

/** 64 KiB: the default capacity, the size the default layout (src/persistence/layout.ts) fills. */
export const SIM_NVM_SIZE_BYTES_DEFAULT = 64 * 1024;

export interface SimNvmOptions {
  /** Capacity in bytes. Default `SIM_NVM_SIZE_BYTES_DEFAULT`. */
  sizeBytes?: number;
  /** Value of every byte before its first write; 0xFF as in erased flash. Default 0xFF. */
  blankByte?: number;
  /** Probability in [0, 1] that a write is torn at a random byte. Default 0. Needs `random`. */
  tearProbability?: number;
  /** Uniform source in [0, 1) for random tears: a seeded stream (`prng.fork('nvm')`) or a function. */
  random?: SimRandom | (() => number);
}

/** What the memory has been through; tests and reports read these. */
export interface SimNvmCounters {
  /** `write()` calls that reached the memory (including torn ones). */
  writes: number;
  /** Writes that threw `writeFailed` after landing some prefix (chosen or random tears). */
  tornWrites: number;
  /** Bytes that actually landed, over all writes. */
  bytesWritten: number;
  /** `read()` calls, including failed ones. */
  reads: number;
  /** Reads that threw `readFailed`. */
  failedReads: number;
  /** Bits inverted with `flipBit()`. */
  bitFlips: number;
}

export class SimNvm implements NvmPort {
  readonly sizeBytes: number;
  readonly counters: SimNvmCounters = {
    writes: 0,
    tornWrites: 0,
    bytesWritten: 0,
    reads: 0,
    failedReads: 0,
    bitFlips: 0,
  };

  private readonly memory: Uint8Array;
  private readonly random: (() => number) | undefined;
  private tearProbability: number;
  /** Bytes the next write lands before it is cut; undefined when no tear is armed. */
  private tearArmedAtBytes: number | undefined;
  private readFailureArmed = false;

  constructor(options: SimNvmOptions = {}) {
    const sizeBytes = options.sizeBytes ?? SIM_NVM_SIZE_BYTES_DEFAULT;
    assert(
      Number.isSafeInteger(sizeBytes) && sizeBytes > 0,
      `SimNvm sizeBytes must be a positive integer, got ${sizeBytes}`,
    );
    const blankByte = options.blankByte ?? 0xff;
    assert(
      Number.isInteger(blankByte) && blankByte >= 0 && blankByte <= 0xff,
      `SimNvm blankByte must be a byte, got ${blankByte}`,
    );
    this.sizeBytes = sizeBytes;
    this.memory = new Uint8Array(sizeBytes).fill(blankByte);
    const random = options.random;
    this.random =
      random === undefined
        ? undefined
        : typeof random === 'function'
          ? random
          : () => random.float();
    this.tearProbability = 0;
    this.setTearProbability(options.tearProbability ?? 0);
  }

  read(offset: number, length: number): Uint8Array {
    this.counters.reads += 1;
    this.checkRange('read', offset, length);
    if (this.readFailureArmed) {
      this.readFailureArmed = false;
      this.counters.failedReads += 1;
      throw new HalError(
        'readFailed',
        `nvm read of ${length} bytes at ${offset} failed (injected)`,
      );
    }
    // A copy: callers must not be able to change the memory except through write().
    return this.memory.slice(offset, offset + length);
  }

  write(offset: number, bytes: Uint8Array): void {
    this.checkRange('write', offset, bytes.length);
    this.counters.writes += 1;
    const landedBytes = this.drawTear(bytes.length);
    if (landedBytes === undefined) {
      this.memory.set(bytes, offset);
      this.counters.bytesWritten += bytes.length;
      return;
    }
    const prefix = bytes.subarray(0, Math.min(landedBytes, bytes.length));
    this.memory.set(prefix, offset);
    this.counters.bytesWritten += prefix.length;
    this.counters.tornWrites += 1;
    throw new HalError(
      'writeFailed',
      `nvm write of ${bytes.length} bytes at ${offset} torn after ${prefix.length} bytes (injected)`,
    );
  }

  /**
   * Arm a one-shot tear: the next write lands its first `bytesLanded` bytes and throws
   * `writeFailed`. `bytesLanded` at or past the write's length lands it whole and still throws.
   */
  tearNextWriteAt(bytesLanded: number): void {
    assert(
      Number.isSafeInteger(bytesLanded) && bytesLanded >= 0,
      `tearNextWriteAt needs a byte count >= 0, got ${bytesLanded}`,
    );
    this.tearArmedAtBytes = bytesLanded;
  }

  /** True while a chosen tear is armed and no write has consumed it yet. */
  get tearArmed(): boolean {
    return this.tearArmedAtBytes !== undefined;
  }

  /** Probability in [0, 1] that each later write is torn at a random byte (0 turns it off). */
  setTearProbability(tearProbability: number): void {
    assert(
      tearProbability >= 0 && tearProbability <= 1,
      `SimNvm tearProbability must be in [0, 1], got ${tearProbability}`,
    );
    assert(
      tearProbability === 0 || this.random !== undefined,
      'SimNvm random tears need a seeded `random` source',
    );
    this.tearProbability = tearProbability;
  }

  /** Arm a one-shot read failure: the next `read()` throws `readFailed`. */
  failNextRead(): void {
    this.readFailureArmed = true;
  }

  /** Invert bit `bit` (0 = least significant) of the byte at `offset`. */
  flipBit(offset: number, bit: number): void {
    this.checkRange('flipBit', offset, 1);
    assert(Number.isInteger(bit) && bit >= 0 && bit <= 7, `flipBit bit must be 0..7, got ${bit}`);
    this.memory[offset] = (this.memory[offset] ?? 0) ^ (1 << bit);
    this.counters.bitFlips += 1;
  }

  /** A copy of the whole memory, for tests and post-mortem dumps; does not count as a read. */
  snapshot(): Uint8Array {
    return this.memory.slice();
  }

  /** Bytes landed by the next write, or undefined when it is not torn. Consumes an armed tear. */
  private drawTear(lengthBytes: number): number | undefined {
    if (this.tearArmedAtBytes !== undefined) {
      const armed = this.tearArmedAtBytes;
      this.tearArmedAtBytes = undefined;
      return armed;
    }
    if (this.tearProbability === 0 || this.random === undefined) return undefined;
    if (this.draw(this.random) >= this.tearProbability) return undefined;
    return Math.floor(this.draw(this.random) * lengthBytes);
  }

  /** One draw in [0, 1); a source outside that range is a bug of whoever supplied it. */
  private draw(random: () => number): number {
    const value = random();
    assert(
      value >= 0 && value < 1,
      `SimNvm random source must return values in [0, 1), got ${value}`,
    );
    return value;
  }

  private checkRange(operation: string, offset: number, lengthBytes: number): void {
    const inRange =
      Number.isSafeInteger(offset) &&
      Number.isSafeInteger(lengthBytes) &&
      offset >= 0 &&
      lengthBytes >= 0 &&
      offset + lengthBytes <= this.sizeBytes;
    if (!inRange) {
      throw new HalError(
        'outOfRange',
        `nvm ${operation} of ${lengthBytes} bytes at ${offset} is outside [0, ${this.sizeBytes})`,
      );
    }
  }
}

/**
 * The simulated NVM driver honours the port contract (hal/nvm.ts) and its fault knobs do exactly
 * what they say: a chosen tear lands that many bytes, random tears are seeded and never whole,
 * bit flips invert one bit, a read failure is one-shot, and instances share nothing.
 */
import { describe, expect, it } from 'vitest';
import { SimNvm, SIM_NVM_SIZE_BYTES_DEFAULT } from '../../hal/sim/simNvm.js';
import { HalError } from '../../hal/halError.js';
import { AssertionFailure } from '../../src/assert.js';
import { Prng } from '../../sim/prng.js';
import { recordFaults } from './faultTally.js';

function bytesOf(length: number, start = 1): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);
}

function halErrorKindOf(action: () => void): string | undefined {
  try {
    action();
  } catch (e) {
    if (e instanceof HalError) return e.kind;
    throw e;
  }
  return undefined;
}

describe('SimNvm port contract', () => {
  it('starts blank (0xFF by default, or the given byte) at the default 64 KiB size', () => {
    const nvm = new SimNvm();
    expect(nvm.sizeBytes).toBe(64 * 1024);
    expect(SIM_NVM_SIZE_BYTES_DEFAULT).toBe(65_536);
    expect(nvm.read(0, nvm.sizeBytes).every((b) => b === 0xff)).toBe(true);
    const zeroed = new SimNvm({ sizeBytes: 32, blankByte: 0 });
    expect(Array.from(zeroed.read(0, 32))).toEqual(new Array(32).fill(0));
  });

  it('reads back what was written and counts writes, bytes and reads', () => {
    const nvm = new SimNvm({ sizeBytes: 64 });
    nvm.write(10, bytesOf(5));
    expect(Array.from(nvm.read(9, 7))).toEqual([0xff, 1, 2, 3, 4, 5, 0xff]);
    expect(nvm.counters).toMatchObject({ writes: 1, bytesWritten: 5, reads: 1, tornWrites: 0 });
  });

  it('returns a copy from read(), so callers cannot change the memory', () => {
    const nvm = new SimNvm({ sizeBytes: 8 });
    const bytes = nvm.read(0, 8);
    bytes.fill(0);
    expect(nvm.read(0, 8).every((b) => b === 0xff)).toBe(true);
  });

  it('throws outOfRange for any range outside [0, sizeBytes) and changes nothing', () => {
    const nvm = new SimNvm({ sizeBytes: 16 });
    expect(halErrorKindOf(() => nvm.read(15, 2))).toBe('outOfRange');
    expect(halErrorKindOf(() => nvm.read(-1, 1))).toBe('outOfRange');
    expect(halErrorKindOf(() => nvm.read(0.5, 1))).toBe('outOfRange');
    expect(halErrorKindOf(() => nvm.write(14, bytesOf(3)))).toBe('outOfRange');
    expect(halErrorKindOf(() => nvm.write(16, bytesOf(1)))).toBe('outOfRange');
    expect(nvm.snapshot().every((b) => b === 0xff)).toBe(true);
    expect(nvm.counters.writes).toBe(0);
    expect(halErrorKindOf(() => nvm.read(16, 0))).toBeUndefined();
  });
});

describe('SimNvm fault knobs', () => {
  it('tearNextWriteAt(n) lands exactly the first n bytes, throws writeFailed, and is one-shot', ({
    task,
  }) => {
    const length = 12;
    for (let landed = 0; landed < length; landed++) {
      const nvm = new SimNvm({ sizeBytes: 32 });
      nvm.tearNextWriteAt(landed);
      expect(nvm.tearArmed).toBe(true);
      expect(halErrorKindOf(() => nvm.write(4, bytesOf(length)))).toBe('writeFailed');
      expect(nvm.tearArmed).toBe(false);
      const expected = [...bytesOf(landed), ...new Array(length - landed).fill(0xff)];
      expect(Array.from(nvm.read(4, length))).toEqual(expected);
      expect(nvm.counters).toMatchObject({ writes: 1, tornWrites: 1, bytesWritten: landed });
      nvm.write(4, bytesOf(length, 100));
      expect(Array.from(nvm.read(4, length))).toEqual(Array.from(bytesOf(length, 100)));
      recordFaults(task, { tornWrites: nvm.counters.tornWrites });
    }
  });

  it('a tear at or past the write length lands every byte and still throws (power lost on return)', () => {
    for (const landed of [8, 9, 1000]) {
      const nvm = new SimNvm({ sizeBytes: 16 });
      nvm.tearNextWriteAt(landed);
      expect(halErrorKindOf(() => nvm.write(0, bytesOf(8)))).toBe('writeFailed');
      expect(Array.from(nvm.read(0, 8))).toEqual(Array.from(bytesOf(8)));
      expect(nvm.counters).toMatchObject({ tornWrites: 1, bytesWritten: 8 });
    }
  });

  it('random tears follow the seed, never land the whole write, and occur at about the set rate', ({
    task,
  }) => {
    const run = (seed: number) => {
      const nvm = new SimNvm({
        sizeBytes: 64,
        tearProbability: 0.25,
        random: new Prng(seed).fork('nvm'),
      });
      const outcomes: number[] = [];
      for (let i = 0; i < 2_000; i++) {
        const before = nvm.counters.bytesWritten;
        const kind = halErrorKindOf(() => nvm.write(0, bytesOf(10, i)));
        const landed = nvm.counters.bytesWritten - before;
        if (kind !== undefined) {
          expect(kind).toBe('writeFailed');
          expect(landed).toBeLessThan(10);
        } else expect(landed).toBe(10);
        outcomes.push(kind === undefined ? -1 : landed);
      }
      return { outcomes, nvm };
    };
    const first = run(7);
    expect(run(7).outcomes).toEqual(first.outcomes);
    expect(run(8).outcomes).not.toEqual(first.outcomes);
    const rate = first.nvm.counters.tornWrites / first.nvm.counters.writes;
    expect(rate).toBeGreaterThan(0.2);
    expect(rate).toBeLessThan(0.3);
    // Every prefix length 0..9 occurs: the tear point is drawn over the whole write.
    expect(new Set(first.outcomes.filter((o) => o >= 0)).size).toBe(10);
    recordFaults(task, { tornWrites: first.nvm.counters.tornWrites });
  });

  it('accepts a plain function as the random source and can turn random tears off', () => {
    const nvm = new SimNvm({ sizeBytes: 16, tearProbability: 1, random: () => 0.5 });
    expect(halErrorKindOf(() => nvm.write(0, bytesOf(4)))).toBe('writeFailed');
    expect(Array.from(nvm.read(0, 4))).toEqual([1, 2, 0xff, 0xff]);
    nvm.setTearProbability(0);
    nvm.write(0, bytesOf(4));
    expect(Array.from(nvm.read(0, 4))).toEqual([1, 2, 3, 4]);
  });

  it('asserts on knob values that are bugs of the caller, naming the value', () => {
    expect(() => new SimNvm({ tearProbability: 0.1 })).toThrow(/random/);
    expect(() => new SimNvm({ tearProbability: 1.5, random: () => 0 })).toThrow(
      'SimNvm tearProbability must be in [0, 1], got 1.5',
    );
    expect(() => new SimNvm({ tearProbability: -0.1, random: () => 0 })).toThrow(AssertionFailure);
    for (const sizeBytes of [0, -1, 1.5])
      expect(() => new SimNvm({ sizeBytes })).toThrow(
        `SimNvm sizeBytes must be a positive integer, got ${sizeBytes}`,
      );
    for (const blankByte of [-1, 256, 1.5])
      expect(() => new SimNvm({ blankByte })).toThrow(
        `SimNvm blankByte must be a byte, got ${blankByte}`,
      );
    for (const bytesLanded of [-1, 0.5])
      expect(() => new SimNvm().tearNextWriteAt(bytesLanded)).toThrow(
        `tearNextWriteAt needs a byte count >= 0, got ${bytesLanded}`,
      );
    for (const bit of [-1, 8, 0.5])
      expect(() => new SimNvm().flipBit(0, bit)).toThrow(`flipBit bit must be 0..7, got ${bit}`);
    const outOfRangeSource = new SimNvm({ sizeBytes: 8, tearProbability: 0.5, random: () => 1 });
    expect(() => outOfRangeSource.write(0, bytesOf(2))).toThrow(
      'SimNvm random source must return values in [0, 1), got 1',
    );
  });

  it('names the operation, the range and the landed bytes in its HalError messages', () => {
    const nvm = new SimNvm({ sizeBytes: 16 });
    expect(() => nvm.read(15, 2)).toThrow('nvm read of 2 bytes at 15 is outside [0, 16)');
    expect(() => nvm.write(15, bytesOf(2))).toThrow(
      'nvm write of 2 bytes at 15 is outside [0, 16)',
    );
    expect(() => nvm.flipBit(16, 0)).toThrow('nvm flipBit of 1 bytes at 16 is outside [0, 16)');
    nvm.tearNextWriteAt(3);
    expect(() => nvm.write(4, bytesOf(8))).toThrow(
      'nvm write of 8 bytes at 4 torn after 3 bytes (injected)',
    );
    nvm.failNextRead();
    expect(() => nvm.read(0, 4)).toThrow('nvm read of 4 bytes at 0 failed (injected)');
  });

  it('refuses a negative length, and snapshot() is a copy', () => {
    const nvm = new SimNvm({ sizeBytes: 16 });
    expect(halErrorKindOf(() => nvm.read(4, -1))).toBe('outOfRange');
    nvm.snapshot().fill(0);
    expect(nvm.snapshot().every((b) => b === 0xff)).toBe(true);
  });

  it('flipBit inverts exactly one bit', ({ task }) => {
    const nvm = new SimNvm({ sizeBytes: 4, blankByte: 0 });
    for (let bit = 0; bit < 8; bit++) {
      nvm.flipBit(2, bit);
      expect(Array.from(nvm.read(0, 4))).toEqual([0, 0, 1 << bit, 0]);
      nvm.flipBit(2, bit);
    }
    expect(nvm.counters.bitFlips).toBe(16);
    expect(halErrorKindOf(() => nvm.flipBit(4, 0))).toBe('outOfRange');
    recordFaults(task, { bitFlips: nvm.counters.bitFlips });
  });

  it('failNextRead makes exactly the next read throw readFailed', () => {
    const nvm = new SimNvm({ sizeBytes: 4 });
    nvm.failNextRead();
    expect(halErrorKindOf(() => nvm.read(0, 4))).toBe('readFailed');
    expect(halErrorKindOf(() => nvm.read(0, 4))).toBeUndefined();
    expect(nvm.counters).toMatchObject({ reads: 2, failedReads: 1 });
  });

  it('keeps no shared state: knobs and memory of one instance do not reach another', () => {
    const a = new SimNvm({ sizeBytes: 8 });
    const b = new SimNvm({ sizeBytes: 8 });
    a.tearNextWriteAt(0);
    a.failNextRead();
    b.write(0, bytesOf(8));
    expect(Array.from(b.read(0, 8))).toEqual(Array.from(bytesOf(8)));
    expect(a.snapshot().every((x) => x === 0xff)).toBe(true);
    expect(a.tearArmed).toBe(true);
  });
});

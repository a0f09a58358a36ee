/**
 * The seed list of `npm run test:deep` (scripts/deepSeeds.ts): FC_SEEDS as ranges and single
 * seeds, refused with a message naming the value when it is not one, and printed back in the same
 * syntax (the runner lists each row's failing seeds that way, ready to paste into FC_SEEDS).
 */
import { describe, expect, it } from 'vitest';
import { formatSeeds, parsePositiveInt, parseSeeds } from '../../scripts/deepSeeds.js';

describe('parseSeeds', () => {
  it('reads a range, ends included', () => {
    const seeds = parseSeeds('1-50');
    expect(seeds).toHaveLength(50);
    expect(seeds[0]).toBe(1);
    expect(seeds.at(-1)).toBe(50);
  });

  it('reads single seeds and ranges separated by commas', () => {
    expect(parseSeeds('1,4,7-9')).toEqual([1, 4, 7, 8, 9]);
    expect(parseSeeds('3')).toEqual([3]);
    expect(parseSeeds('0')).toEqual([0]);
    expect(parseSeeds('5-5')).toEqual([5]);
  });

  it('gives each seed once, in ascending order, and allows spaces around items', () => {
    expect(parseSeeds('9, 1-3 ,2')).toEqual([1, 2, 3, 9]);
  });

  it.each(['0-', 'a', '5-3', '', ' ', '1,,2', '1,', '-3', '1-2-3', '1.5', '1e3', '2147483648'])(
    'refuses %j with a message naming the value',
    (value) => {
      expect(() => parseSeeds(value)).toThrow(`FC_SEEDS=${JSON.stringify(value)}`);
    },
  );

  it('names the bad item and the expected syntax', () => {
    expect(() => parseSeeds('1,5-3')).toThrow('"5-3" is a range that ends before it starts');
    expect(() => parseSeeds('a')).toThrow('expected e.g. 1-50, 3 or 1,4,7-9');
  });

  it('refuses more seeds than a run can hold', () => {
    expect(() => parseSeeds('1-100000')).toThrow('100000 seeds');
  });
});

describe('formatSeeds', () => {
  it('writes runs of consecutive seeds as ranges', () => {
    expect(formatSeeds([1, 4, 7, 8, 9])).toBe('1,4,7-9');
    expect(formatSeeds([3])).toBe('3');
    expect(formatSeeds([1, 2])).toBe('1-2');
    expect(formatSeeds([])).toBe('');
  });

  it('reads back to the same seeds', () => {
    for (const value of ['1-50', '1,4,7-9', '2,4,6', '0-3,10'])
      expect(parseSeeds(formatSeeds(parseSeeds(value)))).toEqual(parseSeeds(value));
  });
});

describe('parsePositiveInt', () => {
  it('reads a positive integer, or the default when unset', () => {
    expect(parsePositiveInt('DEEP_JOBS', '3', 2)).toBe(3);
    expect(parsePositiveInt('DEEP_JOBS', ' 12 ', 2)).toBe(12);
    expect(parsePositiveInt('DEEP_JOBS', undefined, 2)).toBe(2);
  });

  it.each(['', '0', '-1', 'x', '2.5', '1e2'])(
    'refuses %j, naming the variable and value',
    (value) => {
      expect(() => parsePositiveInt('FC_NUM_RUNS', value, 100)).toThrow(
        `FC_NUM_RUNS=${JSON.stringify(value)}`,
      );
    },
  );
});

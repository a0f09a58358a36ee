/**
 * The settings of `npm run test:deep` (scripts/deep.ts), kept apart from the runner so that their
 * unit test (tests/unit/deepSeeds.test.ts) imports no child-process code.
 *
 * FC_SEEDS is a comma-separated list of seeds and ranges: `1-50`, `3`, `1,4,7-9`. A range includes
 * both ends. Seeds are fast-check seeds, whole numbers from 0 to 2^31 − 1.
 */

/** The largest seed: fast-check's seeds are 32-bit signed integers. */
export const SEED_MAX = 2 ** 31 - 1;
/** The most seeds one run takes: a guard against a typo such as `1-100000`. */
export const SEEDS_MAX = 10_000;

const syntax = 'expected e.g. 1-50, 3 or 1,4,7-9';

/** The seeds of an FC_SEEDS value, each once, ascending; throws naming the value if it is not one. */
export function parseSeeds(value: string): number[] {
  const bad = (why: string) => new Error(`FC_SEEDS=${JSON.stringify(value)}: ${why} (${syntax})`);
  const seeds = new Set<number>();
  for (const raw of value.split(',')) {
    const item = raw.trim();
    const match = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (!match)
      throw bad(item === '' ? 'an empty item' : `${JSON.stringify(item)} is not a seed or a range`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (first > SEED_MAX || last > SEED_MAX)
      throw bad(`${JSON.stringify(item)} goes past the largest seed, ${SEED_MAX}`);
    if (last < first) throw bad(`${JSON.stringify(item)} is a range that ends before it starts`);
    if (last - first + 1 + seeds.size > SEEDS_MAX)
      throw bad(
        `${last - first + 1 + seeds.size} seeds or more, more than the ${SEEDS_MAX} a run takes`,
      );
    for (let seed = first; seed <= last; seed++) seeds.add(seed);
  }
  return [...seeds].sort((a, b) => a - b);
}

/** Seeds in the FC_SEEDS syntax, consecutive ones as a range: [1, 4, 7, 8, 9] → `1,4,7-9`. */
export function formatSeeds(seeds: readonly number[]): string {
  const sorted = [...new Set(seeds)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** A positive whole number from the environment variable `name`, or `fallback` when it is unset. */
export function parsePositiveInt(
  name: string,
  value: string | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1)
    throw new Error(`${name}=${JSON.stringify(value)}: expected a whole number of 1 or more`);
  return Number(value);
}

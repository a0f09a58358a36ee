/**
 * The simulator's only source of randomness: a seeded xoroshiro128+ from pure-rand.
 *
 * Every random choice of a run (patient demand, motor error, fault timing) draws from a stream
 * derived from the run's seed, one stream per purpose (`fork('demand')`), so that adding a draw
 * for one purpose never shifts the numbers another purpose sees. Same seed, same run.
 */
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

type Generator = ReturnType<typeof xoroshiro128plus>;

/** FNV-1a of a label, so a purpose name maps to a stable 32-bit salt. */
function salt(label: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    hash ^= label.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

export class Prng {
  private readonly generator: Generator;

  constructor(readonly seed: number) {
    this.generator = xoroshiro128plus(seed | 0);
  }

  /** An independent stream for one purpose, reproducible from the parent seed and the label. */
  fork(label: string): Prng {
    return new Prng((Math.imul(this.seed | 0, 0x9e3779b1) ^ salt(label)) | 0);
  }

  /** Integer in [min, max], both ends included. */
  int(min: number, max: number): number {
    return uniformInt(this.generator, min, max);
  }

  /** Float in [0, 1). */
  float(): number {
    return uniformFloat64(this.generator);
  }

  /** True with the given probability. */
  chance(probability: number): boolean {
    return probability > 0 && this.float() < probability;
  }

  /** Exponentially distributed waiting time with the given mean (for Poisson arrivals). */
  exponential(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** Normally distributed value (Box-Muller). */
  normal(mean: number, sd: number): number {
    const u = 1 - this.float();
    const v = this.float();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

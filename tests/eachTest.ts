/**
 * A value computed afresh before each test of the enclosing `describe`, read through a proxy as if
 * it were the value itself: `const result = eachTest(() => runScenario(input))`.
 *
 * Why not compute it once in the `describe` body: code that runs while a file is collected (or in
 * `beforeAll`) belongs to no test, so Stryker's per-test coverage counts every mutant it reaches
 * as "static" and runs the whole suite for each (82 % of the daily cap's mutants were static, 91 %
 * of its mutation run's time). Computed in `beforeEach`, the code is each test's own, and a mutant
 * runs only the tests that reach it. A shared result cached across tests would be worse: a mutant
 * would be credited to the first test alone and never run against the others' assertions.
 * Runs are small (tens of ms), so recomputing per test costs little.
 */
import { beforeEach } from 'vitest';

export function eachTest<T extends object>(make: () => T): T {
  let current: T | undefined;
  beforeEach(() => {
    current = make();
  });
  const value = (): T => {
    if (current === undefined)
      throw new Error('eachTest value read outside a test (in a describe body)');
    return current;
  };
  return new Proxy({} as T, {
    get: (_target, key) => Reflect.get(value(), key) as unknown,
    has: (_target, key) => Reflect.has(value(), key),
    ownKeys: () => Reflect.ownKeys(value()),
    getOwnPropertyDescriptor: (_target, key) => {
      const d = Reflect.getOwnPropertyDescriptor(value(), key);
      return d && { ...d, configurable: true };
    },
  });
}

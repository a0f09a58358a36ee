/** The discrete-event virtual clock (sim/virtualClock.ts): order, ties, cancellation, bounds. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sim/virtualClock.js';

describe('VirtualClock', () => {
  it('runs callbacks in time order, ties in scheduling order, and jumps between them', () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    clock.schedule(50, () => seen.push(`b@${clock.nowMs()}`));
    clock.schedule(10, () => seen.push(`a@${clock.nowMs()}`));
    clock.schedule(50, () => seen.push(`c@${clock.nowMs()}`));
    const cancelled = clock.schedule(20, () => seen.push('never'));
    cancelled.cancel();
    expect(clock.runUntil(100)).toBe(3);
    expect(seen).toEqual(['a@10', 'b@50', 'c@50']);
    expect(clock.nowMs()).toBe(100);
    expect(() => clock.runUntil(99)).toThrow(/cannot go back/);
  });

  it('runs a callback scheduled by a callback at the same time in the same run', () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    clock.schedule(5, () => clock.schedule(5, () => seen.push(clock.nowMs())));
    clock.advance(5);
    expect(seen).toEqual([5]);
  });

  it('always delivers events sorted by (time, sequence)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.boolean()), { maxLength: 200 }),
        (entries) => {
          const clock = new VirtualClock();
          const fired: [number, number][] = [];
          entries.forEach(([at, cancel], i) => {
            const h = clock.schedule(at, () => fired.push([clock.nowMs(), i]));
            if (cancel) h.cancel();
          });
          clock.runUntil(1000);
          const expected = entries
            .map(([at, cancel], i) => ({ at, cancel, i }))
            .filter((e) => !e.cancel)
            .sort((a, b) => a.at - b.at || a.i - b.i)
            .map((e) => [e.at, e.i]);
          expect(fired).toEqual(expected);
        },
      ),
      { seed: Number(process.env.FC_SEED ?? 42), numRuns: 100 },
    );
  });
});

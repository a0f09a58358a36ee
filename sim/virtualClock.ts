/**
 * Discrete-event virtual time.
 *
 * Nothing happens between events, so the clock jumps straight from one due callback to the next:
 * a six-month run costs as many steps as it has events, not as many milliseconds. Callbacks due at
 * the same millisecond run in the order they were scheduled (a sequence number breaks ties), which
 * makes every run reproducible.
 *
 * This file and the serial rig's real-time driver are the only places that own time; the
 * controller reads it through hal/clock.ts.
 */
import { assert } from '../src/assert.js';

interface Entry {
  atMs: number;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

export type TimerHandle = { readonly id: number };

export class VirtualClock {
  private currentMs: number;
  private seq = 0;
  /**
   * Wraps every callback the clock runs; the simulator uses it to turn an injected power cut
   * (thrown from inside a driver callback) into a controller restart.
   */
  trap: ((run: () => void) => void) | undefined;
  /** Binary min-heap on (atMs, seq). */
  private readonly heap: Entry[] = [];

  constructor(startMs = 0) {
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  /** Run `run` at `atMs` (or now, if `atMs` is already past). */
  schedule(atMs: number, run: () => void): TimerHandle & { cancel(): void } {
    assert(Number.isFinite(atMs), () => `schedule at a non-finite time: ${atMs}`);
    const entry: Entry = {
      atMs: Math.max(atMs, this.currentMs),
      seq: this.seq++,
      run,
      cancelled: false,
    };
    this.push(entry);
    return { id: entry.seq, cancel: () => void (entry.cancelled = true) };
  }

  /** The time of the next live event, or undefined when nothing is scheduled. */
  nextDueMs(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.atMs;
  }

  /** Run every event due up to and including `untilMs`, then stand at `untilMs`. */
  runUntil(untilMs: number, eventsMax = Number.MAX_SAFE_INTEGER): number {
    assert(
      untilMs >= this.currentMs,
      () => `virtual time cannot go back: ${untilMs} < ${this.currentMs}`,
    );
    let events = 0;
    for (;;) {
      this.dropCancelled();
      const next = this.heap[0];
      if (next === undefined || next.atMs > untilMs) break;
      assert(
        events < eventsMax,
        () => `more than ${eventsMax} events before ${untilMs} ms: a livelock`,
      );
      this.pop();
      this.currentMs = next.atMs;
      events++;
      if (this.trap) this.trap(next.run);
      else next.run();
    }
    this.currentMs = untilMs;
    return events;
  }

  /** Move time forward by `deltaMs`, running what falls due. */
  advance(deltaMs: number): number {
    return this.runUntil(this.currentMs + deltaMs);
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  private less(a: Entry, b: Entry): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): Entry | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let smallest = i;
        if (l < heap.length && this.less(heap[l]!, heap[smallest]!)) smallest = l;
        if (r < heap.length && this.less(heap[r]!, heap[smallest]!)) smallest = r;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
    return top;
  }
}

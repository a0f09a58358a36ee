/**
 * Heap allocated per controller event, in a fresh process, for bench/run.ts (issue 11's "heap
 * allocated per event"). V8 keeps no running total of what it allocates, so the child runs with
 * young generations large enough that a short run triggers no garbage collection, and reads how
 * far the used heap grew: with no collection in between, that growth is what was allocated
 * (objects that survive and objects already garbage alike). A PerformanceObserver counts the
 * collections; if one happened the figure is refused rather than understated.
 *
 * Argument: one JSON object `{ scenario, days }`. Output: one JSON line on stdout.
 * Run with `--expose-gc --max-semi-space-size=<MB>` (bench/run.ts passes them).
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { DAY_MS } from '../src/units.js';
import { runScenario } from '../sim/runner.js';
import { loadScenario } from '../sim/scenario.js';

const args = JSON.parse(process.argv[2] ?? '{}') as { scenario: string; days: number };
const loaded = loadScenario(args.scenario);
const scenario = {
  ...loaded,
  duration: args.days * DAY_MS,
  timeline: loaded.timeline.filter((e) => e.at <= args.days * DAY_MS),
};
const options = { traceEveryMs: scenario.duration };
// Warm-up: compile what the run needs, so the figure is the run's, not the JIT's.
for (let i = 0; i < 3; i++) runScenario(scenario, options);
const gcOf = globalThis as unknown as { gc?: () => void };
if (gcOf.gc === undefined) throw new Error('allocChild needs --expose-gc');
// Collections that started during the run (entries arrive later, so they are told by their time).
const gcStartsMs: number[] = [];
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcStartsMs.push(e.startTime);
});
observer.observe({ entryTypes: ['gc'] });
gcOf.gc();
const startMs = performance.now();
const before = process.memoryUsage().heapUsed;
const events = runScenario(scenario, options).summary.controllerEvents;
const grownBytes = process.memoryUsage().heapUsed - before;
const endMs = performance.now();
await new Promise((resolve) => setTimeout(resolve, 50));
observer.disconnect();
const collections = gcStartsMs.filter((t) => t >= startMs && t <= endMs).length;
process.stdout.write(
  JSON.stringify({
    events,
    allocatedBytes: grownBytes,
    bytesPerEvent: collections === 0 ? Math.round(grownBytes / events) : null,
    collections,
  }) + '\n',
);

/**
 * One fleet run in a fresh process, for bench/run.ts: its wall time and the process's peak
 * resident memory (all threads: the main thread and every worker), as one JSON line on stdout.
 *
 * A separate process per measurement so one run's peak cannot hide in another's, and so the
 * figure is what `itpump fleet` itself would need. Arguments: one JSON object
 * `{ scenario, patients, workers, durationDays? }`; `durationDays` shortens the scenario (the
 * memory runs use short patients: memory depends on how many, not how long).
 */
import { performance } from 'node:perf_hooks';
import { DAY_MS } from '../src/units.js';
import { runFleet } from '../sim/fleet/runFleet.js';
import { loadScenario } from '../sim/scenario.js';

interface ChildArgs {
  scenario: string;
  patients: number;
  workers: number;
  durationDays?: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
const loaded = loadScenario(args.scenario);
const scenario =
  args.durationDays === undefined
    ? loaded
    : {
        ...loaded,
        duration: args.durationDays * DAY_MS,
        timeline: loaded.timeline.filter((e) => e.at <= args.durationDays! * DAY_MS),
      };
let firstDoneMs: number | undefined;
const started = performance.now();
const aggregate = await runFleet({
  scenario,
  patients: args.patients,
  workers: args.workers,
  onProgress: (done) => {
    if (done === 1) firstDoneMs = performance.now();
  },
});
const wallMs = performance.now() - started;
process.stdout.write(
  JSON.stringify({
    patients: aggregate.totals.patients,
    simulatedMs: aggregate.totals.simulatedMs,
    controllerEvents: aggregate.totals.controllerEvents,
    wallMs,
    /** From the first patient finished to the last: the rate without worker start-up. */
    steadyMs: firstDoneMs === undefined ? wallMs : performance.now() - firstDoneMs,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    /** CPU time of the whole process, all threads. */
    cpuMs: (process.resourceUsage().userCPUTime + process.resourceUsage().systemCPUTime) / 1000,
  }) + '\n',
);

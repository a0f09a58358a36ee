/**
 * Fleet runs: N virtual patients of one scenario across worker threads, aggregated as they finish.
 *
 * - Patient i has seed `baseSeed + i` (patient.ts says what the seed decides).
 * - `shard: { index, count }` runs only the contiguous index range [⌊N·index/count⌋,
 *   ⌊N·(index+1)/count⌋), so a CI matrix or a Kubernetes Indexed Job runs the parts and
 *   `mergeAggregates` joins them (index is 0-based, like JOB_COMPLETION_INDEX).
 * - Workers are `node:worker_threads` running sim/fleet/worker.ts. Node 20 ignores `--import`
 *   loaders in a worker's execArgv (nodejs/node#47747), so each worker starts from a tiny eval'd
 *   bootstrap that registers tsx's ESM hooks with its API (`register()` from 'tsx/esm/api') and
 *   then imports the TypeScript worker. `workers: 0` runs the patients in this thread instead.
 * - Work is handed out in small chunks of indices, the next chunk when a worker goes idle, so two
 *   workers stay busy whatever each patient costs; each outcome is folded into the aggregate as it
 *   arrives and dropped. The result does not depend on which worker ran whom (aggregate.ts).
 * - `signal` (the CLI's Ctrl-C): once aborted, no more work is handed out, the workers are
 *   terminated at once (the patients they were running are lost) and the aggregate of the patients
 *   completed so far is returned; its coverage then has gaps (`missingPatients`), so fleet.json
 *   says `complete: false` and lists them. In this thread, the run yields to the event loop
 *   between patients so that the signal can arrive.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { drugLibraryOf, InputError, type Scenario } from '../scenario.js';
import {
  bandPointsOf,
  createAggregate,
  recordPatient,
  type FleetAggregate,
  type FleetSpec,
} from './aggregate.js';
import {
  DEFAULT_VARIATION,
  runPatient,
  type FleetVariation,
  type PatientOutcome,
  type PatientRunOptions,
} from './patient.js';
import type { ToWorker, WorkerData } from './worker.js';
import { HOUR_MS } from '../../src/units.js';

export const PATIENTS_MAX = 10_000_000;

/**
 * Heap limits of a worker. A patient keeps ~15 MB live (measured after GC), but V8 sizes its heap
 * by allocation rate, not by what is live: with the default young generation each worker's
 * resident memory drifted up by ~60 MB over the first thousand patients. An 8 MB young generation
 * keeps two workers and the main thread under 250 MB, for some 5-10 % more CPU in scavenges
 * (docs/performance.md); 256 MB of old generation is far above what a ten-year patient needs.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 256 };
export const WORKERS_MAX = 64;

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

export interface FleetOptions {
  scenario: Scenario;
  /** N, the patients of the whole fleet (a shard runs part of them). */
  patients: number;
  /** Worker threads; 0 runs every patient in this thread. Default 1. */
  workers?: number;
  shard?: Shard;
  /** Seed of patient 0 (default: the scenario's seed). */
  baseSeed?: number;
  variation?: FleetVariation;
  /** How often each patient's true delivery is sampled for the 24-h dose (default 1 h). */
  sampleEveryMs?: number;
  /**
   * Called with each patient's outcome, in patient-index order whichever worker finished first
   * (outcomes that arrive early wait in a buffer of a few chunks per worker); on an abort the
   * ones still waiting follow in index order, past the gap.
   */
  onPatient?: (outcome: PatientOutcome) => void;
  /** Called after each patient with the patients done and the patients this run has to do. */
  onProgress?: (done: number, total: number) => void;
  /** Stop early: the aggregate returned holds the patients completed before it aborted. */
  signal?: AbortSignal;
}

/** The patient index range [from, to) of a shard. */
export function shardRange(patients: number, shard: Shard | undefined): [number, number] {
  if (shard === undefined) return [0, patients];
  return [
    Math.floor((patients * shard.index) / shard.count),
    Math.floor((patients * (shard.index + 1)) / shard.count),
  ];
}

/** Parses "I/M" (0 ≤ I < M). */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || count > 100_000 || index >= count) {
    throw new InputError(
      `--shard: "${text}" is not I/M with 0 ≤ I < M ≤ 100000 (I is 0-based, as JOB_COMPLETION_INDEX)`,
    );
  }
  return { index, count };
}

/** The drugs a scenario puts in the reservoir (initial fill, then refills), in order of appearance. */
export function scenarioDrugs(scenario: Scenario): string[] {
  const drugs = new Set(scenario.initialFill.mixture.map((d) => d.drug));
  for (const e of scenario.timeline) for (const d of e.refill?.mixture ?? []) drugs.add(d.drug);
  return [...drugs];
}

export function fleetSpecOf(options: FleetOptions): FleetSpec {
  const { scenario } = options;
  const library = drugLibraryOf(scenario);
  const sampleEveryMs = options.sampleEveryMs ?? HOUR_MS;
  return {
    scenario: scenario.name,
    scenarioDigest: createHash('sha256').update(JSON.stringify(scenario)).digest('hex'),
    baseSeed: options.baseSeed ?? scenario.seed,
    patients: options.patients,
    durationMs: scenario.duration,
    sampleEveryMs,
    variation: { ...(options.variation ?? DEFAULT_VARIATION) },
    drugs: scenarioDrugs(scenario).flatMap((drug) => {
      const limits = library.drugs.find((d) => d.drug === drug);
      return limits && limits.dailyDoseNgHardMax > 0
        ? [{ drug, dailyDoseNgHardMax: limits.dailyDoseNgHardMax }]
        : [];
    }),
    reservoirCapacityNl: scenario.pump.reservoirCapacity,
    ...bandPointsOf(scenario.duration, sampleEveryMs),
  };
}

function validate(options: FleetOptions): void {
  const { patients, workers = 1 } = options;
  if (!Number.isSafeInteger(patients) || patients < 1 || patients > PATIENTS_MAX)
    throw new InputError(`--patients: ${patients}: must be an integer from 1 to ${PATIENTS_MAX}`);
  if (!Number.isSafeInteger(workers) || workers < 0 || workers > WORKERS_MAX)
    throw new InputError(`--workers: ${workers}: must be an integer from 0 to ${WORKERS_MAX}`);
  const base = options.baseSeed ?? options.scenario.seed;
  if (!Number.isSafeInteger(base) || base < 0 || base + patients - 1 > 2 ** 31 - 1)
    throw new InputError(
      `--seed: ${base}: seeds ${base} to ${base + patients - 1} must lie within 0 to 2147483647`,
    );
  const v = options.variation;
  if (
    v &&
    (!(v.motorErrorSdPpm >= 0) ||
      !(v.stallsPerYear >= 0) ||
      !Number.isSafeInteger(v.stallDurationMs) ||
      v.stallDurationMs < 1 ||
      !Number.isSafeInteger(v.clinicResponseMs) ||
      v.clinicResponseMs < 0)
  ) {
    throw new InputError(
      `variation: ${JSON.stringify(v)}: the spread, stall rate and clinic response must be ≥ 0 and the stall duration at least 1 ms`,
    );
  }
}

/**
 * The bootstrap each worker evaluates. Compiled (dist/), the worker is plain JavaScript; from the
 * TypeScript sources (development, tests) tsx's hooks are registered first.
 */
function workerBootstrap(): string {
  if (!import.meta.url.endsWith('.ts'))
    return `import(${JSON.stringify(new URL('./worker.js', import.meta.url).href)});`;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', import.meta.url).href;
  return `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
}

/** Between patients in this thread: lets timers, I/O and signals run. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Hands outcomes on in index order from `from`; `flush` hands on those still waiting. */
function inIndexOrder(from: number, onPatient: (outcome: PatientOutcome) => void) {
  const waiting = new Map<number, PatientOutcome>();
  let next = from;
  return {
    add(outcome: PatientOutcome): void {
      waiting.set(outcome.index, outcome);
      for (let o = waiting.get(next); o !== undefined; o = waiting.get(next)) {
        waiting.delete(next++);
        onPatient(o);
      }
    },
    flush(): void {
      for (const index of [...waiting.keys()].sort((a, b) => a - b)) onPatient(waiting.get(index)!);
      waiting.clear();
    },
  };
}

type RecordOutcome = (outcome: PatientOutcome) => void;

async function inThisThread(
  options: FleetOptions,
  aggregate: FleetAggregate,
  record: RecordOutcome,
  from: number,
  to: number,
): Promise<void> {
  const patientOptions = patientOptionsOf(aggregate.spec);
  for (let index = from; index < to; index++) {
    if (index > from) await yieldToEventLoop();
    if (options.signal?.aborted) return;
    record(runPatient(options.scenario, index, aggregate.spec.baseSeed + index, patientOptions));
    options.onProgress?.(index - from + 1, to - from);
  }
}

type FromWorker =
  | { type: 'outcome'; outcome: PatientOutcome }
  | { type: 'idle' }
  | { type: 'error'; message: string; input: boolean };

function workerDataOf(options: FleetOptions, aggregate: FleetAggregate): WorkerData {
  return {
    scenario: options.scenario,
    baseSeed: aggregate.spec.baseSeed,
    options: patientOptionsOf(aggregate.spec),
  };
}

/** What each patient needs of the fleet's spec: the variation, drugs, sampling and band points. */
function patientOptionsOf(spec: FleetSpec): PatientRunOptions {
  return {
    variation: spec.variation,
    drugs: spec.drugs.map((d) => d.drug),
    sampleEveryMs: spec.sampleEveryMs,
    band: { stepMs: spec.bandStepMs, points: spec.bandPoints },
  };
}

function startWorker(bootstrap: string, workerData: WorkerData): Worker {
  return new Worker(bootstrap, {
    eval: true,
    execArgv: [],
    resourceLimits: WORKER_LIMITS,
    workerData,
  });
}

async function inWorkers(
  options: FleetOptions,
  aggregate: FleetAggregate,
  record: RecordOutcome,
  from: number,
  to: number,
  workerCount: number,
): Promise<void> {
  const total = to - from;
  const chunk = Math.max(1, Math.min(16, Math.ceil(total / (workerCount * 8))));
  let next = from;
  let done = 0;
  const data = workerDataOf(options, aggregate);
  const bootstrap = workerBootstrap();
  const workers: Worker[] = [];
  const { signal } = options;
  let stopped = false;
  let stop = () => {};
  try {
    await new Promise<void>((resolve, reject) => {
      // Aborted: no more work and nothing more recorded; the workers are terminated below.
      stop = () => {
        stopped = true;
        resolve();
      };
      signal?.addEventListener('abort', stop, { once: true });
      if (signal?.aborted) return stop();
      let running = 0;
      const handOut = (worker: Worker) => {
        if (stopped) return;
        if (next >= to) {
          if (--running === 0) resolve();
          return;
        }
        const message: ToWorker = { type: 'run', from: next, to: Math.min(to, next + chunk) };
        next = message.to;
        worker.postMessage(message);
      };
      for (let k = 0; k < Math.min(workerCount, total); k++) {
        const worker = startWorker(bootstrap, data);
        workers.push(worker);
        running++;
        worker.on('message', (message: FromWorker) => {
          if (stopped) return;
          if (message.type === 'outcome') {
            record(message.outcome);
            options.onProgress?.(++done, total);
          } else if (message.type === 'idle') handOut(worker);
          else
            reject(
              message.input
                ? new InputError(message.message)
                : new Error(`fleet worker: ${message.message}`),
            );
        });
        worker.on('error', reject);
        worker.on('exit', (code) => {
          if (code !== 0 && !stopped) reject(new Error(`fleet worker exited with code ${code}`));
        });
        handOut(worker);
      }
      if (running === 0) resolve();
    });
  } finally {
    stopped = true;
    signal?.removeEventListener('abort', stop);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * Runs the fleet (or its shard) and returns its aggregate: of every patient, or of those completed
 * before `options.signal` aborted.
 */
export async function runFleet(options: FleetOptions): Promise<FleetAggregate> {
  validate(options);
  const aggregate = createAggregate(fleetSpecOf(options));
  if (options.shard) aggregate.shard = { ...options.shard };
  const [from, to] = shardRange(options.patients, options.shard);
  const workers = options.workers ?? 1;
  const ordered = options.onPatient && inIndexOrder(from, options.onPatient);
  const record: RecordOutcome = (outcome) => {
    recordPatient(aggregate, outcome);
    ordered?.add(outcome);
  };
  try {
    if (workers === 0) await inThisThread(options, aggregate, record, from, to);
    else await inWorkers(options, aggregate, record, from, to, workers);
  } finally {
    ordered?.flush();
  }
  return aggregate;
}

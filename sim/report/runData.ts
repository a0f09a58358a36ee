/**
 * What a run report is made from, and how to get it: from a `RunResult` in memory, or back from
 * the files an earlier `itpump run` wrote (summary.json, events.jsonl, trace.csv; sim/outputs.ts).
 *
 * Both paths give the same `RunData`, so `itpump report DIR` re-creates, byte for byte, the report
 * `itpump run --report` wrote. That is why the report reads only what the files hold: a trace
 * row's per-drug dose is 0 before the drug's first delivery (the CSV writes 0, memory leaves the
 * key out), and the drug library comes from `drug-library.json` next to the files, from a
 * scenario the caller names, or is the built-in library when the run used it.
 *
 * Files from outside are checked: a malformed line names the file, the line or field, the value
 * and what was expected, as an `InputError` (exit code 2), and nothing is written.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { alarmCodes } from '../../src/alarms.js';
import type { LogRecord } from '../../src/eventLog.js';
import { denyReasons } from '../../src/pump/types.js';
import { defaultDrugLibrary } from '../../src/therapy/drugLibrary.js';
import { drugLibrarySchema, type DrugLibrary } from '../../src/therapy/schema.js';
import type { RunResult, TraceRow } from '../runner.js';
import { describeZodError, drugLibraryOf, InputError, type Scenario } from '../scenario.js';
import { readUserFile } from '../inputError.js';
import type { Summary } from '../summary.js';
import type { BatterySample } from './types.js';

/** Everything a run report shows. */
export interface RunData {
  settings: RunSettings;
  summary: Summary;
  events: LogRecord[];
  trace: TraceRow[];
  /** Remaining battery charge over the run, if the runner recorded it. */
  battery: BatterySample[] | undefined;
  drugLibrary: DrugLibrary;
}

const int = z.number().int();
const nonNegative = int.nonnegative();

/** The parts of the run's settings the report reads; anything else is kept as it is. */
const settingsSchema = z
  .object({
    scenario: z.string(),
    seed: nonNegative,
    durationMs: nonNegative,
    pump: z
      .object({
        lowReservoirNl: nonNegative,
        emptyReservoirNl: nonNegative,
        reservoirCapacityNl: nonNegative,
      })
      .loose(),
    // A fixed ERI level (eriUah) or a lead time before end of service (eriLeadMs): either may be there.
    battery: z.object({ eosUah: nonNegative, eriUah: nonNegative.optional() }).loose().optional(),
    drugLibrary: z.string().optional(),
  })
  .loose();
export type RunSettings = z.infer<typeof settingsSchema>;

// A reason a run's version did not have yet counts zero (bolusDoseCap came after the first runs).
const denyCount = nonNegative.default(0);
const denyCounts = z.object(
  Object.fromEntries(denyReasons.map((r) => [r, denyCount])) as Record<
    (typeof denyReasons)[number],
    typeof denyCount
  >,
);
const mixtureEntry = z.object({ drug: z.string(), concentrationUgPerMl: nonNegative }).loose();
/** The parts of the summary's drug path the report reads (sim/summary.ts); the rest is kept. */
const drugPathSchema = z
  .object({
    deadVolumeNl: nonNegative,
    recorded: z.boolean(),
    drugFirstAtTip: z.array(z.object({ drug: z.string(), atMs: int })),
    changes: z.array(
      z
        .object({
          atMs: int,
          mixture: z.array(mixtureEntry),
          bridged: z.boolean(),
          newMixtureAtTipMs: int.nullable(),
          drugs: z.array(
            z
              .object({
                drug: z.string(),
                basalTipNg: int,
                basalIntendedNg: int,
                bolusTipNg: int,
                bolusIntendedNg: int,
                flag: z.enum(['ok', 'underdose', 'overdose', 'washout']),
                basalOldRateNg: int,
              })
              .loose(),
          ),
        })
        .loose(),
    ),
    pocketFills: z.array(
      z
        .object({
          atMs: int,
          volumeNl: nonNegative,
          drugs: z.array(z.object({ drug: z.string(), ng: int })),
        })
        .loose(),
    ),
  })
  .loose();

const summarySchema = z.object({
  scenario: z.string(),
  seed: nonNegative,
  simulatedMs: nonNegative,
  wallTimeMs: z.number(),
  controllerEvents: nonNegative,
  drugs: z.array(
    z.object({ drug: z.string(), programmedNg: int, deliveredNg: int, trueDeliveredNg: int }),
  ),
  presses: z.object({
    requested: nonNegative,
    granted: nonNegative,
    denied: nonNegative,
    deniedByReason: denyCounts,
  }),
  boluses: z.object({ patient: nonNegative, clinician: nonNegative }),
  alarms: z.array(
    z.object({
      code: z.enum(alarmCodes),
      priority: z.string(),
      raisedAtMs: int,
      clearedAtMs: int.nullable(),
    }),
  ),
  refills: nonNegative,
  refusals: nonNegative,
  // The refusals under their scenario paths, and the drug path, came after the first runs: a
  // summary without them reads as none (the report then says what it cannot show).
  refusedCommands: z
    .array(
      z.object({
        at: z.string(),
        field: z.string(),
        value: z.string(),
        limit: z.string(),
        message: z.string(),
      }),
    )
    .default([]),
  reservoir: z.object({ estimateNl: int, trueNl: int, ranDryAtMs: int.nullable() }).loose(),
  drugPath: drugPathSchema.optional(),
  missedNl: int,
  finalState: z.object({ therapy: z.string(), motor: z.string(), alarms: z.string() }),
});

const eventSchema = z
  .object({ type: z.string(), seq: nonNegative, atMs: int, rtcMs: z.number() })
  .loose();

/** The run's battery series: `result.battery` once the runner records it (see docs/reports.md). */
function batteryOf(result: RunResult): BatterySample[] | undefined {
  const battery = (result as RunResult & { battery?: readonly BatterySample[] }).battery;
  return battery === undefined
    ? undefined
    : battery.map((b) => ({ timeMs: b.timeMs, remainingUah: b.remainingUah }));
}

/** Every drug named in a trace row, with 0 where the row has not seen it yet (as trace.csv does). */
function withAllDrugs(trace: readonly TraceRow[], drugs: readonly string[]): TraceRow[] {
  const fill = (doses: Record<string, number>) =>
    Object.fromEntries(drugs.map((d) => [d, doses[d] ?? 0]));
  return trace.map((r) => ({
    ...r,
    deliveredPg: fill(r.deliveredPg),
    trueDeliveredPg: fill(r.trueDeliveredPg),
  }));
}

/** The report's data from a run in memory. */
export function runDataOf(result: RunResult): RunData {
  const settings = settingsSchema.parse(result.settings);
  const drugs = result.summary.drugs.map((d) => d.drug);
  return {
    settings,
    summary: result.summary,
    events: result.events,
    trace: withAllDrugs(result.trace, drugs),
    battery: batteryOf(result),
    drugLibrary: drugLibraryOf(result.scenario),
  };
}

// ---------------------------------------------------------------------------------------------
// Reading an earlier run's files

function readText(dir: string, name: string): string {
  return readUserFile(join(dir, name), `the output of an \`itpump run\``);
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`${where}: not valid JSON: ${(e as Error).message}`);
  }
}

/** Parses trace.csv as sim/outputs.ts writes it; columns are found by name. */
export function parseTraceCsv(
  text: string,
  file: string,
  drugs: readonly string[],
): { trace: TraceRow[]; battery: BatterySample[] | undefined } {
  const lines = text.split('\n').filter((line) => line.length > 0);
  const header = (lines[0] ?? '').split(',');
  const column = (name: string, required = true): number => {
    const index = header.indexOf(name);
    if (index < 0 && required)
      throw new InputError(
        `${file}: header: column "${name}" is missing (header is "${header.join(',')}")`,
      );
    return index;
  };
  const time = column('time_ms');
  const estimate = column('reservoir_estimate_nl');
  const truth = column('reservoir_true_nl');
  const therapy = column('therapy');
  const delivered = drugs.map((d) => column(`${d}_delivered_pg`));
  const trueDelivered = drugs.map((d) => column(`${d}_true_delivered_pg`));
  const batteryColumn = column('battery_remaining_uah', false);
  const trace: TraceRow[] = [];
  const battery: BatterySample[] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = lines[i]!.split(',');
    const where = `${file}: line ${i + 1}`;
    if (cells.length !== header.length)
      throw new InputError(`${where}: has ${cells.length} cells, the header has ${header.length}`);
    const integer = (index: number, name: string): number => {
      const value = Number(cells[index]);
      if (cells[index] === '' || !Number.isSafeInteger(value))
        throw new InputError(`${where}: ${name}: "${cells[index]}" is not an integer`);
      return value;
    };
    const timeMs = integer(time, 'time_ms');
    trace.push({
      timeMs,
      reservoirEstimateNl: integer(estimate, 'reservoir_estimate_nl'),
      reservoirTrueNl: integer(truth, 'reservoir_true_nl'),
      therapy: cells[therapy]!,
      deliveredPg: Object.fromEntries(
        drugs.map((d, k) => [d, integer(delivered[k]!, `${d}_delivered_pg`)]),
      ),
      trueDeliveredPg: Object.fromEntries(
        drugs.map((d, k) => [d, integer(trueDelivered[k]!, `${d}_true_delivered_pg`)]),
      ),
    });
    if (batteryColumn >= 0)
      battery.push({ timeMs, remainingUah: integer(batteryColumn, 'battery_remaining_uah') });
  }
  if (trace.length === 0) throw new InputError(`${file}: holds no samples`);
  return { trace, battery: batteryColumn >= 0 ? battery : undefined };
}

export interface ReadRunOptions {
  /** The scenario the run came from: its drug library is used when the directory has none. */
  scenario?: Scenario;
}

/** The drug library of a run on disk: drug-library.json, else the scenario's, else the built-in one. */
function drugLibraryFor(dir: string, settings: RunSettings, options: ReadRunOptions): DrugLibrary {
  const file = join(dir, 'drug-library.json');
  if (existsSync(file)) {
    const raw = parseJson(readText(dir, 'drug-library.json'), file);
    const parsed = drugLibrarySchema.safeParse(raw);
    if (!parsed.success)
      throw new InputError(describeZodError(file, parsed.error, raw, drugLibrarySchema));
    return parsed.data;
  }
  if (options.scenario) return drugLibraryOf(options.scenario);
  if (settings.drugLibrary === undefined || settings.drugLibrary === defaultDrugLibrary.name)
    return defaultDrugLibrary;
  throw new InputError(
    `${join(dir, 'summary.json')}: settings.drugLibrary: ${JSON.stringify(settings.drugLibrary)}: not the built-in library, and ${file} does not exist; name the scenario with --scenario FILE`,
  );
}

/** Reads an earlier run's outputs back into the report's data. */
export function readRunDir(dir: string, options: ReadRunOptions = {}): RunData {
  const summaryFile = join(dir, 'summary.json');
  const raw = parseJson(readText(dir, 'summary.json'), summaryFile);
  if (typeof raw !== 'object' || raw === null || !('settings' in raw))
    throw new InputError(
      `${summaryFile}: settings: missing: expected the object itpump run writes`,
    );
  const { settings: rawSettings, ...rawSummary } = raw as { settings: unknown };
  const settings = settingsSchema.safeParse(rawSettings);
  if (!settings.success)
    throw new InputError(
      describeZodError(`${summaryFile} (settings)`, settings.error, rawSettings, settingsSchema),
    );
  const summary = summarySchema.safeParse(rawSummary);
  if (!summary.success)
    throw new InputError(describeZodError(summaryFile, summary.error, rawSummary, summarySchema));

  const eventsFile = join(dir, 'events.jsonl');
  const events = readText(dir, 'events.jsonl')
    .split('\n')
    .map((line, index) => ({ line, index }))
    .filter(({ line }) => line.length > 0)
    .map(({ line, index }) => {
      const where = `${eventsFile}: line ${index + 1}`;
      const value = parseJson(line, where);
      const parsed = eventSchema.safeParse(value);
      if (!parsed.success)
        throw new InputError(describeZodError(where, parsed.error, value, eventSchema));
      return parsed.data as unknown as LogRecord;
    });

  const drugs = summary.data.drugs.map((d) => d.drug);
  const { trace, battery } = parseTraceCsv(
    readText(dir, 'trace.csv'),
    join(dir, 'trace.csv'),
    drugs,
  );
  return {
    settings: settings.data,
    summary: summary.data as Summary,
    events,
    trace,
    battery,
    drugLibrary: drugLibraryFor(dir, settings.data, options),
  };
}

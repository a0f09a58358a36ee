/**
 * patients.csv: one row per patient of a fleet, in patient order, with its seed and the figures it
 * added to the fleet's distributions (`patientFigures`, aggregate.ts), so a spreadsheet or a
 * notebook can take the fleet apart and any row replays:
 * `itpump fleet <scenario> --patients N [the fleet's --seed and variation options] --replay <patient>`.
 *
 * Columns (integers in the unit their name ends with; an empty cell where a figure does not apply):
 * patient (the index --replay takes), seed, simulated_ms, controller_events,
 * stroke_volume_error_ppm, stalls, first_low_reservoir_alarm_ms, first_empty_reservoir_alarm_ms,
 * true_reservoir_dry_ms, presses_requested, denied_ppm (empty without presses), denied_<reason>
 * per deny reason, alarms_<code> and alarm_rate_<code>_per_1000_years per alarm code, and per drug
 * <drug>_highest_24h_pg and <drug>_highest_24h_bp_of_hard_max (basis points: 10,000 is the limit).
 *
 * The file is streamed: rows are written as the patients finish (in index order, runFleet.ts),
 * so memory does not grow with the fleet. `fleet merge` joins the shards' files by copying them,
 * in patient order, after checking their headers and row counts.
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  readSync,
  writeSync,
  existsSync,
  unlinkSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { alarmCodes } from '../../src/alarms.js';
import { denyReasons } from '../../src/pump/types.js';
import { InputError } from '../inputError.js';
import { patientFigures, type FleetAggregate, type FleetSpec } from './aggregate.js';
import type { PatientOutcome } from './patient.js';

export const PATIENTS_CSV = 'patients.csv';

export function patientsCsvHeader(spec: FleetSpec): string {
  return [
    'patient',
    'seed',
    'simulated_ms',
    'controller_events',
    'stroke_volume_error_ppm',
    'stalls',
    'first_low_reservoir_alarm_ms',
    'first_empty_reservoir_alarm_ms',
    'true_reservoir_dry_ms',
    'presses_requested',
    'denied_ppm',
    ...denyReasons.map((r) => `denied_${r}`),
    ...alarmCodes.map((c) => `alarms_${c}`),
    ...alarmCodes.map((c) => `alarm_rate_${c}_per_1000_years`),
    ...spec.drugs.flatMap((d) => [
      `${d.drug}_highest_24h_pg`,
      `${d.drug}_highest_24h_bp_of_hard_max`,
    ]),
  ].join(',');
}

export function patientsCsvRow(spec: FleetSpec, outcome: PatientOutcome): string {
  const figures = patientFigures(spec, outcome);
  const cell = (value: number | null) => (value === null ? '' : String(value));
  return [
    outcome.index,
    outcome.seed,
    outcome.simulatedMs,
    outcome.controllerEvents,
    outcome.strokeVolumeErrorPpm,
    outcome.stalls,
    cell(outcome.firstLowReservoirAlarmMs),
    cell(outcome.firstEmptyReservoirAlarmMs),
    cell(outcome.trueReservoirDryAtMs),
    outcome.pressesRequested,
    cell(figures.deniedPpm?.any ?? null),
    ...denyReasons.map((r) => outcome.deniedByReason[r]),
    ...alarmCodes.map((c) => outcome.alarmsRaised[c]),
    ...alarmCodes.map((c) => cell(figures.alarmRateMilliPerYear?.[c] ?? null)),
    ...spec.drugs.flatMap((_, k) => [
      outcome.highest24hPg[k] ?? 0,
      figures.highest24hBasisPoints[k]!,
    ]),
  ].join(',');
}

/** Rows kept before they are written: a bounded buffer, flushed every so many patients. */
const FLUSH_EVERY_ROWS = 256;

/**
 * Writes patients.csv row by row. The file is created on the first row (or at `close`, header
 * only, when no patient finished), so a fleet refused before it starts writes nothing.
 */
export class PatientsCsvWriter {
  private fd: number | undefined;
  private pending: string[] = [];

  constructor(
    readonly file: string,
    private readonly spec: FleetSpec,
  ) {}

  write(outcome: PatientOutcome): void {
    this.pending.push(patientsCsvRow(this.spec, outcome));
    if (this.pending.length >= FLUSH_EVERY_ROWS) this.flush();
  }

  close(): void {
    this.flush();
    closeSync(this.fd!);
    this.fd = undefined;
  }

  private flush(): void {
    if (this.fd === undefined) {
      mkdirSync(dirname(this.file), { recursive: true });
      this.fd = openSync(this.file, 'w');
      writeSync(this.fd, patientsCsvHeader(this.spec) + '\n');
    }
    if (this.pending.length > 0) writeSync(this.fd, this.pending.join('\n') + '\n');
    this.pending = [];
  }
}

const CHUNK_BYTES = 1 << 16;

/** Calls `onChunk` with the file's bytes, a chunk at a time. */
function eachChunk(file: string, onChunk: (chunk: Buffer) => void): void {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(CHUNK_BYTES);
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer))
      onChunk(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/** The header line and the number of rows of a patients.csv, reading it a chunk at a time. */
function headerAndRows(file: string): { header: string; rows: number } {
  let head = '';
  let headerDone = false;
  let lines = 0;
  eachChunk(file, (chunk) => {
    if (!headerDone) {
      const end = chunk.indexOf(0x0a);
      head += chunk.subarray(0, end < 0 ? chunk.length : end).toString('utf8');
      headerDone = end >= 0;
    }
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) lines++;
  });
  return { header: head, rows: Math.max(0, lines - 1) };
}

/**
 * The shards' patients.csv joined into `file`, in patient order: each shard's file has the fleet's
 * header and one row per patient it covers (else an InputError naming it, nothing written).
 * Returns undefined, writing nothing, when a shard directory has no patients.csv (a CI artifact of
 * its fleet.json alone): the merged fleet is complete without it.
 */
export function mergePatientsCsv(
  shards: readonly { csv: string; aggregate: FleetAggregate }[],
  spec: FleetSpec,
  file: string,
): { skipped: string } | undefined {
  const absent = shards.find((s) => !existsSync(s.csv));
  if (absent !== undefined) return { skipped: `${absent.csv} does not exist` };
  const header = patientsCsvHeader(spec);
  for (const { csv, aggregate } of shards) {
    const found = headerAndRows(csv);
    if (found.header !== header)
      throw new InputError(`${csv}: its header is not that of the fleet's patients.csv`);
    if (found.rows !== aggregate.totals.patients)
      throw new InputError(
        `${csv}: has ${found.rows} rows but its fleet.json counts ${aggregate.totals.patients} patients`,
      );
  }
  const ordered = [...shards].sort(
    (a, b) => (a.aggregate.coverage[0]?.[0] ?? 0) - (b.aggregate.coverage[0]?.[0] ?? 0),
  );
  mkdirSync(dirname(file), { recursive: true });
  const out = openSync(file, 'w');
  try {
    writeSync(out, header + '\n');
    for (const { csv } of ordered) {
      let skippedHeader = false;
      eachChunk(csv, (chunk) => {
        let rest = chunk;
        if (!skippedHeader) {
          const end = chunk.indexOf(0x0a);
          if (end < 0) return;
          skippedHeader = true;
          rest = chunk.subarray(end + 1);
        }
        writeSync(out, rest);
      });
    }
  } catch (e) {
    closeSync(out);
    unlinkSync(file);
    throw e;
  }
  closeSync(out);
  return undefined;
}

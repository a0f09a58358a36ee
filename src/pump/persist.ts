/**
 * What the controller keeps in non-volatile memory, and how it comes back after a reset.
 *
 * Records (each double-buffered by src/persistence/):
 * - prescription: mixture, prescription, PTM settings (the therapy; corrupt → memory alarm);
 * - ledger: patient grants, lockout, active bolus, delivered strokes, owed and missed volume, the
 *   batch in flight, recent batches (what the lockout and 24-hour limits depend on);
 * - reservoir: the estimate;
 * - alarms: latched alarms and the motor-stall state;
 * - clock: RTC offset, therapy state, delivery mode, when the pump was stopped, the last time
 *   settled (monotonic).
 *
 * Write-ahead rule: the controller commits these records before it carries out a step's motor
 * commands, so a reset can never leave a bolus delivered but not in the ledger. Pure functions.
 */
import { z } from 'zod';
import { bridgeSchema, mixtureSchema, prescriptionSchema, ptmSchema } from '../therapy/schema.js';
import { strokesBy } from '../dosing/delivery.js';
import { worstCaseMixture } from '../dosing/limits.js';
import type { StateRecordKind } from '../persistence/recordTypes.js';
import type { DoneBatch, PumpContext, RestoredState } from './types.js';

export type TherapyState = RestoredState['therapy'];

export function therapyStateOf(leaf: string): TherapyState {
  if (leaf.startsWith('infusing')) return 'infusing';
  if (leaf === 'minimumRate' || leaf === 'halted') return leaf;
  return 'stopped';
}

/**
 * The context fields each record depends on, compared by identity: a step copies the context and
 * replaces only what it changes, so an unchanged record is recognised without serialising it.
 * Owed volume and the settled time change on every event; they are checkpointed with the ledger.
 */
export function recordKeys(
  c: PumpContext,
  therapy: TherapyState,
): Record<StateRecordKind, readonly unknown[]> {
  return {
    prescription: [c.mixture, c.prescription, c.ptm],
    // The programme version too: the owed-volume checkpoint must be taken whenever what is
    // programmed changes (a stop, a rate change), or a restart would settle the old programme on.
    ledger: [
      c.grantsMs,
      c.lockoutUntilMs,
      c.bolus,
      c.deliveredStrokes,
      c.nextBatchId,
      c.batch,
      c.recentBatches,
      c.missedFine,
      c.bridge,
      c.programmeVersion,
    ],
    reservoir: [c.reservoirNl],
    alarms: [c.alarms, c.stall, c.battery],
    clock: [c.rtcOffsetMs, therapy, c.mode, c.stoppedSinceMs],
  };
}

/** Batches the ledger record holds at most; more are merged (see compactBatches). */
export const persistedBatchesMax = 48;

/**
 * Bound the batches kept in the ledger record. Beyond `persistedBatchesMax`, the oldest are merged
 * pairwise into one batch whose strokes all stand at the later one's last stroke: a later time keeps
 * them in the rolling 24-hour window longer, never shorter, so the daily cap stays on the safe side.
 */
export function compactBatches(batches: readonly DoneBatch[]): readonly DoneBatch[] {
  if (batches.length <= persistedBatchesMax) return batches;
  const out = [...batches];
  while (out.length > persistedBatchesMax) {
    const [a, b] = [out[0]!, out[1]!];
    const lastMs = b.startMs + b.leadMs + (b.strokes - 1) * b.intervalMs;
    const mixture =
      JSON.stringify(a.mixture) === JSON.stringify(b.mixture)
        ? b.mixture
        : worstCaseMixture(a.mixture, b.mixture);
    out.splice(0, 2, {
      startMs: lastMs,
      leadMs: 0,
      intervalMs: 1,
      strokes: a.strokes + b.strokes,
      mixture,
    });
  }
  return out;
}

/** The records of a context, by kind. Values are plain JSON. */
export function recordsOf(c: PumpContext, therapy: TherapyState): Record<StateRecordKind, unknown> {
  const mixtures: PumpContext['mixture'][] = [];
  const mixtureIndex = (m: PumpContext['mixture']) => {
    let i = mixtures.indexOf(m); // batches share the context's mixture object
    if (i < 0) i = mixtures.findIndex((x) => JSON.stringify(x) === JSON.stringify(m));
    if (i < 0) i = mixtures.push(m) - 1;
    return i;
  };
  const batches = compactBatches(c.recentBatches).map((b) => [
    b.startMs,
    b.leadMs,
    b.intervalMs,
    b.strokes,
    mixtureIndex(b.mixture),
  ]);
  const batch = c.batch
    ? [
        c.batch.batchId,
        c.batch.startMs,
        c.batch.leadMs,
        c.batch.intervalMs,
        c.batch.count,
        mixtureIndex(c.batch.mixture),
      ]
    : null;
  return {
    prescription: {
      mixture: c.mixture ?? null,
      prescription: c.prescription ?? null,
      ptm: c.ptm ?? null,
    },
    ledger: {
      grantsMs: c.grantsMs,
      lockoutUntilMs: Number.isFinite(c.lockoutUntilMs) ? c.lockoutUntilMs : null,
      bolus: c.bolus ?? null,
      deliveredStrokes: c.deliveredStrokes,
      // A checkpoint: owed volume as of settledAtMs (rewritten with the ledger, not on every event).
      settledAtMs: c.settledAtMs,
      owedFine: c.owedFine,
      missedFine: c.missedFine,
      nextBatchId: c.nextBatchId,
      bridge: c.bridge ?? null,
      batch,
      batches,
      mixtures,
    },
    reservoir: { reservoirNl: c.reservoirNl },
    alarms: { alarms: c.alarms, stall: c.stall ?? null, battery: c.battery },
    clock: {
      rtcOffsetMs: c.rtcOffsetMs,
      therapy,
      mode: c.mode,
      stoppedSinceMs: c.stoppedSinceMs ?? null,
    },
  };
}

const finite = z.number().int();
const mixtureOrNull = mixtureSchema.nullable();
const schemas = {
  prescription: z.object({
    mixture: mixtureOrNull,
    prescription: prescriptionSchema.nullable(),
    ptm: ptmSchema.nullable(),
  }),
  ledger: z.object({
    grantsMs: z.array(finite),
    lockoutUntilMs: finite.nullable(),
    bolus: z
      .object({
        kind: z.enum(['patient', 'clinician', 'priming']),
        startMs: finite,
        volumeNl: finite,
        rateNlPerDay: finite,
        endMs: finite,
      })
      .nullable(),
    deliveredStrokes: finite,
    settledAtMs: finite,
    owedFine: finite,
    missedFine: finite,
    nextBatchId: finite,
    bridge: bridgeSchema.nullable().optional(),
    batch: z.array(finite).length(6).nullable(),
    batches: z.array(z.array(finite).length(5)),
    // Merged batches may carry more drugs than a mixture may hold (compactBatches).
    mixtures: z.array(
      z.array(z.object({ drug: z.string(), concentrationUgPerMl: finite })).nullable(),
    ),
  }),
  reservoir: z.object({ reservoirNl: finite }),
  alarms: z.object({
    alarms: z.array(z.object({ code: z.string(), raisedAtMs: finite, nextToneMs: finite })),
    stall: z.object({ sinceMs: finite, attempts: finite, retryAtMs: finite }).nullable(),
    battery: z.enum(['ok', 'eri', 'eos']),
  }),
  clock: z.object({
    rtcOffsetMs: finite,
    therapy: z.enum(['stopped', 'infusing', 'minimumRate', 'halted']),
    mode: z.enum(['off', 'basal', 'minimum']),
    stoppedSinceMs: finite.nullable(),
  }),
};

export type LoadedRecords = Partial<Record<StateRecordKind, { value: unknown; corrupt: boolean }>>;

/**
 * Rebuild the context from the records that survived. A missing or corrupt prescription is a memory
 * error (the therapy is never run from a damaged record); strokes of the batch in flight at the
 * reset are counted as delivered up to `nowMs` (over-counting is the safe side for the limits and
 * the reservoir estimate: docs/faults.md).
 */
export function restore(records: LoadedRecords, nowMs: number): RestoredState | undefined {
  const parse = <K extends StateRecordKind>(k: K) => {
    const r = records[k];
    if (!r) return undefined;
    const parsed = schemas[k].safeParse(r.value);
    return parsed.success ? (parsed.data as z.infer<(typeof schemas)[K]>) : undefined;
  };
  if (Object.keys(records).length === 0) return undefined;
  const rx = parse('prescription');
  const ledger = parse('ledger');
  const reservoir = parse('reservoir');
  const alarms = parse('alarms');
  const clock = parse('clock');
  const prescriptionDamaged =
    records.prescription !== undefined && (records.prescription.corrupt || rx === undefined);
  const memoryError =
    prescriptionDamaged ||
    (records.prescription === undefined && (ledger !== undefined || clock !== undefined));
  const context: Partial<PumpContext> = {};
  if (rx && !prescriptionDamaged) {
    context.mixture = rx.mixture ?? undefined;
    context.prescription = rx.prescription ?? undefined;
    context.ptm = rx.ptm ?? undefined;
  }
  if (clock) {
    context.rtcOffsetMs = clock.rtcOffsetMs;
    context.mode = clock.mode;
    context.stoppedSinceMs = clock.stoppedSinceMs ?? undefined;
  }
  if (reservoir) context.reservoirNl = reservoir.reservoirNl;
  if (alarms) {
    context.alarms = alarms.alarms as PumpContext['alarms'];
    context.stall = alarms.stall ?? undefined;
    context.battery = alarms.battery;
  }
  const inFlightStrokes = ledger ? restoreLedger(context, ledger, nowMs) : 0;
  const therapy = memoryError ? 'minimumRate' : (clock?.therapy ?? 'stopped');
  return { context, therapy, memoryError, inFlightStrokes };
}

/** Restores the ledger; returns the strokes of the batch in flight counted as delivered. */
function restoreLedger(
  context: Partial<PumpContext>,
  l: z.infer<typeof schemas.ledger>,
  nowMs: number,
): number {
  const mixtureAt = (i: number) => l.mixtures[i] ?? [];
  context.grantsMs = l.grantsMs;
  context.lockoutUntilMs = l.lockoutUntilMs ?? Number.NEGATIVE_INFINITY;
  context.bolus = l.bolus ?? undefined;
  context.settledAtMs = Math.min(l.settledAtMs, nowMs);
  context.owedFine = l.owedFine;
  context.missedFine = l.missedFine;
  context.nextBatchId = l.nextBatchId;
  context.bridge = l.bridge ?? undefined;
  context.recentBatches = l.batches.map(([startMs, leadMs, intervalMs, strokes, m]) => ({
    startMs: startMs!,
    leadMs: leadMs!,
    intervalMs: intervalMs!,
    strokes: strokes!,
    mixture: mixtureAt(m!),
  }));
  context.deliveredStrokes = l.deliveredStrokes;
  if (l.batch) {
    const [, startMs, leadMs, intervalMs, count, m] = l.batch as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const b = { startMs, leadMs, intervalMs };
    const strokes = strokesBy(b, count, nowMs);
    context.deliveredStrokes += strokes;
    if (strokes > 0)
      context.recentBatches = [...context.recentBatches, { ...b, strokes, mixture: mixtureAt(m) }];
    return strokes;
  }
  return 0;
}

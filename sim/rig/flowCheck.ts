/**
 * The bench flow check: every batch the rig reports is weighed. An implanted pump has no flow
 * sensor; on the bench the balance is one, so a rig run cross-checks the strokes the rig reports
 * (which the controller accounts as delivered) against the mass that reached the balance, the way
 * an external pump's occlusion and free-flow checks compare what the motor did with what moved.
 * The rig is hardware, not a trusted party (issue 13): a rig whose firmware under-reports its
 * strokes would have the controller dose on, unaware, above the prescription.
 *
 * At each balance reading the delivered volume must lie in a band (docs/rig.md "Flow check"):
 *
 *   low  = settled × V × (1 − p) − noise − evaporation × t − slack × V
 *   high = (accounted + running) × V × (1 + p) + noise + slack × V
 *
 * - V is the stroke volume the run doses with, p `FLOW_CHECK_TOLERANCE_PERCENT` (the tolerance of
 *   the rig's stroke volume itself: a mechanism inside it is not a fault);
 * - `settled` are the strokes of the batches reported at least `FLOW_CHECK_SETTLE_MS` before the
 *   reading (their drops have fallen and the balance has settled), counted only when the count
 *   is exact: a batch ended by a lost link may be counted at its upper bound (hal/serial), which
 *   only the high side may use;
 * - `accounted` are all the strokes reported so far, `running` those the running batch is due to
 *   have made by now (the rig reports them only at the batch's end);
 * - noise is `FLOW_CHECK_NOISE_SIGMAS` standard deviations of the difference of two readings (the
 *   reading and the tare), σ√2; evaporation is the operator's allowance per hour since the tare;
 *   slack is `FLOW_CHECK_SLACK_STROKES` strokes in flight between the motor and the pan.
 *
 * Below the band the strokes were reported but the fluid did not arrive (an occlusion or a leak
 * before the balance, or a rig that over-reports); above it fluid arrived that no reported stroke
 * moved (free flow, or a rig that under-reports). Either way the first reading outside the band
 * ends the check: the run stops the pump (sim/rig/rigRun.ts). Pure: it reads no clock.
 */
import { assert } from '../../src/assert.js';
import { HOUR_MS } from '../../src/units.js';
import { RIG_STROKE_VOLUME_TOLERANCE_PERCENT } from './strokeVolume.js';

/** How far the balance may lie from the reported strokes, in percent of their volume. */
export const FLOW_CHECK_TOLERANCE_PERCENT = RIG_STROKE_VOLUME_TOLERANCE_PERCENT;
/** Strokes that may be between the motor and the pan, on either side. */
export const FLOW_CHECK_SLACK_STROKES = 2;
/** Standard deviations of the balance's noise (of a difference of two readings) allowed. */
export const FLOW_CHECK_NOISE_SIGMAS = 6;
/** Run time after a batch's report before its strokes must be on the balance. */
export const FLOW_CHECK_SETTLE_MS = 10_000;

export interface FlowCheckOptions {
  /** The stroke volume the run doses with (the controller's). */
  strokeVolumeNl: number;
  /** Standard deviation of one balance reading, µg (the balance's repeatability). */
  balanceNoiseUg: number;
  /** Mass the open outlet loses to evaporation, µg per hour, at most. */
  evaporationUgPerHour: number;
}

/** One balance reading judged: the band it had to lie in and what was accounted. */
export interface FlowCheckRow {
  timeMs: number;
  deliveredNl: number;
  /** Strokes reported so far (all batches). */
  accountedStrokes: number;
  lowNl: number;
  highNl: number;
}

export interface FlowCheckFailure extends FlowCheckRow {
  /** `low`: strokes without fluid (occlusion, leak, over-reporting); `high`: fluid without strokes. */
  side: 'low' | 'high';
  /** One line for the operator. */
  message: string;
}

/** The check's outcome, as summary.json keeps it. */
export type FlowCheckSummary = {
  readings: number;
  /** Smallest distance of a reading from the band's edges, nL (how close it came). */
  marginNl: number | null;
  tolerancePercent: number;
  slackStrokes: number;
  noiseSigmas: number;
  balanceNoiseUg: number;
  evaporationUgPerHour: number;
  failure: FlowCheckFailure | null;
};

interface ReportedBatch {
  atMs: number;
  strokes: number;
  exact: boolean;
}

export class FlowCheck {
  private readonly batches: ReportedBatch[] = [];
  private accountedStrokes = 0;
  /** Strokes of the exact batches older than the settle time, and how many batches that is. */
  private settledStrokes = 0;
  private settledBatches = 0;
  private readings = 0;
  private marginNl: number | null = null;
  failure: FlowCheckFailure | null = null;

  constructor(private readonly options: FlowCheckOptions) {
    assert(options.strokeVolumeNl > 0, 'flow check: stroke volume must be positive');
    assert(
      options.balanceNoiseUg >= 0 && options.evaporationUgPerHour >= 0,
      'flow check: noise and evaporation are not negative',
    );
  }

  /** A batch's report reached the controller at run time `atMs`. */
  batchReported(atMs: number, strokesDone: number, exact: boolean): void {
    assert(Number.isInteger(strokesDone) && strokesDone >= 0, 'flow check: a stroke count');
    this.accountedStrokes += strokesDone;
    this.batches.push({ atMs, strokes: strokesDone, exact });
  }

  /**
   * Judge one reading at run time `timeMs` (delivered volume since the tare), with `runningStrokes`
   * the running batch is due to have made by now. Returns the band it was judged against; the
   * first reading outside it sets `failure`, and from then the check judges no more (undefined).
   */
  reading(timeMs: number, deliveredNl: number, runningStrokes: number): FlowCheckRow | undefined {
    if (this.failure !== null) return undefined;
    while (
      this.settledBatches < this.batches.length &&
      this.batches[this.settledBatches]!.atMs <= timeMs - FLOW_CHECK_SETTLE_MS
    ) {
      const b = this.batches[this.settledBatches++]!;
      if (b.exact) this.settledStrokes += b.strokes;
    }
    const o = this.options;
    const v = o.strokeVolumeNl;
    const p = FLOW_CHECK_TOLERANCE_PERCENT;
    // The test fluid is water: 1 µg is 1 nL.
    const noiseNl = FLOW_CHECK_NOISE_SIGMAS * o.balanceNoiseUg * Math.SQRT2;
    const evaporationNl = (o.evaporationUgPerHour * Math.max(0, timeMs)) / HOUR_MS;
    const slackNl = FLOW_CHECK_SLACK_STROKES * v;
    const lowNl = (this.settledStrokes * v * (100 - p)) / 100 - noiseNl - evaporationNl - slackNl;
    const highNl =
      ((this.accountedStrokes + runningStrokes) * v * (100 + p)) / 100 + noiseNl + slackNl;
    this.readings++;
    const margin = Math.min(deliveredNl - lowNl, highNl - deliveredNl);
    this.marginNl = this.marginNl === null ? margin : Math.min(this.marginNl, margin);
    const row: FlowCheckRow = {
      timeMs,
      deliveredNl,
      accountedStrokes: this.accountedStrokes,
      lowNl: Math.floor(lowNl),
      highNl: Math.ceil(highNl),
    };
    if (deliveredNl >= lowNl && deliveredNl <= highNl) return row;
    const side = deliveredNl < lowNl ? 'low' : 'high';
    const ul = (nl: number) => `${(nl / 1_000).toFixed(1)} µL`;
    const message =
      `flow check failed: the balance shows ${ul(deliveredNl)} delivered, but the rig reported ` +
      `${this.accountedStrokes} strokes (${ul(this.accountedStrokes * v)})` +
      (runningStrokes > 0 ? ` and the running batch is due ${runningStrokes} more` : '') +
      `; the balance must lie within ${ul(row.lowNl)}–${ul(row.highNl)} ` +
      `(±${p} %, ${FLOW_CHECK_SLACK_STROKES} strokes in flight, balance noise and evaporation): ` +
      (side === 'high'
        ? 'fluid arrived that no reported stroke moved (free flow, or a rig that under-reports its strokes)'
        : 'reported strokes did not arrive (an occlusion or leak before the balance, or a rig that over-reports)');
    this.failure = { ...row, side, message };
    return row;
  }

  summary(): FlowCheckSummary {
    return {
      readings: this.readings,
      marginNl: this.marginNl === null ? null : Math.floor(this.marginNl),
      tolerancePercent: FLOW_CHECK_TOLERANCE_PERCENT,
      slackStrokes: FLOW_CHECK_SLACK_STROKES,
      noiseSigmas: FLOW_CHECK_NOISE_SIGMAS,
      balanceNoiseUg: this.options.balanceNoiseUg,
      evaporationUgPerHour: this.options.evaporationUgPerHour,
      failure: this.failure,
    };
  }
}

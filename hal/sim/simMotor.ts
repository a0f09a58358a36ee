/**
 * Simulated motor and reservoir: the physical truth the pump's estimate is compared with.
 *
 * Fault model (all settings seeded and printed at the start of a run):
 * - stroke-volume error: every stroke moves `strokeVolumeNl × (1 + strokeVolumeErrorPpm / 1e6)`
 *   (a fixed bias, e.g. wear), plus optional per-batch noise `strokeVolumeNoisePpm` drawn from the
 *   run's seeded PRNG. The pump does not sense this: its estimate and the true reservoir diverge.
 * - stall windows `[fromMs, toMs)`: a stroke due inside a window does not happen; the batch ends
 *   there with `stalled` and the strokes completed before it. The controller is required to detect
 *   this (REQ-MOT-1) and never to count strokes that were not reported.
 * - an empty true reservoir: strokes still turn the motor but move no drug (air). The pump cannot
 *   sense this either; the summary reports when the true reservoir ran dry.
 *
 * The driver advances only through the virtual clock: one callback per batch end, not per stroke.
 */
import { assert } from '../../src/assert.js';
import { strokeLeavesAtMs, strokesLeftBy } from './strokeClock.js';
import type { SimRandom, SimScheduler } from './simTime.js';
import { HalError } from '../halError.js';
import type { MotorEvent, MotorPort, StrokeBatch } from '../motor.js';

export interface SimMotorOptions {
  /** Nominal stroke volume of the mechanism (nL). */
  strokeVolumeNl: number;
  /** Systematic error of every stroke, in parts per million (e.g. -24000 = -2.4 %). */
  strokeVolumeErrorPpm: number;
  /** Standard deviation of a per-batch random error, in ppm (0 = none). */
  strokeVolumeNoisePpm: number;
  /** Windows of monotonic time in which the motor cannot turn. */
  stallWindows: readonly { fromMs: number; toMs: number }[];
}

interface Running extends StrokeBatch {
  startMs: number;
  end: { cancel(): void };
  /** Strokes already moved by `flush()` (end of a run), not to be moved again. */
  flushed: number;
  /** Stopped: its report is queued and nothing re-plans it. */
  stopping?: boolean;
}

/** What left the pump, truly, in one batch. */
export interface StrokeRecord {
  batchId: number;
  startMs: number;
  leadMs: number;
  intervalMs: number;
  strokes: number;
  /** Drug solution actually moved into the catheter (less than nominal when the reservoir ran dry). */
  volumeNl: number;
}

export class SimMotor implements MotorPort {
  private listener: ((e: MotorEvent) => void) | undefined;
  private running: Running | undefined;
  private fractionNl = 0;
  private readonly executed = new Set<number>();
  /** The true volume in the reservoir (nL). */
  trueReservoirNl = 0;
  /** Monotonic time at which the true reservoir first ran dry, if it did. */
  ranDryAtMs: number | undefined;
  strokesTotal = 0;
  stallWindows: { fromMs: number; toMs: number }[];
  strokeVolumeErrorPpm: number;
  /** Called with every finished batch (the harness's trace and the catheter model listen). */
  onStrokes: ((record: StrokeRecord) => void) | undefined;

  constructor(
    private readonly clock: SimScheduler,
    private readonly options: SimMotorOptions,
    private readonly random: SimRandom,
  ) {
    this.stallWindows = [...options.stallWindows];
    this.strokeVolumeErrorPpm = options.strokeVolumeErrorPpm;
  }

  listen(listener: (event: MotorEvent) => void): void {
    this.listener = listener;
  }

  deliver(batch: StrokeBatch): void {
    if (this.running) throw new HalError('busy', `batch ${this.running.batchId} is still running`);
    assert(
      batch.count >= 1 && batch.intervalMs >= 1 && batch.leadMs >= 0,
      () => `malformed batch ${JSON.stringify(batch)}`,
    );
    if (this.executed.has(batch.batchId)) return; // a retransmit: never run a batch twice
    this.executed.add(batch.batchId);
    const startMs = this.clock.nowMs();
    const stallAt = this.firstStalledStroke({ ...batch, startMs });
    const strokes = stallAt === undefined ? batch.count : stallAt - 1;
    const endMs = strokeLeavesAtMs({ startMs, ...batch }, stallAt ?? batch.count);
    const reason = stallAt === undefined ? 'completed' : 'stalled';
    const end = this.clock.schedule(endMs, () => this.finish(strokes, reason));
    this.running = { ...batch, startMs, end, flushed: 0 };
  }

  stop(): void {
    const r = this.running;
    if (!r) return;
    r.end.cancel();
    const now = this.clock.nowMs();
    const stallAt = this.firstStalledStroke(r);
    const done = Math.min(
      strokesLeftBy(r, r.count, now),
      stallAt === undefined ? r.count : stallAt - 1,
    );
    // The report is queued, never delivered from inside stop() (port contract).
    this.running = {
      ...r,
      stopping: true,
      end: this.clock.schedule(now, () => this.finish(done, 'stopped')),
    };
  }

  /**
   * Add a stall window (a fault injected now). A running batch whose remaining strokes fall in it
   * is cut short there, as the mechanism would be.
   */
  injectStall(fromMs: number, toMs: number): void {
    this.stallWindows.push({ fromMs, toMs });
    const r = this.running;
    if (!r) return;
    const stallAt = this.firstStalledStroke(r);
    if (stallAt === undefined) return;
    r.end.cancel();
    const endMs = Math.max(this.clock.nowMs(), strokeLeavesAtMs(r, stallAt));
    this.running = {
      ...r,
      end: this.clock.schedule(endMs, () => this.finish(stallAt - 1, 'stalled')),
    };
  }

  /**
   * Every stall window ends now: the mechanism frees itself. A running batch that was to stall at a
   * stroke still to come runs on to its next stall, or to its end.
   */
  clearStalls(): void {
    const now = this.clock.nowMs();
    this.stallWindows = this.stallWindows.map((w) => ({
      fromMs: w.fromMs,
      toMs: Math.min(w.toMs, Math.max(w.fromMs, now)),
    }));
    const r = this.running;
    if (!r || r.stopping) return;
    const stallAt = this.firstStalledStroke(r);
    const endMs = Math.max(now, strokeLeavesAtMs(r, stallAt ?? r.count));
    r.end.cancel();
    this.running = {
      ...r,
      end: this.clock.schedule(endMs, () =>
        this.finish(
          stallAt === undefined ? r.count : stallAt - 1,
          stallAt === undefined ? 'completed' : 'stalled',
        ),
      ),
    };
  }

  /** 1-based index of the first stroke that falls in a stall window, if any. */
  private firstStalledStroke(b: StrokeBatch & { startMs: number }): number | undefined {
    let first: number | undefined;
    for (const w of this.stallWindows) {
      const firstStroke = strokeLeavesAtMs(b, 1);
      if (w.toMs <= firstStroke) continue;
      const j =
        w.fromMs <= firstStroke ? 1 : Math.ceil((w.fromMs - firstStroke) / b.intervalMs) + 1;
      if (j <= b.count && strokeLeavesAtMs(b, j) < w.toMs) first = Math.min(first ?? j, j);
    }
    return first;
  }

  /**
   * A controller reset cuts the motor drive: strokes done so far have moved, the rest never will,
   * and no report is sent (the controller that asked for it is gone).
   */
  powerCut(): void {
    const r = this.running;
    if (!r) return;
    this.flush();
    r.end.cancel();
    this.running = undefined;
  }

  /**
   * Move the strokes a running batch has completed by now (the end of a run reads the truth
   * mid-batch). The batch goes on; its report will still count all its strokes for the controller.
   */
  flush(): void {
    const r = this.running;
    if (!r) return;
    const stallAt = this.firstStalledStroke(r);
    const done = Math.min(
      strokesLeftBy(r, r.count, this.clock.nowMs()),
      stallAt === undefined ? r.count : stallAt - 1,
    );
    this.account(r, done - r.flushed);
    r.flushed = done;
  }

  private account(r: Running, strokes: number): void {
    if (strokes <= 0) return;
    const volumeNl = this.move(strokes, r);
    this.strokesTotal += strokes;
    this.onStrokes?.({
      batchId: r.batchId,
      startMs: r.startMs,
      leadMs: r.leadMs,
      intervalMs: r.intervalMs,
      strokes,
      volumeNl,
    });
  }

  private finish(strokes: number, reason: 'completed' | 'stopped' | 'stalled'): void {
    const r = this.running;
    assert(r !== undefined, 'batch end without a running batch');
    this.running = undefined;
    this.account(r, strokes - r.flushed);
    this.listener?.({
      type: 'hal.motor.batchEnded',
      batchId: r.batchId,
      strokesDone: strokes,
      reason,
    });
  }

  /** Move `strokes` strokes of true volume out of the true reservoir; returns what moved. */
  private move(strokes: number, r: Running): number {
    if (strokes === 0) return 0;
    const noise =
      this.options.strokeVolumeNoisePpm > 0
        ? this.random.normal(0, this.options.strokeVolumeNoisePpm)
        : 0;
    const exact =
      strokes * this.options.strokeVolumeNl * (1 + (this.strokeVolumeErrorPpm + noise) / 1e6) +
      this.fractionNl;
    const wanted = Math.max(0, Math.floor(exact));
    this.fractionNl = exact - wanted;
    const moved = Math.min(wanted, this.trueReservoirNl);
    if (moved < wanted && this.ranDryAtMs === undefined) {
      const perStroke = wanted / strokes;
      // Stroke numbers count from the batch's first stroke; `flushed` strokes were moved earlier.
      const dryStroke = Math.floor(this.trueReservoirNl / perStroke) + 1;
      this.ranDryAtMs = strokeLeavesAtMs(r, r.flushed + Math.min(dryStroke, strokes));
    }
    this.trueReservoirNl -= moved;
    return moved;
  }
}

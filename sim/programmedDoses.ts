/**
 * "Dose programmed" per drug, for run summaries (the simulator's and the rig's).
 *
 * The pump programmes a volume; each drug's dose follows from the mixture in the reservoir. The
 * ledger splits the programmed volume into mixture periods at every refill and credits each period
 * to its mixture's drugs.
 */
import { programmedNlAt } from '../src/pump/decide.js';
import type { PumpContext } from '../src/pump/types.js';
import type { Mixture } from '../src/therapy/schema.js';
import { dosePg } from '../src/units.js';

export class ProgrammedDoses {
  readonly pg = new Map<string, number>();
  private startNl = 0;
  private mixture: Mixture | undefined;

  /** Close the period that ends now (at a refill, or the end of a run) and start the next. */
  close(context: PumpContext, nowMs: number, next: Mixture | undefined): void {
    const nowNl = programmedNlAt(context, nowMs);
    const deltaNl = nowNl - this.startNl;
    for (const d of this.mixture ?? [])
      this.pg.set(d.drug, (this.pg.get(d.drug) ?? 0) + dosePg(deltaNl, d.concentrationUgPerMl));
    this.startNl = nowNl;
    this.mixture = next;
  }
}

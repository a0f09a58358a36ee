/**
 * The default scenario (sim/scenarios/default.yaml, the case of Potocnik et al. 2025): clonidine is
 * added to the mixture at the 90-day refill; when does it first reach the patient?
 *
 * By hand: the catheter (scenario defaults: 100 cm × 2.6 µL/cm, no tubing) holds D = 260 000 nL of
 * morphine 2 mg/mL + bupivacaine 12 mg/mL. The refill at t0 = 90d 10:00 bridges: the old 1 mg/day
 * of morphine at 2 mg/mL, r0 = 500 000 nL/day, runs until the catheter has been pushed. Every
 * patient bolus granted meanwhile (0.1 mg at the new 4 mg/mL = 25 000 nL) pushes it too. The first
 * nL of the new mixture (and so the first clonidine) leaves the tip when D nL have been pushed:
 * t0 + (D − n × 25 000) / r0 for n boluses before then, to within a stroke (500 nL at r0 is
 * 86 400 ms; the stroke phase at t0 and the new rate after the bridge move it by less).
 */
import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/units.js';
import { formatTimeMs } from '../../src/units.js';
import { loadScenario } from '../../sim/scenario.js';
import { runScenario } from '../../sim/runner.js';
import { formatSummary } from '../../sim/summary.js';
import { at, ofType } from '../scenario/helpers.js';
import { eachTest } from '../eachTest.js';

const defaultScenario = loadScenario(
  new URL('../../sim/scenarios/default.yaml', import.meta.url).pathname,
);
const result = eachTest(() => runScenario(defaultScenario));
const t0 = at(90, 10);
const D = 260_000;
const r0 = 500_000;
const bolusNl = 25_000;

/** Solve t = t0 + (D − n(t) × bolus) / r0 by hand, n(t) the boluses granted in [t0, t) (each done in 10 min). */
function expectedArrivalMs(): number {
  const grants = ofType(result.events, 'pressGranted')
    .map((e) => e.atMs)
    .filter((t) => t >= t0);
  let n = 0;
  for (;;) {
    const t = t0 + ((D - n * bolusNl) * DAY_MS) / r0;
    if (n < grants.length && grants[n]! < t) n++;
    else return t;
  }
}

describe('the default scenario: clonidine added at 90 days', () => {
  const path = eachTest(() => result.summary.drugPath!);
  const clonidine = eachTest(() => path.drugFirstAtTip.find((d) => d.drug === 'clonidine')!);

  it('reports when clonidine first reached the patient, within a stroke of the hand computation', () => {
    const expected = expectedArrivalMs();
    expect(expected).toBeGreaterThan(t0 + 10 * 3_600_000); // at least 10 h after the refill
    expect(Math.abs(clonidine.atMs - expected)).toBeLessThanOrEqual(86_400);
  });

  it('has the new mixture reach the tip then, bridged, with the old basal dose at the tip meanwhile', () => {
    const [change] = path.changes;
    expect(change).toMatchObject({ atMs: t0, bridged: true, newMixtureAtTipMs: clonidine.atMs });
    for (const d of change!.drugs) expect(d.flag, d.drug).toBe('ok');
    // Morphine at the tip while the catheter cleared: 1 mg/day of the old mixture, by hand within a stroke (1 µg).
    const morphine = change!.drugs.find((d) => d.drug === 'morphine')!;
    expect(Math.abs(morphine.basalTipNg - morphine.basalIntendedNg)).toBeLessThanOrEqual(1_000);
    expect(change!.drugs.find((d) => d.drug === 'clonidine')).toMatchObject({
      basalTipNg: 0,
      basalIntendedNg: 0,
    });
  });

  it('prints it in the readable summary', () => {
    const text = formatSummary(result.summary);
    expect(text).toContain(
      `clonidine first reached the patient at ${formatTimeMs(clonidine.atMs)}`,
    );
    expect(text).toContain('drug change at 90d 10:00:00 (bridged)');
  });

  it('accounts for every drug: what left the pump, plus the catheter at the start, is what reached the patient plus the catheter now', () => {
    for (const d of result.summary.drugs) {
      const atPatient = path.drugs.find((x) => x.drug === d.drug)!;
      const initialNg = d.drug === 'morphine' ? D * 2 : d.drug === 'bupivacaine' ? D * 12 : 0; // nL × µg/mL ÷ 1000
      expect(
        d.trueDeliveredNg + initialNg - atPatient.tipNg - atPatient.inCatheterNg,
        d.drug,
      ).toBeGreaterThanOrEqual(-1);
      expect(
        d.trueDeliveredNg + initialNg - atPatient.tipNg - atPatient.inCatheterNg,
        d.drug,
      ).toBeLessThanOrEqual(1);
    }
  });
});

/**
 * The drug-path summary tells a washout from an overdose (issue 14): a drug the new mixture drops
 * keeps arriving while the catheter clears. At its old dose rate or below that is no more than the
 * patient had before the change; above it, an overdose.
 *
 * Morphine 2 mg/mL + clonidine 100 µg/mL at 1 mg/day of morphine (0.5 mL/day: 50 µg/day of
 * clonidine), then at 1d a refill with morphine 2 mg/mL alone, no bridge. The catheter (100 cm ×
 * 2.6 µL = 260 µL) takes 12 h 29 min at 0.5 mL/day to clear: clonidine keeps arriving at its old
 * 50 µg/day, about 25 µg over the window, against 0 meant. The catheter is not recorded in the
 * pump (`recorded: false`): a recorded one makes the pump open a washout of its own (FOUND-BUGS
 * #23), whose old mixture the summary then counts as meant.
 */
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../sim/runner.js';
import { parseScenario } from '../../sim/scenario.js';
import { formatSummary } from '../../sim/summary.js';

function changeTo(dose: string) {
  return parseScenario(
    `
name: washout
seed: 1
duration: 3d
pump: { strokeVolume: 0.5 uL }
catheter: { length: 100 cm, volumePerCm: 2.6 uL, recorded: false }
initialFill:
  volume: 20 mL
  mixture: [ { drug: morphine, concentration: 2 mg/mL }, { drug: clonidine, concentration: 100 ug/mL } ]
prescription: { mode: continuous, dose: 1 mg/day }
timeline:
  - at: 1d
    refill: { added: 20 mL, mixture: [ { drug: morphine, concentration: 2 mg/mL } ], bridge: false, confirm: true }
  - { at: 1d, program: { prescription: { mode: continuous, dose: ${dose} }, confirm: true } }
`,
    'washout.yaml',
  );
}

const clonidineAt = (dose: string) => {
  const { summary } = runScenario(changeTo(dose));
  const change = summary.drugPath!.changes[0]!;
  return { summary, change, clonidine: change.drugs.find((d) => d.drug === 'clonidine')! };
};

describe('a discontinued drug clearing the catheter', () => {
  it('at the same volume rate: a washout, not an overdose', () => {
    const { summary, clonidine } = clonidineAt('1 mg/day');
    // The situation: clonidine reached the tip after the change, where none was meant.
    expect(clonidine.basalIntendedNg).toBe(0);
    expect(clonidine.basalTipNg).toBeGreaterThan(20_000);
    expect(clonidine.basalTipNg).toBeLessThanOrEqual(clonidine.basalOldRateNg * 1.1);
    expect(clonidine.flag).toBe('washout');
    expect(formatSummary(summary)).toMatch(
      /clonidine +basal at the tip [\d.]+ µg of 0\.0 µg meant: washout \(the old drug clearing at or below its old rate: [\d.]+ µg over the window\)/,
    );
  });

  it('at four times the volume rate: an overdose', () => {
    // 4 mg/day of morphine pushes 2 mL/day: the path's clonidine arrives at 200 µg/day.
    const { clonidine } = clonidineAt('4 mg/day');
    expect(clonidine.basalTipNg).toBeGreaterThan(clonidine.basalOldRateNg * 1.1);
    expect(clonidine.flag).toBe('overdose');
  });
});

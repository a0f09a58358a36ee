/**
 * The refill workflow as one clinician command: the discrepancy between what was withdrawn and the
 * pump's estimate (flagged beyond the configured share), an overfill refused, and a new mixture that
 * would raise a drug's dose rate at the tip by more than the configured factor refused unless
 * confirmed, naming the drug, the factor and the limit, and changing nothing.
 *
 * Setting: morphine 2 mg/mL + bupivacaine 6 mg/mL, 1 mg/day of morphine = 0.5 mL/day, so
 * bupivacaine runs at 3 mg/day. A new mixture with bupivacaine 15 mg/mL at the same 0.5 mL/day
 * gives 7.5 mg/day: ×2.5, above a limit of ×1.5. Clonidine added at 100 µg/mL is new: always asked.
 */
import { describe, expect, it } from 'vitest';
import { NL_PER_ML } from '../../src/units.js';
import { at, morphineBase, ofType, scenario, when } from '../scenario/helpers.js';
import { runTo, runWhole, startRun } from './helpers.js';

const oldMixture = [
  { drug: 'morphine', concentration: '2 mg/mL' },
  { drug: 'bupivacaine', concentration: '6 mg/mL' },
];
const stronger = [
  { drug: 'morphine', concentration: '2 mg/mL' },
  { drug: 'bupivacaine', concentration: '15 mg/mL' },
];
const withClonidine = [...oldMixture, { drug: 'clonidine', concentration: '100 ug/mL' }];

function raw(timeline: unknown[], pump: Record<string, unknown> = {}) {
  return {
    ...morphineBase,
    duration: '3d',
    pump: { ...morphineBase.pump, doseRateIncreaseLimit: 1.5, ...pump },
    initialFill: { volume: '20 mL', mixture: oldMixture },
    timeline,
  };
}
const base = (timeline: unknown[], pump: Record<string, unknown> = {}) =>
  scenario(raw(timeline, pump));

describe('a dose-rate increase beyond the limit', () => {
  it('is refused without confirmation, naming the drug, the factor and the limit, and changes nothing', () => {
    const sim = startRun(
      base([{ at: when(1, 10), refill: { added: '18 mL', mixture: stronger } }]),
    );
    runTo(sim, at(1, 10) - 1);
    const before = sim.controller.context;
    runTo(sim, at(1, 10));
    const after = sim.controller.context;
    const refused = ofType(sim.events, 'refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      atMs: at(1, 10),
      command: 'cmd.refill',
      field: 'mixture[1].concentrationUgPerMl',
      value: '×2.500',
      limit: 'dose-rate increase of ×1.500 without confirmation',
    });
    expect(refused[0]!.message).toContain(
      'bupivacaine dose rate at the catheter tip 3.000 mg/day → 7.500 mg/day',
    );
    expect(ofType(sim.events, 'refill')).toHaveLength(1); // the initial fill only
    expect(after.mixture).toEqual(before.mixture);
    expect(after.reservoirNl).toBe(before.reservoirNl);
    expect(after.steps).toEqual(before.steps);
    expect(after.bridge).toBeUndefined();
  });

  it('names a drug new to the mixture as such', () => {
    const sim = runWhole(
      base([{ at: when(1, 10), refill: { added: '18 mL', mixture: withClonidine } }]),
    );
    expect(ofType(sim.events, 'refused')[0]).toMatchObject({
      field: 'mixture[2].concentrationUgPerMl',
      value: 'a drug new to the mixture',
    });
  });

  it('is accepted with the confirmation, logged with its factor, and bridged', () => {
    const sim = runWhole(
      base([
        { at: when(1, 10), refill: { added: '18 mL', confirm: true, mixture: withClonidine } },
      ]),
    );
    expect(ofType(sim.events, 'refused')).toHaveLength(0);
    expect(
      ofType(sim.events, 'doseRateIncreaseConfirmed').map((e) => [e.atMs, e.limitPpm, e.drugs]),
    ).toEqual([[at(1, 10), 1_500_000, [{ drug: 'clonidine', increaseFactorPpm: null }]]]);
    expect(ofType(sim.events, 'bridgeStarted')).toHaveLength(1);
  });

  it('is not checked when the pump has no limit configured', () => {
    const sim = runWhole(
      base([{ at: when(1, 10), refill: { added: '18 mL', mixture: stronger } }], {
        doseRateIncreaseLimit: null,
      }),
    );
    expect(ofType(sim.events, 'refused')).toHaveLength(0);
    expect(ofType(sim.events, 'doseRateIncreaseConfirmed')).toHaveLength(0);
  });

  it('does not ask for a concentration change that keeps every dose rate', () => {
    // Morphine 2 → 4 mg/mL at 1 mg/day: the rate halves, every dose rate stays (×1.000).
    const sim = runWhole(
      base([
        {
          at: when(1, 10),
          refill: {
            added: '18 mL',
            mixture: [
              { drug: 'morphine', concentration: '4 mg/mL' },
              { drug: 'bupivacaine', concentration: '12 mg/mL' },
            ],
          },
        },
      ]),
    );
    expect(ofType(sim.events, 'refused')).toHaveLength(0);
  });
});

describe('the withdrawn volume against the estimate', () => {
  // At 1d 10:00 the estimate is 20 mL − 1416 strokes × 500 nL = 19.292 mL (strokes every 86.4 s).
  const estimateNl = 20 * NL_PER_ML - 1416 * 500;

  it('flags a discrepancy beyond the configured 20 %, and records the threshold it applied', () => {
    const withdrawnNl = 15 * NL_PER_ML; // 4.292 mL short: 22 %
    const sim = runWhole(
      base([{ at: when(1, 10), refill: { withdrawn: '15 mL', added: '20 mL' } }]),
    );
    const refill = ofType(sim.events, 'refill').at(-1)!;
    expect(refill).toMatchObject({
      withdrawnNl,
      estimateBeforeNl: estimateNl,
      discrepancyNl: withdrawnNl - estimateNl,
      discrepancyFlagged: true,
      discrepancyLimitPercent: 20,
    });
  });

  it('does not flag one within it', () => {
    const sim = runWhole(
      base([{ at: when(1, 10), refill: { withdrawn: '16 mL', added: '20 mL' } }]),
    ); // 17 %
    expect(ofType(sim.events, 'refill').at(-1)).toMatchObject({
      discrepancyFlagged: false,
      discrepancyLimitPercent: 20,
    });
  });

  it('refuses an overfill and changes nothing', () => {
    const sim = runWhole(base([{ at: when(1, 10), refill: { added: '21 mL' } }]));
    expect(ofType(sim.events, 'refused')[0]).toMatchObject({
      command: 'cmd.refill',
      field: 'addedNl',
      value: '21.000 mL',
    });
    expect(ofType(sim.events, 'refill')).toHaveLength(1);
  });
});

describe('the bridge option', () => {
  const change = [
    { drug: 'morphine', concentration: '4 mg/mL' },
    { drug: 'bupivacaine', concentration: '12 mg/mL' },
  ];

  it('is on by default for a new mixture, and off for a refill of the same mixture', () => {
    const sim = runWhole(
      base([
        { at: when(1, 10), refill: { added: '18 mL' } },
        { at: when(2, 10), refill: { added: '18 mL', mixture: change } },
      ]),
    );
    expect(ofType(sim.events, 'bridgeStarted').map((e) => e.atMs)).toEqual([at(2, 10)]);
    expect(ofType(sim.events, 'bridgeSkipped')).toHaveLength(0);
  });

  it('is skipped, and the reason logged, when the clinician declines it or the catheter is not recorded', () => {
    const declined = runWhole(
      base([{ at: when(1, 10), refill: { added: '18 mL', bridge: false, mixture: change } }]),
    );
    expect(ofType(declined.events, 'bridgeSkipped').map((e) => e.reason)).toEqual(['declined']);
    const unrecorded = runWhole(
      scenario({
        ...raw([{ at: when(1, 10), refill: { added: '18 mL', mixture: change } }]),
        catheter: { recorded: false },
      }),
    );
    expect(
      ofType(unrecorded.events, 'bridgeSkipped').map((e) => [e.reason, e.newMixtureAtTipAfterMs]),
    ).toEqual([['catheter not recorded', null]]);
  });
});

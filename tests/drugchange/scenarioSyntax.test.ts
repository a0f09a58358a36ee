/**
 * The scenario syntax of the drug path (docs/drug-path.md §7): the catheter section and its
 * defaults, the pump's drug-path settings, the refill's bridge and pocket-fill options and the
 * priming bolus, validated with errors that name the field, the value and what was expected.
 */
import { describe, expect, it } from 'vitest';
import { InputError, pumpConfigOf } from '../../sim/scenario.js';
import { morphineBase, scenario } from '../scenario/helpers.js';

const refill = (r: Record<string, unknown>) =>
  scenario({ ...morphineBase, timeline: [{ at: '1d', refill: { added: '20 mL', ...r } }] });

describe('the catheter and the pump settings', () => {
  it('default to 100 cm of Prometra catheter (2.6 µL/cm), recorded in the pump, full of the drug, ×1.5', () => {
    const s = scenario(morphineBase);
    expect(s.catheter).toEqual({
      length: 100,
      volumePerCm: 2_600,
      recorded: true,
      contents: 'drug',
      mixingZone: 200_000,
      mixingZoneSegments: 8,
    });
    expect(pumpConfigOf(s)).toMatchObject({
      pumpTubingVolumeNl: 0,
      catheterLengthCm: 100,
      catheterVolumeNlPerCm: 2_600,
      doseRateIncreasePpmMax: 1_500_000,
    });
  });

  it('leave the pump without a catheter when it was not recorded, and without a limit when it is null', () => {
    const config = pumpConfigOf(
      scenario({
        ...morphineBase,
        pump: { ...morphineBase.pump, doseRateIncreaseLimit: null },
        catheter: { recorded: false },
      }),
    );
    expect(config.catheterLengthCm).toBeUndefined();
    expect(config.doseRateIncreasePpmMax).toBeUndefined();
  });

  it('accept the factor as 1.25, "×1.25" or "125 %", the length as 80 or "80 cm"', () => {
    for (const limit of [1.25, '×1.25', '1.25x', '125 %'])
      expect(
        pumpConfigOf(scenario({ ...morphineBase, pump: { doseRateIncreaseLimit: limit } }))
          .doseRateIncreasePpmMax,
      ).toBe(1_250_000);
    for (const length of [80, '80 cm'])
      expect(scenario({ ...morphineBase, catheter: { length } }).catheter.length).toBe(80);
  });

  it('refuse a bad length or factor, naming the field and the value', () => {
    expect(() => scenario({ ...morphineBase, catheter: { length: '80.5 cm' } })).toThrow(
      /catheter\.length: "80\.5 cm": .*whole cm/,
    );
    expect(() => scenario({ ...morphineBase, pump: { doseRateIncreaseLimit: 'double' } })).toThrow(
      /pump\.doseRateIncreaseLimit: "double": .*factor/,
    );
    expect(() => scenario({ ...morphineBase, catheter: { contents: 'water' } })).toThrow(
      InputError,
    );
  });
});

describe('the refill options', () => {
  it('take a pocket fill as a share or a volume, and the bridge as a boolean', () => {
    expect(refill({ pocketFill: '100 %' }).timeline[0]!.refill!.pocketFill).toEqual({
      sharePpm: 1_000_000,
    });
    expect(refill({ pocketFill: '5 mL' }).timeline[0]!.refill!.pocketFill).toEqual({
      volumeNl: 5_000_000,
    });
    expect(refill({ bridge: false }).timeline[0]!.refill!.bridge).toBe(false);
  });

  it('refuse a pocket fill above 100 % or without a unit', () => {
    expect(() => refill({ pocketFill: '120 %' })).toThrow(
      /timeline\[0\]\.refill\.pocketFill: "120 %": .*0 % to 100 %/,
    );
    expect(() => refill({ pocketFill: '5' })).toThrow(/timeline\[0\]\.refill\.pocketFill: "5"/);
    expect(() => refill({ bridge: 'yes' })).toThrow(/timeline\[0\]\.refill\.bridge/);
  });

  it('take a priming bolus with an optional rate and margin, and nothing else', () => {
    const s = scenario({
      ...morphineBase,
      timeline: [{ at: '0d', primingBolus: { rate: '24 mL/day', margin: '10 uL', confirm: true } }],
    });
    expect(s.timeline[0]!.primingBolus).toEqual({
      rate: 24_000_000,
      margin: 10_000,
      confirm: true,
    });
    expect(() =>
      scenario({ ...morphineBase, timeline: [{ at: '0d', primingBolus: { volume: '1 mL' } }] }),
    ).toThrow(/primingBolus/);
  });
});

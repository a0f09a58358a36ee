/**
 * Two edges of the drug-library checks that the generated commands do not reach (found by planting
 * bugs by hand, docs/requirements.md "Gaps"): a mixture whose second drug breaks the library while
 * the first is fine (REQ-LIM-1), and a command that says nothing of confirmation, which is not a
 * confirmation (REQ-LIM-3). On a pump as the kit runs it: each first asserts the command reached
 * the pump in the state it is about.
 */
import { describe, expect, it } from 'vitest';
import { NL_PER_ML } from '../../src/units.js';
import { PumpRig } from '../../testing/index.js';

function filled(): PumpRig {
  const rig = new PumpRig();
  const fill = rig.command({
    type: 'cmd.refill',
    withdrawnNl: 0,
    addedNl: 10 * NL_PER_ML,
    mixture: [{ drug: 'morphine', concentrationUgPerMl: 2_000 }],
  });
  expect(fill.refused).toEqual([]);
  return rig;
}

describe('every drug of a mixture is checked, not only the first (REQ-LIM-1)', () => {
  it.each([
    // bupivacaine's maximum is 30 mg/mL.
    [
      [
        { drug: 'morphine', concentrationUgPerMl: 2_000 },
        { drug: 'bupivacaine', concentrationUgPerMl: 30_001 },
      ],
      'mixture[1].concentrationUgPerMl',
    ],
    [
      [
        { drug: 'morphine', concentrationUgPerMl: 2_000 },
        { drug: 'clonidine', concentrationUgPerMl: 500 },
        { drug: 'baclofen', concentrationUgPerMl: 2_001 },
      ],
      'mixture[2].concentrationUgPerMl',
    ],
    [
      [
        { drug: 'morphine', concentrationUgPerMl: 2_000 },
        { drug: 'ketamine', concentrationUgPerMl: 1_000 },
      ],
      'mixture[1].drug',
    ],
  ])('a refill of %j is refused on %s', (mixture, field) => {
    const rig = filled();
    // The situation: the first drug is within the library; only a later one is not.
    expect(mixture[0]).toEqual({ drug: 'morphine', concentrationUgPerMl: 2_000 });
    const outcome = rig.command({
      type: 'cmd.refill',
      withdrawnNl: rig.motor.trueReservoirNl,
      addedNl: 10 * NL_PER_ML,
      mixture,
      confirm: true,
    });
    expect(outcome.refused.map((r) => r.field)).toEqual([field]);
    expect(rig.controller.context.mixture).toEqual([
      { drug: 'morphine', concentrationUgPerMl: 2_000 },
    ]);
  });
});

describe('a command that says nothing of confirmation is not confirmed (REQ-LIM-3)', () => {
  it('a daily dose between the soft and hard maxima: refused without `confirm`, accepted with it', () => {
    // Morphine: soft maximum 10 mg/day, hard 20 mg/day.
    const rig = filled();
    const unconfirmed = rig.command({
      type: 'cmd.program',
      prescription: { mode: 'continuous', doseNgPerDay: 15_000_000 },
    });
    expect(unconfirmed.refused.map((r) => r.field)).toEqual(['prescription.doseNgPerDay']);
    expect(unconfirmed.refused[0]!.message).toContain('soft maximum');
    expect(rig.controller.context.prescription).toBeUndefined();
    const confirmed = rig.command({
      type: 'cmd.program',
      prescription: { mode: 'continuous', doseNgPerDay: 15_000_000 },
      confirm: true,
    });
    expect(confirmed.refused).toEqual([]);
    expect(rig.controller.context.prescription).toEqual({
      mode: 'continuous',
      doseNgPerDay: 15_000_000,
    });
    // The accepted record says the soft maximum was passed and confirmed (issue 14).
    expect(confirmed.records.filter((r) => r.type === 'softLimitConfirmed')).toEqual([
      expect.objectContaining({
        command: 'cmd.program',
        field: 'prescription.doseNgPerDay',
        value: '15.000 mg',
        limit: 'soft maximum daily dose of morphine, 10.000 mg',
      }),
    ]);
    // A confirmation within every soft maximum overrides nothing, and says nothing of it.
    const within = rig.command({
      type: 'cmd.program',
      prescription: { mode: 'continuous', doseNgPerDay: 5_000_000 },
      confirm: true,
    });
    expect(within.refused).toEqual([]);
    expect(within.records.some((r) => r.type === 'softLimitConfirmed')).toBe(false);
  });

  it('a clinician bolus between the soft and hard bolus maxima: refused without `confirm`', () => {
    // Morphine: bolus soft maximum 0.5 mg, hard 1 mg.
    const rig = filled();
    rig.command({
      type: 'cmd.program',
      prescription: { mode: 'continuous', doseNgPerDay: 1_000_000 },
    });
    rig.command({ type: 'cmd.resume' });
    // The situation: infusing its basal, so a clinician bolus is judged on its dose.
    expect(rig.controller.state.therapy).toBe('infusing.basal');
    const outcome = rig.command({
      type: 'cmd.clinicianBolus',
      doseNg: 750_000,
      durationMs: 3_600_000,
    });
    expect(outcome.refused.map((r) => r.field)).toEqual(['clinicianBolus.doseNg']);
    expect(outcome.records.some((r) => r.type === 'bolusStarted')).toBe(false);
  });
});

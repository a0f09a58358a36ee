/**
 * Model-based runs: a generated pump set-up plus a generated list of commands, played against the
 * real controller with every invariant judged along the way, and the settings that make a failure
 * reproducible (seed, run count, replay path) from the environment.
 *
 * A run starts as a clinic would: boot, fill the reservoir, program a therapy well within the
 * library's soft maxima, resume. Then fast-check's commands act (`fc.modelRun`). A violation is
 * rethrown with the run's journal, one clinical line per command, so the shrunk counterexample
 * reads as a timeline ("2d 08:10:00 press (denied: lockout)").
 */
import fc from 'fast-check';
import type {
  DrugLibrary,
  Mixture,
  Prescription,
  PtmSettings,
  PumpConfig,
} from '../src/therapy/schema.js';
import { NL_PER_ML } from '../src/units.js';
import {
  catheterArb,
  drugLibraryArb,
  mixtureArb,
  placeTherapy,
  pumpConfigArb,
  therapyShapeArb,
} from './arbitraries.js';
import {
  commandArbitraries,
  type CommandSetOptions,
  type PumpCommand,
  type QaRun,
} from './commands.js';
import { PumpRig, defaultPumpConfig, defaultStartRtcMs } from './harness.js';
import { InvariantMonitor, InvariantViolation } from './invariants.js';
import { ReferenceModel } from './model.js';

/** How a run begins: the pump, its library, the first fill and the first therapy. */
export interface QaSetup {
  config: PumpConfig;
  library: DrugLibrary;
  mixture: Mixture;
  fillNl: number;
  prescription: Prescription;
  ptm: PtmSettings | undefined;
  startRtcMs: number;
  /** A recorded catheter starts full of saline (a new implant) and is primed at set-up, or full of the first mixture. */
  catheterFill: 'saline' | 'firstMixture';
}

/**
 * Set-ups whose first therapy lies within the soft maxima (so the clinic's programming succeeds),
 * placed with the pump's stroke counted as the controller counts it.
 */
export function qaSetupArb(options: { randomPump?: boolean } = {}): fc.Arbitrary<QaSetup> {
  const withCatheter = catheterArb().map((catheter) => ({ ...defaultPumpConfig, ...catheter }));
  const config =
    options.randomPump === false
      ? fc.constant(defaultPumpConfig)
      : fc.oneof(fc.constant(defaultPumpConfig), withCatheter, pumpConfigArb());
  return fc
    .record({ config, library: drugLibraryArb() })
    .chain(({ config, library }) =>
      fc.record({
        config: fc.constant(config),
        library: fc.constant(library),
        mixture: mixtureArb(library),
        fillShare: fc.oneof(
          fc.double({ min: 0.02, max: 0.3, noNaN: true }),
          fc.double({ min: 0.3, max: 1, noNaN: true }),
        ),
        shape: therapyShapeArb(['withinSoft']),
        startRtcMs: fc.oneof(
          fc.constant(defaultStartRtcMs),
          fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }),
        ),
        catheterFill: fc.constantFrom<'saline' | 'firstMixture'>('saline', 'firstMixture'),
      }),
    )
    .map((s) => {
      const stroke = s.config.strokeVolumeNl;
      const placed =
        placeTherapy(s.shape, s.library, s.mixture, stroke) ??
        placeTherapy({ ...s.shape, ptm: undefined }, s.library, s.mixture, stroke);
      if (!placed) return undefined;
      const setup: QaSetup = {
        config: s.config,
        library: s.library,
        mixture: s.mixture,
        fillNl: Math.max(1, Math.floor(s.config.reservoirCapacityNl * s.fillShare)),
        prescription: placed.prescription,
        ptm: placed.ptm,
        startRtcMs: s.startRtcMs,
        catheterFill: s.catheterFill,
      };
      return setup;
    })
    .filter((s): s is QaSetup => s !== undefined);
}

/** A set-up and the commands to play on it (the commands draw mixtures from its library). */
export function qaScenarioArb(
  options: CommandSetOptions & {
    randomPump?: boolean;
    maxCommands?: number;
    size?: fc.SizeForArbitrary;
  } = {},
): fc.Arbitrary<{ setup: QaSetup; commands: Iterable<PumpCommand> }> {
  return qaSetupArb(options).chain((setup) =>
    fc.record({
      setup: fc.constant(setup),
      commands: fc.commands(commandArbitraries(setup.library, options), {
        maxCommands: options.maxCommands ?? 40,
        size: options.size ?? 'max',
        replayPath: process.env.FC_REPLAY_PATH,
      }),
    }),
  );
}

/** Extra checks for a run. */
export interface QaOptions {
  /** Your own checks, run after every controller step (after the built-in invariants). */
  onStep?: (rig: PumpRig) => void;
}

/** Build the rig, the model and the monitor, and do what a clinic does first. */
export function startRun(
  setup: QaSetup,
  options: QaOptions = {},
): { model: ReferenceModel; run: QaRun } {
  const rig = new PumpRig({
    config: setup.config,
    library: setup.library,
    startRtcMs: setup.startRtcMs,
    catheterFill: setup.catheterFill,
  });
  const model = new ReferenceModel(setup.config, setup.library);
  const monitor = new InvariantMonitor(rig, model);
  if (options.onStep) rig.onStep.push(options.onStep);
  const run: QaRun = { rig, monitor, journal: [], doseCheckedUntilMs: 0 };
  const fill = rig.command({
    type: 'cmd.refill',
    withdrawnNl: 0,
    addedNl: setup.fillNl,
    mixture: setup.mixture,
  });
  if (fill.refused.length > 0)
    throw new Error(`set-up refill refused: ${fill.refused[0]!.message}`);
  model.refilled(0, setup.mixture);
  const program = rig.command({
    type: 'cmd.program',
    prescription: setup.prescription,
    ptm: setup.ptm ?? null,
  });
  if (program.refused.length > 0) {
    throw new InvariantViolation(
      {
        id: 'LIM',
        requirements: ['REQ-LIM-2'],
        title: 'a therapy within the soft maxima is accepted',
      },
      `set-up programming refused: ${program.refused[0]!.message} (${JSON.stringify({ prescription: setup.prescription, ptm: setup.ptm, mixture: setup.mixture })})`,
    );
  }
  model.programmed(0, setup.prescription, setup.ptm);
  rig.command({ type: 'cmd.resume' });
  run.journal.push(`set-up at 0d 00:00:00: ${describeSetup(setup)}`);
  if (rig.path && setup.catheterFill === 'saline') {
    // A new implant: the clinician primes the catheter (it holds no drug yet, so confirming is true).
    const prime = rig.command({ type: 'cmd.primingBolus', confirm: true });
    run.journal.push(
      `priming bolus at 0d 00:00:00 → ${prime.refused.length === 0 ? 'started' : `refused: ${prime.refused[0]!.message}`}`,
    );
  }
  return { model, run };
}

export function describeSetup(s: QaSetup): string {
  const mixture = s.mixture.map((d) => `${d.drug} ${d.concentrationUgPerMl} µg/mL`).join(' + ');
  const catheter =
    s.config.catheterLengthCm !== undefined
      ? `, catheter ${s.config.catheterLengthCm} cm × ${s.config.catheterVolumeNlPerCm} nL/cm + ${s.config.pumpTubingVolumeNl ?? 0} nL tubing, ${s.catheterFill === 'saline' ? 'new (saline)' : 'established'}`
      : '';
  return `pump ${s.config.model} (stroke ${s.config.strokeVolumeNl} nL, low ${s.config.lowReservoirNl} nL, empty ${s.config.emptyReservoirNl} nL${catheter}), library "${s.library.name}", fill ${(s.fillNl / NL_PER_ML).toFixed(3)} mL of ${mixture}, prescription ${JSON.stringify(s.prescription)}, PTM ${JSON.stringify(s.ptm ?? null)}, RTC ${new Date(s.startRtcMs).toISOString()}`;
}

/**
 * Play the commands against a fresh run and judge everything; throws with the journal on failure.
 * Returns the run for further checks.
 */
export function runQa(
  setup: QaSetup,
  commands: Iterable<PumpCommand>,
  options: QaOptions = {},
): { model: ReferenceModel; run: QaRun } {
  const { model, run } = startRun(setup, options);
  try {
    fc.modelRun(() => ({ model, real: run }), commands);
  } catch (e) {
    if (e instanceof Error)
      e.message += `\n\nTimeline (time since start):\n  ${run.journal.join('\n  ')}`;
    throw e;
  }
  return { model, run };
}

// ---------------------------------------------------------------------------------------------
// Reproducibility.

/**
 * Options for `fc.assert` that make a failure replayable: `FC_PATH` (with `FC_SEED`) replays one
 * counterexample, `FC_REPLAY_PATH` replays its command list; the report ends with the command line.
 */
export function replayOptions<T>(
  testFile: string,
): Pick<fc.Parameters<T>, 'path' | 'endOnFailure' | 'reporter'> {
  const path = process.env.FC_PATH;
  return {
    ...(path ? { path, endOnFailure: true } : {}),
    reporter: (details) => {
      if (!details.failed) return;
      const message = fc.defaultReportMessage(details) ?? 'property failed';
      const replayPath = /replayPath="([^"]*)"/.exec(message)?.[1];
      const replay = `FC_SEED=${details.seed} FC_PATH="${details.counterexamplePath ?? ''}"${replayPath ? ` FC_REPLAY_PATH="${replayPath}"` : ''} npx vitest run ${testFile}`;
      const error =
        details.errorInstance instanceof Error
          ? details.errorInstance.message
          : String(details.errorInstance);
      throw new Error(`${message}\n\nGot error: ${error}\n\nReplay this failure:\n  ${replay}\n`, {
        cause: details.errorInstance,
      });
    },
  };
}

/**
 * Fleet runs are deterministic whatever runs them: one worker, two workers, or shards merged
 * afterwards (also through `itpump fleet merge`) give the same fleet.json, byte for byte.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/units.js';
import {
  mergeAggregates,
  missingPatients,
  type FleetAggregate,
} from '../../sim/fleet/aggregate.js';
import {
  fleetJson,
  mergeFleetDirs,
  parseFleetJson,
  writeFleetOutputs,
} from '../../sim/fleet/output.js';
import { patientScenario, runPatient, type FleetVariation } from '../../sim/fleet/patient.js';
import { runFleet, type FleetOptions } from '../../sim/fleet/runFleet.js';
import { registerReportCommands } from '../../sim/report/commands.js';
import { runScenario } from '../../sim/runner.js';
import { InputError, parseScenario } from '../../sim/scenario.js';
import { smallFleetScenarioText } from './smallFleet.js';

/** Six days of one small fill: most patients reach the low-reservoir alarm, stalls are frequent. */
const SCENARIO_TEXT = smallFleetScenarioText('fleet-test', 500);
const SCENARIO = parseScenario(SCENARIO_TEXT, 'fleet-test.yaml');
const VARIATION: FleetVariation = {
  motorErrorSdPpm: 30_000,
  stallsPerYear: 20,
  stallDurationMs: 2 * 3_600_000,
  clinicResponseMs: 36 * 3_600_000,
};
const PATIENTS = 16;
const options: FleetOptions = { scenario: SCENARIO, patients: PATIENTS, variation: VARIATION };

let root: string;
let oneWorker: FleetAggregate;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'itpump-fleet-'));
  oneWorker = await runFleet({ ...options, workers: 1 });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('runFleet', () => {
  it('runs every patient once and sees them differ', () => {
    expect(oneWorker.coverage).toEqual([[0, PATIENTS]]);
    expect(missingPatients(oneWorker)).toEqual([]);
    expect(oneWorker.totals.patients).toBe(PATIENTS);
    expect(oneWorker.totals.simulatedMs).toBe(PATIENTS * 6 * DAY_MS);
    const motor = oneWorker.sketches.strokeVolumeError;
    expect(motor.count).toBe(PATIENTS);
    expect(motor.max! - motor.min!).toBeGreaterThan(10_000); // pump biases spread by the seed
    expect(oneWorker.totals.reachedLowReservoirAlarm).toBeGreaterThan(0);
    expect(oneWorker.totals.alarmsRaised.motorStall).toBeGreaterThan(0);
    expect(oneWorker.worst).toHaveLength(10);
  });

  it('folds exactly what each patient did', () => {
    const patient = runPatient(SCENARIO, 3, 503, {
      variation: VARIATION,
      drugs: ['morphine', 'clonidine'],
    });
    const alone = runFleet({ ...options, patients: 1, baseSeed: 503, workers: 0 });
    return alone.then((a) => {
      expect(a.totals.pressesRequested).toBe(patient.pressesRequested);
      expect(a.sketches.strokeVolumeError.sum).toBe(patient.strokeVolumeErrorPpm);
      expect(a.sketches.highest24hDoseOfHardMax.morphine!.sum).toBe(
        Math.round((patient.highest24hPg[0]! * 10_000) / (20_000_000 * 1_000)),
      );
    });
  });

  it('gives the same fleet.json with two workers as with one, and each patient in index order', async () => {
    const order: number[] = [];
    const twoWorkers = await runFleet({
      ...options,
      workers: 2,
      onPatient: (outcome) => order.push(outcome.index),
    });
    expect(fleetJson(twoWorkers)).toBe(fleetJson(oneWorker));
    expect(order).toEqual(Array.from({ length: PATIENTS }, (_, i) => i));
  });

  it('gives the same fleet.json from three shards merged, in any order', async () => {
    const shards = [];
    for (let index = 0; index < 3; index++)
      shards.push(await runFleet({ ...options, workers: 0, shard: { index, count: 3 } }));
    expect(shards.map((s) => s.coverage)).toEqual([[[0, 5]], [[5, 10]], [[10, 16]]]);
    expect(missingPatients(shards[0]!)).toEqual([[5, 16]]);
    expect(fleetJson(mergeAggregates(mergeAggregates(shards[0]!, shards[1]!), shards[2]!))).toBe(
      fleetJson(oneWorker),
    );
    expect(fleetJson(mergeAggregates(shards[2]!, mergeAggregates(shards[1]!, shards[0]!)))).toBe(
      fleetJson(oneWorker),
    );

    // Through the files and the CLI, as a CI matrix or an Indexed Job would: shard dirs, then merge.
    const dirs = shards.map((s, i) => {
      const dir = join(root, `shard-${i}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'fleet.json'), fleetJson(s));
      return dir;
    });
    expect(fleetJson(mergeFleetDirs(dirs))).toBe(fleetJson(oneWorker));
    const program = new Command('itpump').exitOverride();
    registerReportCommands(program);
    const merged = join(root, 'merged');
    await program.parseAsync(['fleet', 'merge', ...dirs, '--out', merged], { from: 'user' });
    expect(readFileSync(join(merged, 'fleet.json'), 'utf8')).toBe(fleetJson(oneWorker));

    // And the charts and page are those of the one run.
    const single = join(root, 'single');
    await writeFleetOutputs(oneWorker, single);
    const files = readdirSync(single).sort();
    expect(readdirSync(merged).sort()).toEqual(files);
    for (const f of files)
      expect(readFileSync(join(merged, f), 'utf8'), f).toBe(readFileSync(join(single, f), 'utf8'));
    expect(files).toContain('report.html');
    expect(files).toContain('timeToLowReservoirAlarm.svg');
  });

  it('sends the patient to the clinic after a stall: the alarm is cleared and therapy resumes', () => {
    const draw = { strokeVolumeErrorPpm: 0, stallStartsMs: [DAY_MS] };
    const lived = patientScenario(SCENARIO, draw, VARIATION);
    expect(
      lived.timeline.map((e) => [
        e.at,
        e.motorStall ? 'motorStall' : e.clearAlarms ? 'clearAlarms' : '?',
      ]),
    ).toEqual([
      [DAY_MS, 'motorStall'],
      [DAY_MS + 2 * 3_600_000 + 36 * 3_600_000, 'clearAlarms'],
    ]);
    const run = runScenario(lived, { seed: 9 });
    const visit = DAY_MS + 38 * 3_600_000;
    // The pump learns the motor works again at the end of its first good batch, before the visit.
    const recovered = run.events.find((e) => e.type === 'motorRecovered');
    expect(recovered!.atMs).toBeLessThan(visit);
    const stall = run.summary.alarms.find((a) => a.code === 'motorStall');
    expect(stall!.clearedAtMs).toBe(visit);
    expect(run.events.some((e) => e.type === 'resumed' && e.atMs === visit)).toBe(true);
  });

  it('runs a patient exactly as itpump run does when nothing varies', () => {
    const still: FleetVariation = {
      motorErrorSdPpm: 0,
      stallsPerYear: 0,
      stallDurationMs: 1,
      clinicResponseMs: 0,
    };
    const outcome = runPatient(SCENARIO, 0, 42, { variation: still, drugs: ['morphine'] });
    const run = runScenario(SCENARIO, { seed: 42 });
    expect(outcome.pressesRequested).toBe(run.summary.presses.requested);
    expect(outcome.deniedByReason).toEqual(run.summary.presses.deniedByReason);
    expect(outcome.firstLowReservoirAlarmMs).toBe(
      run.summary.alarms.find((a) => a.code === 'lowReservoir')?.raisedAtMs ?? null,
    );
    expect(outcome.controllerEvents).toBe(run.summary.controllerEvents);
  });
});

describe('fleet.json', () => {
  it('reads back into the same aggregate', () => {
    const text = fleetJson(oneWorker);
    expect(fleetJson(parseFleetJson(text, 'fleet.json'))).toBe(text);
  });

  it('refuses a merge of different fleets, of overlapping shards, and a sketch whose counts do not add up', () => {
    const other = {
      ...oneWorker,
      spec: { ...oneWorker.spec, baseSeed: oneWorker.spec.baseSeed + 1 },
    };
    expect(() => mergeAggregates(oneWorker, other)).toThrow(/spec\.baseSeed differs/);
    expect(() => mergeAggregates(oneWorker, oneWorker)).toThrow(
      /patients 0 to 15 are counted twice/,
    );
    const broken = JSON.parse(fleetJson(oneWorker));
    broken.sketches.strokeVolumeError.count += 1;
    expect(() => parseFleetJson(JSON.stringify(broken), 'shard/fleet.json')).toThrow(InputError);
    expect(() => parseFleetJson(JSON.stringify(broken), 'shard/fleet.json')).toThrow(
      /shard\/fleet\.json: sketches\.strokeVolumeError\.count: is 17 but the bins hold 16/,
    );
  });
});

describe('itpump fleet', () => {
  it("--replay I writes patient I's own run, as the fleet varied it, with its report", async () => {
    const file = join(root, 'fleet-test.yaml');
    writeFileSync(file, SCENARIO_TEXT);
    const out = join(root, 'replay-3');
    const program = new Command('itpump').exitOverride();
    registerReportCommands(program);
    const variationArgs = [
      '--motor-error-sd',
      '3 %',
      '--stalls-per-year',
      '20',
      '--stall-duration',
      '2 h',
      '--clinic-after',
      '36 h',
    ];
    await program.parseAsync(
      [
        'fleet',
        file,
        '--patients',
        String(PATIENTS),
        '--replay',
        '3',
        ...variationArgs,
        '--out',
        out,
      ],
      { from: 'user' },
    );
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const patient = runPatient(SCENARIO, 3, 503, {
      variation: VARIATION,
      drugs: ['morphine', 'clonidine'],
    });
    expect(summary.seed).toBe(503);
    expect(summary.settings.motor.strokeVolumeErrorPpm).toBe(patient.strokeVolumeErrorPpm);
    expect(summary.presses.requested).toBe(patient.pressesRequested);
    expect(summary.presses.deniedByReason).toEqual(patient.deniedByReason);
    expect(readdirSync(out)).toContain('report.html');
  });

  it('needs --patients and a well-formed --shard, and writes nothing without them', async () => {
    const file = join(root, 'fleet-test.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'x',
        duration: '1d',
        initialFill: { volume: '4 mL', mixture: [{ drug: 'morphine', concentration: '2 mg/mL' }] },
        prescription: { mode: 'continuous', dose: '1 mg/day' },
      }),
    );
    const out = join(root, 'not-written');
    const run = (...args: string[]) => {
      const program = new Command('itpump').exitOverride();
      registerReportCommands(program);
      return program.parseAsync(['fleet', file, '--out', out, ...args], { from: 'user' });
    };
    await expect(run()).rejects.toThrow(/--patients N is required/);
    await expect(run('--patients', '4', '--shard', '4/4')).rejects.toThrow(
      /--shard: "4\/4" is not I\/M with 0 ≤ I < M/,
    );
    await expect(run('--patients', '0')).rejects.toThrow(InputError);
    expect(() => readdirSync(out)).toThrow();
  });
});

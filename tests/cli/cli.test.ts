/**
 * The real `itpump` command line, spawned as a user would run it: `run` on the default scenario and
 * its outputs, determinism, `--seed`, `--json`, `validate`, `schema`, and exit code 2 for each kind
 * of bad input, with a message naming the file, the field path, the value and the limit, no stack
 * trace and no output written. Each spawn costs half a second or more of CPU, so every invocation is
 * started up front, a few at a time, and the tests read their results.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsx = join(root, 'node_modules/.bin/tsx');
const cliPath = join(root, 'sim/cli.ts');
const defaultScenario = join(root, 'sim/scenarios/default.yaml');
const small = readFileSync(join(root, 'tests/fixtures/cli/small.yaml'), 'utf8');
const examplesDir = join(root, 'sim/scenarios/examples');

let work = '';

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: readonly string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, [cliPath, ...args], { cwd: work });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const read = (dir: string, name: string) => readFileSync(join(work, dir, name), 'utf8');
const stackTrace = /^\s+at .+[:(]/m;

// Input files written into the working directory before anything runs.
const inputs: Record<string, string> = {
  'small.yaml': small,
  'ok.yaml': small,
  'seed.yaml': small,
  blocker: 'a file, not a directory\n',
  'validate-bad.yaml': small.replace('volume: 10 mL', 'volume: 10 litres'),
  'validate-refused.yaml': small.replace('dose: 1 mg/day', 'dose: 50 mg/day'),
  'refusals.yaml': small.replace(
    'timeline:\n',
    'timeline:\n  - { at: 1d 01:00, program: { prescription: { mode: continuous, dose: 15 mg/day } } }\n',
  ),
  'after-end.yaml': `${small}  - { at: 3d, press: {} }\n`,
};

// Each kind of bad input: the file, and what the message must name (file, field path, value, limit).
const setClock = (action: string) =>
  small.replace('timeline:\n', `timeline:\n  - { at: 1d, setClock: ${action} }\n`);
// `lines`: the message is exactly that many lines (one problem, said once).
const badInputs: {
  kind: string;
  name: string;
  text?: string;
  /** The name is a directory, not a file. */
  directory?: boolean;
  expected: string[];
  lines?: number;
}[] = [
  {
    kind: 'a volume of .nan',
    name: 'volume-nan.yaml',
    text: small.replace('volume: 10 mL', 'volume: .nan'),
    expected: ['initialFill.volume: .nan: is not a number', '"20 mL"'],
  },
  {
    kind: 'a volume of .inf',
    name: 'volume-inf.yaml',
    text: small.replace('volume: 10 mL', 'volume: .inf'),
    expected: ['initialFill.volume: .inf: is not a number'],
  },
  {
    kind: 'a negative volume',
    name: 'volume-negative.yaml',
    text: small.replace('volume: 10 mL', 'volume: -5 mL'),
    expected: ['initialFill.volume', '"-5 mL" is negative: a volume is 0 mL or more'],
  },
  {
    kind: 'a negative event time',
    name: 'time-negative.yaml',
    text: small.replace('at: 1d 08:00', 'at: -1h'),
    expected: ['timeline[0].at', '"-1h" is negative', "from the run's start, 0d 00:00"],
  },
  {
    kind: 'a clock set to a time of day without a date',
    name: 'clock-time-of-day.yaml',
    text: setClock('{ to: "08:00" }'),
    expected: ['timeline[0].setClock.to', '"08:00"', 'not a date and time', '2025-06-02T08:00:00Z'],
  },
  {
    kind: 'a clock change that says nothing',
    name: 'clock-empty.yaml',
    text: setClock('{}'),
    expected: ['timeline[0].setClock', '{}', 'needs exactly one of `shift`'],
  },
  {
    kind: 'a clock change both forward and back',
    name: 'clock-both.yaml',
    text: setClock('{ shift: 1h, back: 2h }'),
    expected: ['timeline[0].setClock', '"shift":"1h","back":"2h"', 'needs exactly one of'],
  },
  {
    kind: 'an unreadable file',
    name: 'no-such-file.yaml',
    expected: ['no-such-file.yaml: no such file or directory (open failed with ENOENT)'],
  },
  {
    kind: 'a directory named as the scenario',
    name: 'a-directory.yaml',
    directory: true,
    expected: ['a-directory.yaml: is a directory, not a file (read failed with EISDIR)'],
  },
  {
    kind: 'bad YAML',
    name: 'bad-yaml.yaml',
    text: 'name: [unclosed\n',
    expected: ['bad-yaml.yaml', 'not valid YAML', 'line 2'],
  },
  {
    kind: 'an unknown field',
    name: 'unknown.yaml',
    text: small.replace('initialFill:', 'pump: { colour: red }\ninitialFill:'),
    expected: ['unknown.yaml', 'pump', 'colour', 'red', 'unknown key "colour"', 'strokeVolume'],
  },
  {
    kind: 'a timeline action the pump does not have, in one line',
    name: 'action-unknown.yaml',
    text: small.replace('press: {} }', 'frobnicate: {} }'),
    expected: [
      'timeline[0]: {"at":"1d 08:00","frobnicate":{}}: unknown key "frobnicate"; the keys here are at, press, program,',
    ],
    lines: 1,
  },
  {
    kind: 'a clock change in a key setClock does not take',
    name: 'clock-forward.yaml',
    text: setClock('{ forward: 1h }'),
    expected: ['timeline[0].setClock', '"forward"', 'the keys here are shift, back, to'],
    lines: 1,
  },
  {
    kind: 'a patient bolus of no drug',
    name: 'bolus-zero.yaml',
    text: small.replace('bolusDose: 0.1 mg', 'bolusDose: 0 mg'),
    expected: ['ptm.bolusDose: 0 mg: refused by the pump: must be more than 0 mg'],
    lines: 1,
  },
  {
    kind: 'a bad unit',
    name: 'unit.yaml',
    text: small.replace('volume: 10 mL', 'volume: 20 lbs'),
    expected: ['unit.yaml', 'initialFill.volume', '20 lbs', 'nL, uL, µL, mL'],
  },
  {
    kind: 'a missing field',
    name: 'missing.yaml',
    text: small.replace(/^prescription:.*\n/m, ''),
    expected: ['missing.yaml', 'prescription', 'missing'],
  },
  {
    kind: 'a value above a schema limit',
    name: 'above.yaml',
    text: `${small}demand: { episodesPerDay: 30, pressesPerEpisode: [1, 2] }\n`,
    expected: ['above.yaml', 'demand.episodesPerDay', '30', '24'],
  },
  {
    kind: 'a prescription the drug library refuses',
    name: 'morphine.yaml',
    text: small.replace('dose: 1 mg/day', 'dose: 50 mg/day'),
    expected: [
      'morphine.yaml',
      'prescription.dose',
      '50.000 mg',
      'hard maximum daily dose of morphine, 20.000 mg',
    ],
  },
  {
    kind: 'an overfill at the initial fill',
    name: 'overfill.yaml',
    text: small.replace('volume: 10 mL', 'volume: 25 mL'),
    expected: ['overfill.yaml', 'initialFill.volume', '25.000 mL', '20.000 mL'],
  },
  {
    kind: 'a concentration of zero',
    name: 'conc-zero.yaml',
    text: small.replace('concentration: 2 mg/mL', 'concentration: 0 mg/mL'),
    expected: ['initialFill.mixture[0].concentration', '"0 mg/mL"', 'from 1 µg/mL to 100 mg/mL'],
  },
  {
    kind: 'a drug twice in one mixture',
    name: 'dup-drug.yaml',
    text: small.replace(
      '    - { drug: morphine, concentration: 2 mg/mL }\n',
      '    - { drug: morphine, concentration: 2 mg/mL }\n    - { drug: morphine, concentration: 1 mg/mL }\n',
    ),
    expected: ['initialFill.mixture[1].drug', '"morphine"', 'each drug once'],
  },
  {
    kind: 'presses per episode, most before fewest',
    name: 'presses-reversed.yaml',
    text: `${small}demand: { episodesPerDay: 2, pressesPerEpisode: [3, 1] }\n`,
    expected: ['demand.pressesPerEpisode', '[3,1]', '[fewest, most]'],
  },
  {
    kind: 'a concentration above the drug library maximum',
    name: 'conc-above.yaml',
    text: small.replace('concentration: 2 mg/mL', 'concentration: 30 mg/mL'),
    expected: [
      'initialFill.mixture[0].concentration',
      '30 mg/mL',
      'maximum concentration of morphine, 25 mg/mL',
    ],
  },
  {
    kind: 'a drug the library does not hold',
    name: 'unknown-drug.yaml',
    text: small.replace('drug: morphine', 'drug: ketamine'),
    expected: ['initialFill.mixture[0].drug', 'ketamine', 'not in the drug library'],
  },
  {
    kind: 'a patient bolus above its hard maximum',
    name: 'bolus-hard.yaml',
    text: small.replace('bolusDose: 0.1 mg', 'bolusDose: 2 mg'),
    expected: ['ptm.bolusDose', '2.000 mg', 'hard maximum bolus dose of morphine, 1.000 mg'],
  },
  {
    kind: 'a dose that is not a quantity',
    name: 'dose-banana.yaml',
    text: small.replace('dose: 1 mg/day', 'dose: banana'),
    expected: ['prescription.dose', '"banana"', 'is not a daily dose', 'mg/day'],
  },
  {
    kind: 'a dose per hour instead of per day',
    name: 'dose-per-hour.yaml',
    text: small.replace('dose: 1 mg/day', 'dose: 1 mg/h'),
    expected: ['prescription.dose', '"1 mg/h"', 'is not a daily dose', 'mg/day'],
  },
  {
    kind: 'a duration in an unknown unit',
    name: 'duration-unit.yaml',
    text: small.replace('duration: 2d', 'duration: 2 parsecs'),
    expected: ['duration', '"2 parsecs"', 'is not a duration', 'ms, s, min, h, d'],
  },
  {
    kind: 'a run of no time',
    name: 'duration-zero.yaml',
    text: small.replace('duration: 2d', 'duration: 0d'),
    expected: ['duration', '"0d"', 'between 1 ms and 10 years'],
  },
  {
    kind: 'a time of day past 23:59',
    name: 'time-of-day-bad.yaml',
    text: small.replace('at: 1d 08:00', 'at: 1d 25:00'),
    expected: ['timeline[0].at', '"1d 25:00"', 'is not a time of day'],
  },
  {
    kind: 'a refill that adds a negative volume',
    name: 'refill-negative.yaml',
    text: small.replace('press: {} }', 'refill: { withdrawn: 1 mL, added: -2 mL } }'),
    expected: ['timeline[0].refill.added', '"-2 mL" is negative', '0 mL or more'],
  },
  {
    kind: 'a timeline event with no action',
    name: 'action-none.yaml',
    text: small.replace('{ at: 1d 08:00, press: {} }', '{ at: 1d 08:00 }'),
    expected: ['timeline[0]', '{"at":"1d 08:00"}', 'exactly one action (press, program'],
  },
  {
    kind: 'a lockout that is not a duration',
    name: 'lockout-text.yaml',
    text: small.replace('lockout: 3 h', 'lockout: soon'),
    expected: ['ptm.lockout', '"soon"', 'is not a duration'],
  },
  {
    kind: 'a lockout of no time',
    name: 'lockout-zero.yaml',
    text: small.replace('lockout: 3 h', 'lockout: 0 min'),
    expected: ['ptm.lockout', '0 ms', 'at least 1 min'],
  },
  {
    kind: 'a patient bolus over no time',
    name: 'bolus-duration-zero.yaml',
    text: small.replace('bolusDuration: 10 min', 'bolusDuration: 0 min'),
    expected: ['ptm.bolusDuration', '0 ms', 'at least 1 min'],
  },
  {
    kind: 'a negative number of boluses a day',
    name: 'max-negative.yaml',
    text: small.replace('maxPer24h: 4', 'maxPer24h: -4'),
    expected: ['ptm.maxPer24h', '-4', 'at least 1'],
  },
  {
    kind: 'a fraction of a bolus a day',
    name: 'max-fraction.yaml',
    text: small.replace('maxPer24h: 4', 'maxPer24h: 1.5'),
    expected: ['ptm.maxPer24h', '1.5', 'a whole number of boluses'],
  },
  {
    kind: 'a seed that is not a number',
    name: 'seed-text.yaml',
    text: `seed: abc\n${small}`,
    expected: ['seed', '"abc"', 'a whole number from 0 to 2147483647'],
  },
  {
    kind: 'a prescription mode the pump does not have',
    name: 'mode-bad.yaml',
    text: small.replace('mode: continuous', 'mode: weekly'),
    expected: ['prescription.mode', '"weekly"', 'continuous (one daily dose) or flex'],
  },
  {
    kind: 'a fill with no drug',
    name: 'mixture-empty.yaml',
    text: small.replace(
      '  mixture:\n    - { drug: morphine, concentration: 2 mg/mL }\n',
      '  mixture: []\n',
    ),
    expected: ['initialFill.mixture', '[]', 'at least one drug'],
  },
  {
    kind: 'a timeline event with two actions',
    name: 'two-actions.yaml',
    text: small.replace('press: {} }', 'press: {}, stop: {} }'),
    expected: ['two-actions.yaml', 'timeline[0]', '"press":{}', '"stop":{}', 'exactly one action'],
  },
];
for (const bad of badInputs) if (bad.text !== undefined) inputs[bad.name] = bad.text;

const examples = readdirSync(examplesDir)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .map((f) => join(examplesDir, f));

// Every invocation, by name. The three runs of the default scenario come first: they take longest.
const invocations: Record<string, string[]> = {
  first: ['run', '--out', 'first'],
  again: ['run', defaultScenario, '--out', 'again', '--json'],
  reseeded: ['run', '--seed', '7', '--out', 'reseeded'],
  noOut: ['run', 'small.yaml'],
  validateBad: ['validate', 'validate-bad.yaml'],
  validateRefused: ['validate', 'validate-refused.yaml'],
  schema: ['schema'],
  badSeed: ['run', 'seed.yaml', '--seed', 'abc', '--out', 'out-seed'],
  unknownCommand: ['frobnicate'],
  outThroughFile: ['run', 'ok.yaml', '--out', join('blocker', 'sub')],
  outIsFile: ['run', 'ok.yaml', '--out', 'blocker'],
  version: ['--version'],
  refusals: ['run', 'refusals.yaml', '--out', 'out-refusals'],
  validateRefusals: ['validate', 'refusals.yaml'],
  strictRefusals: ['run', 'refusals.yaml', '--strict', '--out', 'out-strict'],
  validateAfterEnd: ['validate', 'after-end.yaml'],
  runAfterEnd: ['run', 'after-end.yaml', '--out', 'out-after-end'],
  ...Object.fromEntries(
    [defaultScenario, ...examples].map((f) => [`validate:${f}`, ['validate', f]]),
  ),
  ...Object.fromEntries(
    badInputs.map((b) => [`bad:${b.name}`, ['run', b.name, '--out', `out-${b.name}`]]),
  ),
};
const results = new Map<string, Outcome>();
const result = (name: string): Outcome => results.get(name) ?? expect.fail(`no result for ${name}`);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'itpump-cli-'));
  for (const [name, text] of Object.entries(inputs)) writeFileSync(join(work, name), text);
  for (const bad of badInputs) if (bad.directory) mkdirSync(join(work, bad.name));
  const queue = Object.entries(invocations);
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift())
      results.set(next[0], await cli(next[1]));
  };
  await Promise.all(Array.from({ length: Math.max(2, availableParallelism()) }, worker));
}, 300_000); // ~60 CLI processes: about 40 s on an idle 2-core machine, far more under load
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('itpump run on the default scenario', () => {
  it('exits 0 and prints the replay command first, then the summary, then the derived settings', () => {
    const first = result('first');
    expect(first.status, first.stderr).toBe(0);
    const lines = first.stdout.split('\n');
    expect(lines[0]).toBe(`itpump run ${defaultScenario} --seed 1`);
    expect(lines[1]).toMatch(/^potocnik-2025-case: 180d 00:00:00 simulated in /);
    const settings = lines.findIndex((l) => l.startsWith('settings: '));
    expect(lines[settings]).toMatch(/^settings: \{"scenario":"potocnik-2025-case","seed":1,/);
    expect(settings).toBeGreaterThan(lines.findIndex((l) => l.startsWith('final state: ')));
    expect(first.stdout).toMatch(/wrote .*summary\.json, .*events\.jsonl, .*trace\.csv/);
    expect(first.stderr).toBe('');
  });

  it('writes summary.json, events.jsonl and trace.csv', () => {
    expect(readdirSync(join(work, 'first')).sort()).toEqual([
      'drug-library.json',
      'events.jsonl',
      'summary.json',
      'trace.csv',
    ]);
    const events = read('first', 'events.jsonl')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; seq: number; atMs: number });
    expect(events[0]).toMatchObject({ type: 'boot', seq: 0, atMs: 0 });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    expect(events.filter((e) => e.type === 'refill')).toHaveLength(9); // the initial fill and 8 refills
    // The text summary counts the 8 refills, not the initial fill (issue 14).
    expect(result('first').stdout).toMatch(/; refills: 8;/);
    const [header, ...rows] = read('first', 'trace.csv').trimEnd().split('\n');
    expect(header).toMatch(
      /^time_ms,reservoir_estimate_nl,reservoir_true_nl,therapy,battery_remaining_uah,morphine_delivered_pg,/,
    );
    expect(rows).toHaveLength(180 * 24 + 1); // hourly over 180 days
    expect(rows.at(-1)!.split(',')[0]).toBe(String(180 * 86_400_000));
  });

  it('summarises doses per drug, presses by reason, alarms, the reservoir, simulated and wall time', () => {
    const s = JSON.parse(read('first', 'summary.json'));
    expect(s.seed).toBe(1);
    expect(s.settings.seed).toBe(1);
    expect(s.simulatedMs).toBe(180 * 86_400_000);
    expect(s.wallTimeMs).toBeGreaterThan(0);
    expect(s.drugs.map((d: { drug: string }) => d.drug)).toEqual([
      'morphine',
      'bupivacaine',
      'clonidine',
    ]);
    for (const d of s.drugs) {
      expect(d.programmedNg).toBeGreaterThan(0);
      expect(Number.isInteger(d.deliveredNg)).toBe(true);
      // Delivered follows programmed within a few strokes' worth of drug over six months.
      expect(Math.abs(d.deliveredNg - d.programmedNg) / d.programmedNg).toBeLessThan(0.001);
    }
    expect(Object.keys(s.presses.deniedByReason).sort()).toEqual([
      'bolusDoseCap',
      'count24h',
      'criticalAlarm',
      'dailyDoseCap',
      'lockout',
      'noPtm',
      'reservoirEmpty',
      'stopped',
    ]);
    const denied = Object.values(s.presses.deniedByReason as Record<string, number>).reduce(
      (a, b) => a + b,
      0,
    );
    expect(s.presses.denied).toBe(denied);
    expect(s.presses.requested).toBe(s.presses.granted + s.presses.denied);
    expect(s.presses.requested).toBeGreaterThan(100); // 1.5 episodes a day for 180 days
    expect(Array.isArray(s.alarms)).toBe(true);
    expect(Number.isInteger(s.reservoir.estimateNl) && Number.isInteger(s.reservoir.trueNl)).toBe(
      true,
    );
    expect(s.reservoir.estimateNl).toBeGreaterThan(2_000_000); // refilled before it ran low
  });

  it('is deterministic: same seed, byte-identical events and trace, same summary but for wall time', () => {
    const again = result('again');
    expect(again.status, again.stderr).toBe(0);
    expect(read('again', 'events.jsonl')).toBe(read('first', 'events.jsonl'));
    expect(read('again', 'trace.csv')).toBe(read('first', 'trace.csv'));
    const { wallTimeMs: _a, ...a } = JSON.parse(read('first', 'summary.json'));
    const { wallTimeMs: _b, ...b } = JSON.parse(read('again', 'summary.json'));
    expect(b).toEqual(a);
  });

  it('--json prints the summary as JSON, seed and settings first', () => {
    const printed = JSON.parse(result('again').stdout);
    expect(Object.keys(printed)[0]).toBe('settings');
    expect(Object.keys(printed.settings).slice(0, 2)).toEqual(['scenario', 'seed']);
    expect(printed).toEqual(JSON.parse(read('again', 'summary.json')));
  });

  it('--seed changes the patient demand, and is printed', () => {
    const reseeded = result('reseeded');
    expect(reseeded.status, reseeded.stderr).toBe(0);
    expect(reseeded.stdout.split('\n')[0]).toBe(`itpump run ${defaultScenario} --seed 7`);
    const pressTimes = (dir: string) =>
      read(dir, 'events.jsonl')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; atMs: number })
        .filter((e) => e.type === 'pressGranted' || e.type === 'pressDenied')
        .map((e) => e.atMs);
    expect(pressTimes('reseeded')).not.toEqual(pressTimes('first'));
    expect(JSON.parse(read('reseeded', 'summary.json')).seed).toBe(7);
  });
});

describe('itpump run without --out', () => {
  it('writes to out/<scenario name> under the working directory', () => {
    const r = result('noOut');
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(work, 'out', 'small')).sort()).toEqual([
      'drug-library.json',
      'events.jsonl',
      'summary.json',
      'trace.csv',
    ]);
  });
});

describe('itpump validate and schema', () => {
  it('validate accepts the default scenario and every example; those showing a refusal exit 3', () => {
    expect(examples.length).toBeGreaterThanOrEqual(3);
    // Examples that show a refusal on purpose say so in their description (priming-bolus.yaml:
    // "an unconfirmed prime is refused"; refill-workflow.yaml: "Overfill refused, ...").
    const showsRefusal = (f: string) => /^description:.*refused/im.test(readFileSync(f, 'utf8'));
    expect(examples.filter(showsRefusal).length).toBeGreaterThanOrEqual(2);
    for (const f of [defaultScenario, ...examples]) {
      const r = result(`validate:${f}`);
      expect(r.stdout, f).toMatch(/: valid \(/);
      if (!showsRefusal(f)) {
        expect(r.status, `${f}: ${r.stderr}`).toBe(0);
        continue;
      }
      expect(r.stdout, f).toMatch(/^ {2}refused at \d+d [\d:]+: timeline\[\d+\]\./m);
      expect(r.status, f).toBe(3);
    }
  });

  it('validate rejects a bad file with exit code 2', () => {
    const r = result('validateBad');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('validate-bad.yaml: initialFill.volume: "10 litres"');
    expect(r.stdout).toBe('');
  });

  it("validate also runs the pump's own programming checks", () => {
    const r = result('validateRefused');
    expect(r.status, r.stdout).toBe(2);
    expect(r.stderr).toContain('validate-refused.yaml');
    expect(r.stderr).toContain('20.000 mg');
  });

  it('schema prints a JSON Schema of scenario files', () => {
    const r = result('schema');
    expect(r.status).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).toMatch(/json-schema\.org/);
    expect(schema.type).toBe('object');
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining([
        'name',
        'duration',
        'pump',
        'initialFill',
        'prescription',
        'ptm',
        'timeline',
        'demand',
      ]),
    );
    expect(schema.required).toEqual(
      expect.arrayContaining(['name', 'duration', 'initialFill', 'prescription']),
    );
    const volume = schema.properties.initialFill.properties.volume;
    expect(volume.description).toMatch(/^The volume in the reservoir at the start.*Units: nL, uL/);
    expect(volume.examples).toEqual(['20 mL']);
  });
});

describe('bad input: exit code 2, a message naming file, field, value and limit, nothing written', () => {
  for (const bad of badInputs) {
    it(bad.kind, () => {
      const out = `out-${bad.name}`;
      const r = result(`bad:${bad.name}`);
      expect(r.status, r.stderr).toBe(2);
      for (const part of bad.expected)
        expect(r.stderr, `message should name ${JSON.stringify(part)}`).toContain(part);
      if (bad.lines !== undefined) expect(r.stderr.trimEnd().split('\n')).toHaveLength(bad.lines);
      expect(r.stderr).not.toMatch(stackTrace);
      expect(r.stderr).not.toContain('internal error');
      expect(r.stdout).not.toContain('wrote');
      expect(existsSync(join(work, out))).toBe(false);
    });
  }

  it('a bad --seed or an unknown command', () => {
    const seed = result('badSeed');
    expect(seed.status).toBe(2);
    expect(seed.stderr).toContain('--seed: "abc" is not an integer from 0 to 2147483647');
    expect(existsSync(join(work, 'out-seed'))).toBe(false);
    const unknown = result('unknownCommand');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });
});

describe('paths the user named that cannot be used', () => {
  it('an output path through a file, or an output directory that is a file: one line naming it, exit 2, no stack', () => {
    for (const name of ['outThroughFile', 'outIsFile']) {
      const r = result(name);
      expect(r.status, name).toBe(2);
      expect(r.stderr, name).toMatch(
        /^error: blocker\S*: .*\((mkdir|open) failed with (ENOTDIR|EEXIST)\)\n$/,
      );
      expect(r.stderr, name).not.toMatch(stackTrace);
      expect(r.stderr, name).not.toContain('internal error');
    }
    expect(readFileSync(join(work, 'blocker'), 'utf8')).toBe('a file, not a directory\n');
  });
});

describe('refused timeline commands', () => {
  it('are listed under their YAML path with the pump’s reason, on stdout and in summary.json', () => {
    const r = result('refusals');
    expect(r.status).toBe(0);
    // The situation: the pump refused the reprogramming above morphine's soft maximum.
    expect(r.stdout).toContain('refused commands: 1');
    expect(r.stdout).toContain(
      'refused at 1d 01:00:00: timeline[0].program.prescription.dose: morphine daily dose 15.000 mg exceeds the soft maximum daily dose of morphine, 10.000 mg',
    );
    const summary = JSON.parse(read('out-refusals', 'summary.json')) as {
      refusedCommands: { at: string; field: string; value: string }[];
    };
    expect(summary.refusedCommands).toHaveLength(1);
    expect(summary.refusedCommands[0]).toMatchObject({
      at: '1d 01:00:00',
      field: 'timeline[0].program.prescription.dose',
      value: '15.000 mg',
    });
  });
});

describe('a scenario the pump would not run as written', () => {
  const refusedLine =
    'refused at 1d 01:00:00: timeline[0].program.prescription.dose: morphine daily dose 15.000 mg exceeds the soft maximum daily dose of morphine, 10.000 mg';

  it('validate runs it, lists each refused command, writes nothing and exits 3', () => {
    const r = result('validateRefusals');
    // The situation: the file itself is valid; the pump refuses its reprogramming at run time.
    expect(r.stdout).toContain('refusals.yaml: valid (small, 2 timeline events; ran 2d 00:00:00');
    expect(r.stdout).toContain(refusedLine);
    expect(r.stderr).toBe(
      'refusals.yaml: not run as written: the pump refuses 1 timeline command\n',
    );
    expect(r.status).toBe(3);
    expect(existsSync(join(work, 'out', 'refusals'))).toBe(false);
  });

  it('run --strict writes its outputs, then exits 3 on a refused command', () => {
    const r = result('strictRefusals');
    expect(r.stdout).toContain(refusedLine);
    expect(readdirSync(join(work, 'out-strict')).sort()).toEqual(
      expect.arrayContaining(['events.jsonl', 'summary.json', 'trace.csv']),
    );
    expect(r.stderr).toContain('not run as written: the pump refuses 1 timeline command');
    expect(r.status).toBe(3);
    // Without --strict the same file exits 0 (the `refusals` run above).
    expect(result('refusals').status).toBe(0);
  });

  it('an event after the end is listed by validate (exit 3) and by run, and is in summary.json', () => {
    const v = result('validateAfterEnd');
    const line = "not run: timeline[1] at 3d 00:00:00 is after the scenario's end at 2d 00:00:00";
    expect(v.stdout).toContain(line);
    expect(v.stderr).toContain('after-end.yaml: not run as written: 1 event lies after the end');
    expect(v.status).toBe(3);
    const r = result('runAfterEnd');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(line);
    const summary = JSON.parse(read('out-after-end', 'summary.json')) as {
      eventsAfterEnd: unknown[];
    };
    expect(summary.eventsAfterEnd).toEqual([
      { path: 'timeline[1]', at: '3d 00:00:00', end: '2d 00:00:00' },
    ]);
  });
});

describe('--version', () => {
  it("prints the package's version", () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const r = result('version');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });
});

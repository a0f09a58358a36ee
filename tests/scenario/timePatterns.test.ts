/**
 * The JSON Schema's patterns for durations and times (issue 14) say what the loader accepts, in
 * both directions: every example the schema (in the default Ajv) accepts, the loader accepts, and
 * every one it refuses, the loader refuses. Table rows go through a whole scenario file; a property
 * checks the patterns against the parsers themselves on strings made of the grammar's pieces.
 */
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseScenario, scenarioJsonSchema } from '../../sim/scenario.js';
import * as u from '../../src/units.js';

const small = readFileSync(join(import.meta.dirname, '../fixtures/cli/small.yaml'), 'utf8');
const schemaValid = new Ajv().compile(scenarioJsonSchema() as object);
const loads = (text: string) => {
  try {
    parseScenario(text, 'case.yaml');
    return true;
  } catch {
    return false;
  }
};

/** Where a value goes in the small scenario: the text it replaces, and the text around it. */
const fields = {
  'ptm.lockout': ['lockout: 3 h', (v: string) => `lockout: ${v}`],
  'timeline[0].at': ['at: 1d 08:00', (v: string) => `at: ${v}`],
  'setClock.shift': ['press: {}', (v: string) => `setClock: { shift: ${v} }`],
  'setClock.back': ['press: {}', (v: string) => `setClock: { back: ${v} }`],
  'setClock.to': ['press: {}', (v: string) => `setClock: { to: ${v} }`],
  startRtc: ['duration: 2d', (v: string) => `duration: 2d\nstartRtc: ${v}`],
} as const;

const table: [keyof typeof fields, string, boolean][] = [
  ['ptm.lockout', '3 h', true],
  ['ptm.lockout', '1h 30min', true],
  ['ptm.lockout', '1.5 h', true],
  ['ptm.lockout', '90min', true],
  ['ptm.lockout', '2.25 s', true],
  ['ptm.lockout', '1d 2h 30min 15s 5ms', true],
  ['ptm.lockout', '1.5 ms', false], // ms is the firmware unit: no fraction of it
  ['ptm.lockout', '1.0005 s', false],
  ['ptm.lockout', '1h30min', false], // the parts of a sum are spaced
  ['ptm.lockout', '3 hours', false],
  ['ptm.lockout', '3', false],
  ['ptm.lockout', '"-3 h"', false],
  ['ptm.lockout', '01:30', false], // a clock time is not a duration
  ['ptm.lockout', '3d 02:00', false],
  ['ptm.lockout', '.5 h', false],
  ['ptm.lockout', '""', false],
  ['timeline[0].at', '1d 08:00', true],
  ['timeline[0].at', '"08:30"', true],
  ['timeline[0].at', '"7:05:30"', true],
  ['timeline[0].at', '1d08:00', true],
  ['timeline[0].at', '36h', true],
  ['timeline[0].at', '1d 2h 30min', true],
  ['timeline[0].at', '0 ms', true],
  ['timeline[0].at', '1d 24:00', false],
  ['timeline[0].at', '1d 08:60', false],
  ['timeline[0].at', '1d 08:00:60', false],
  ['timeline[0].at', '1d 8:0', false],
  ['timeline[0].at', '1 d 08:00', false],
  ['timeline[0].at', '-1h', false],
  ['timeline[0].at', 'tomorrow', false],
  ['timeline[0].at', '36', false],
  ['setClock.shift', '1h', true],
  ['setClock.shift', '1 h 30 min', true],
  ['setClock.shift', '1 week', false],
  ['setClock.back', '30min', true],
  ['setClock.back', '"-30min"', false],
  ['setClock.to', '"2025-06-02T08:00:00Z"', true],
  ['setClock.to', '"2025-06-02T08:00Z"', true],
  ['setClock.to', '"2025-06-02T08:00:00.250+01:00"', true],
  ['setClock.to', '"2025-06-02T08:00:00-0530"', true],
  ['setClock.to', '"2025-06-02T08:00:00"', false], // no zone: the machine's local time
  ['setClock.to', '"08:00"', false],
  ['setClock.to', '"2025-06-02"', false],
  ['setClock.to', '"2025-13-02T08:00:00Z"', false],
  ['setClock.to', '"2025-06-02T24:00:00Z"', false],
  ['setClock.to', '"2025-06-02 08:00:00Z"', false],
  ['startRtc', '"2025-01-06T08:00:00Z"', true],
  ['startRtc', '"2025-01-06"', false],
  ['startRtc', '"Jan 6 2025"', false],
];

describe('duration and time patterns in the JSON Schema', () => {
  it('the scenario the cases change is valid to both', () => {
    expect([schemaValid(parse(small)), loads(small)]).toEqual([true, true]);
  });

  it.each(table)('%s: %s: accepted %s by the schema and by the loader', (field, value, ok) => {
    const [from, to] = fields[field];
    expect(small).toContain(from);
    const text = small.replace(from, to(value));
    expect({ schema: schemaValid(parse(text)), loader: loads(text) }).toEqual({
      schema: ok,
      loader: ok,
    });
  });

  it('a date that is not in the calendar is the loader’s to refuse (a pattern cannot count days)', () => {
    const text = small.replace('press: {}', 'setClock: { to: "2025-02-30T08:00:00Z" }');
    expect({ schema: schemaValid(parse(text)), loader: loads(text) }).toEqual({
      schema: true,
      loader: false,
    });
  });

  const seed = Number(process.env.FC_SEED ?? 42);
  const numRuns = Number(
    process.env.FC_NUM_RUNS ?? 2_000 * Number(process.env.FC_RUNS_FACTOR ?? 1),
  );
  // Numbers of at most 12 digits: the "too large" refusal of a huge sum is the parser's alone.
  const pieces = [
    '0',
    '1',
    '23',
    '59',
    '60',
    '7',
    '.',
    '.5',
    ':',
    ':30',
    ' ',
    '  ',
    'd',
    'h',
    'min',
  ];
  const text = fc
    .array(fc.constantFrom(...pieces, 's', 'ms', '-', 'x', 'μ', '\t'), { maxLength: 6 })
    .map((p) => p.join(''));
  const parses = (parseMs: (t: string) => number, t: string) => {
    try {
      parseMs(t);
      return true;
    } catch {
      return false;
    }
  };

  it.each([
    ['duration', u.durationPattern, u.parseDurationMs],
    ['time', u.timePattern, u.parseTimeMs],
  ] as const)('the %s pattern matches exactly what its parser reads', (_kind, pattern, parseMs) => {
    const matches = new Ajv().compile({ type: 'string', pattern });
    fc.assert(
      fc.property(text, (t) => {
        expect(matches(t), JSON.stringify(t)).toBe(parses(parseMs, t));
      }),
      { seed, numRuns },
    );
  });
});

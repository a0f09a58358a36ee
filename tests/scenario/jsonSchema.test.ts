/**
 * The scenario JSON Schema as an editor or the ajv CLI uses it (issue 14): the default Ajv
 * (draft-07, strict) loads it, every shipped scenario passes it, and the mistakes the loader
 * refuses that a schema can say are refused by it too.
 */
import { Ajv } from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { scenarioJsonSchema } from '../../sim/scenario.js';

const root = join(import.meta.dirname, '../..');
const examples = join(root, 'sim/scenarios/examples');
const shipped = [
  join(root, 'sim/scenarios/default.yaml'),
  ...readdirSync(examples)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(examples, f)),
];
const small = readFileSync(join(root, 'tests/fixtures/cli/small.yaml'), 'utf8');

const validate = new Ajv().compile(scenarioJsonSchema() as object);
const valid = (text: string) => validate(parse(text));

describe('the scenario JSON Schema', () => {
  it("loads without a warning of Ajv's strict mode", () => {
    const warnings: unknown[] = [];
    const logger = { log: () => {}, warn: (...m: unknown[]) => warnings.push(m), error: () => {} };
    new Ajv({ logger }).compile(scenarioJsonSchema() as object);
    expect(warnings).toEqual([]);
  });

  it('loads in the default Ajv and passes every shipped scenario', () => {
    expect(shipped.length).toBeGreaterThan(5);
    for (const file of shipped)
      expect(valid(readFileSync(file, 'utf8')), `${file}: ${JSON.stringify(validate.errors)}`).toBe(
        true,
      );
  });

  it.each([
    ['a dose that is not a quantity', ['dose: 1 mg/day', 'dose: banana']],
    ['a dose per hour', ['dose: 1 mg/day', 'dose: 1 mg/h']],
    ['a negative volume', ['volume: 10 mL', 'volume: -5 mL']],
    ['a negative number of boluses a day', ['maxPer24h: 4', 'maxPer24h: -4']],
    ['more boluses a day than the pump allows', ['maxPer24h: 4', 'maxPer24h: 49']],
    ['a timeline event with no action', ['{ at: 1d 08:00, press: {} }', '{ at: 1d 08:00 }']],
    ['a timeline event with two actions', ['press: {} }', 'press: {}, stop: {} }']],
  ])('refuses %s', (_kind, [from, to]) => {
    // The situation: the file is valid until that one change.
    expect(valid(small)).toBe(true);
    expect(small).toContain(from);
    expect(valid(small.replace(from!, to!))).toBe(false);
  });
});

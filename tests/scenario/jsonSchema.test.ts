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
import { parseScenario, scenarioJsonSchema } from '../../sim/scenario.js';

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

  it.each([
    ['a zero duration', ['duration: 2d', 'duration: 0 ms']],
    ['a zero duration written as a sum', ['duration: 2d', 'duration: 0 h 0.000 min']],
    ['a volume too large for the loader', ['volume: 10 mL', 'volume: 10000000000 mL']],
    ['a run duration too large for the loader', ['duration: 2d', 'duration: 99999999999 d']],
  ])('refuses %s, as the loader does', (_kind, [from, to]) => {
    expect(valid(small), JSON.stringify(validate.errors)).toBe(true);
    expect(small).toContain(from);
    const changed = small.replace(from!, to!);
    expect(() => parseScenario(changed, 'bad.yaml')).toThrow();
    expect(valid(changed)).toBe(false);
  });

  it('takes a nonzero duration in any form the loader takes', () => {
    for (const d of ['1 ms', '0.001 s', '0 h 30 min', '0.5 h', '1d 2h', '00 d 1 ms']) {
      const text = small.replace('duration: 2d', `duration: ${d}`);
      expect(() => parseScenario(text, 'ok.yaml'), d).not.toThrow();
      expect(valid(text), `${d}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it('says in the description of a duration with a limit the pattern cannot state that the schema does not check it', () => {
    const schema = scenarioJsonSchema() as {
      properties: Record<
        string,
        { description: string; properties?: Record<string, { description: string }> }
      >;
    };
    expect(schema.properties.duration!.description).toMatch(
      /10-year limit is checked by `itpump validate`/,
    );
    expect(schema.properties.ptm!.properties!.lockout!.description).toMatch(
      /at most 24 h\. The JSON Schema checks only the form of this field/,
    );
  });

  // Percentages, lengths and factors take a number or a string; the string must read as one.
  const withSections = `${small}
motor: { strokeVolumeError: "-2.4 %" }
catheter: { length: 100 cm }
`;
  it.each([
    [
      'a stroke error that is not a percentage',
      ['strokeVolumeError: "-2.4 %"', 'strokeVolumeError: banana'],
    ],
    ['a catheter length in metres', ['length: 100 cm', 'length: 1 m']],
    ['a catheter length with a fraction of a cm', ['length: 100 cm', 'length: 100.5 cm']],
  ])('refuses %s, as the loader does', (_kind, [from, to]) => {
    expect(valid(withSections), JSON.stringify(validate.errors)).toBe(true);
    expect(() => parseScenario(withSections, 'ok.yaml')).not.toThrow();
    const changed = withSections.replace(from!, to!);
    expect(changed).not.toBe(withSections);
    expect(valid(changed)).toBe(false);
    expect(() => parseScenario(changed, 'bad.yaml')).toThrow();
  });

  it('takes the factor of a dose-rate increase as a number, "×1.5", "1.5x" or "150 %", and not as a word', () => {
    for (const factor of ['1.5', '"×1.5"', '1.5x', '"150 %"']) {
      const text = `${small}\npump: { doseRateIncreaseLimit: ${factor} }\n`;
      expect(valid(text), `${factor}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(() => parseScenario(text, 'ok.yaml')).not.toThrow();
    }
    const bad = `${small}\npump: { doseRateIncreaseLimit: fast }\n`;
    expect(valid(bad)).toBe(false);
    expect(() => parseScenario(bad, 'bad.yaml')).toThrow();
  });
});

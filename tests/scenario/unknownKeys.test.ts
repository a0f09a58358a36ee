/**
 * An unknown key is reported in one line at its object's path, with the object as written when
 * it is short and only the unknown keys when it is not (at the top level the object is the
 * whole file, issue 14), and the keys that object takes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../sim/scenario.js';

const root = new URL('../..', import.meta.url).pathname;
const small = readFileSync(join(root, 'tests/fixtures/cli/small.yaml'), 'utf8');

const messageOf = (text: string): string => {
  try {
    parseScenario(text, 'bad.yaml');
  } catch (e) {
    return (e as Error).message;
  }
  return expect.fail('the scenario loaded');
};

describe('an unknown key', () => {
  it('at the top level: the unknown key and its value, not the whole file', () => {
    // The situation: the file is far longer than a line, and loads without the stray key.
    expect(() => parseScenario(small, 'ok.yaml')).not.toThrow();
    expect(JSON.stringify(parseScenario(small, 'ok.yaml')).length).toBeGreaterThan(200);
    const message = messageOf(`${small}pumpp: { strokeVolume: 0.5 uL }\n`);
    expect(message).toMatch(
      /^bad\.yaml: \(top level\): \{"pumpp":\{"strokeVolume":"0\.5 uL"\}\}: unknown key "pumpp"; the keys here are name, /,
    );
    expect(message.split('\n')).toHaveLength(1);
    expect(message).not.toContain('"name"');
  });

  it('in a short object: the object as written, for its context', () => {
    const message = messageOf(
      small.replace('timeline:\n', 'timeline:\n  - { at: 1d, frobnicate: {} }\n'),
    );
    expect(message).toMatch(
      /^bad\.yaml: timeline\[0\]: \{"at":"1d","frobnicate":\{\}\}: unknown key "frobnicate"/,
    );
  });
});

/**
 * Every scenario field says what it is in the JSON Schema an editor shows (issue 14): each
 * property, wherever it is (sections, list items, union branches, timeline actions), has a
 * description and an example.
 */
import { describe, expect, it } from 'vitest';
import { scenarioJsonSchema } from '../../sim/scenario.js';

type Node = Record<string, unknown>;

/** Every property of every object in the schema, by its path, with its schema. */
function properties(node: unknown, path: string, out: [string, Node][] = []): [string, Node][] {
  if (typeof node !== 'object' || node === null) return out;
  const n = node as Node;
  for (const [key, value] of Object.entries((n.properties ?? {}) as Record<string, Node>)) {
    out.push([`${path}${path ? '.' : ''}${key}`, value]);
    properties(value, `${path}${path ? '.' : ''}${key}`, out);
  }
  const items = n.items;
  if (Array.isArray(items)) items.forEach((item, i) => properties(item, `${path}[${i}]`, out));
  else properties(items, `${path}[]`, out);
  for (const keyword of ['anyOf', 'oneOf', 'allOf'])
    for (const branch of (n[keyword] ?? []) as unknown[]) properties(branch, path, out);
  return out;
}

describe('the scenario JSON Schema describes every field', () => {
  const all = properties(scenarioJsonSchema(), '');

  it('walks the whole schema: sections, list items, union branches and timeline actions', () => {
    const paths = all.map(([p]) => p);
    expect(paths).toEqual(
      expect.arrayContaining([
        'pump.strokeVolume',
        'initialFill.mixture[].concentration',
        'prescription.steps[].at',
        'timeline[].setClock.to',
        'timeline[].program.ptm.lockout',
        'drugLibrary.drugs[].bolusHardMax',
        'demand.pressesPerEpisode',
      ]),
    );
    expect(all.length).toBeGreaterThan(80);
  });

  it('gives each property a description', () => {
    const missing = all.filter(
      ([, s]) => !(typeof s.description === 'string' && s.description.trim()),
    );
    expect(missing.map(([p]) => p)).toEqual([]);
  });

  it('gives each property an example, or fields that each have one', () => {
    const exemplified = (s: Node): boolean =>
      (Array.isArray(s.examples) && s.examples.length > 0) ||
      s.default !== undefined ||
      (Object.keys((s.properties ?? {}) as object).length > 0 &&
        Object.values(s.properties as Record<string, Node>).every(exemplified));
    const missing = all.filter(([, s]) => !exemplified(s));
    expect(missing.map(([p]) => p)).toEqual([]);
  });
});

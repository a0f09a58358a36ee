/**
 * docs/scenarios.md, the scenario reference (issue 14): its generated part is what
 * sim/scenarioDocs.ts makes of the schema today, so it cannot go stale; it names every key and
 * action; and each timeline example in it loads.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario, timelineActions } from '../../sim/scenario.js';
import {
  generatedMarker,
  scenarioDocCommand,
  scenarioDocMarkdown,
  scenarioDocPath,
} from '../../sim/scenarioDocs.js';

const root = join(import.meta.dirname, '../..');
const committed = readFileSync(join(root, scenarioDocPath), 'utf8');
const small = readFileSync(join(root, 'tests/fixtures/cli/small.yaml'), 'utf8');

describe(scenarioDocPath, () => {
  it('is what the schema generates (a hand-written part above the marker, the reference below)', () => {
    expect(committed).toContain(generatedMarker);
    const generated = scenarioDocMarkdown(committed);
    if (generated !== committed) {
      const a = committed.split('\n');
      const b = generated.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      expect.fail(
        `${scenarioDocPath} is stale (first difference at line ${line + 1}: ${JSON.stringify(a[line])} should be ${JSON.stringify(b[line])}): run \`${scenarioDocCommand}\` and commit it`,
      );
    }
  });

  it('has a heading for every timeline action and a row for each of setClock’s keys', () => {
    for (const action of timelineActions) expect(committed).toContain(`#### \`${action}\``);
    for (const key of ['shift', 'back', 'to'])
      expect(committed).toMatch(new RegExp(`^\\| \`${key}\` \\|`, 'm'));
  });

  const reference = committed.slice(committed.indexOf(generatedMarker));
  const events = [...reference.matchAll(/^```yaml\n(- \{ at: .*)\n```$/gm)].map((m) => m[1]!);

  it('shows an example event for every action', () => {
    expect(events).toHaveLength(timelineActions.length);
  });

  it('starts with the scenario of the README’s quick start, which loads', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const firstYaml = (text: string) => /```yaml\n([\s\S]*?)```/.exec(text)?.[1];
    const quickStart = firstYaml(readme.slice(readme.indexOf('## Quick start')));
    expect(quickStart).toBeDefined();
    expect(firstYaml(committed)).toBe(quickStart);
    expect(parseScenario(quickStart!, 'first.yaml').name).toBe('first');
  });

  it.each(events)('%s loads', (event) => {
    const action = /^- \{ at: [^,]+, (\w+):/.exec(event)![1]!;
    const text = small.replace('  - { at: 1d 08:00, press: {} }', `  ${event}`);
    const loaded = parseScenario(text, 'example.yaml');
    expect(loaded.timeline).toHaveLength(1);
    expect(loaded.timeline[0]![action as keyof (typeof loaded.timeline)[0]]).toBeDefined();
  });
});

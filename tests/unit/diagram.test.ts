/**
 * The statechart diagram: docs/statechart.md must be what sim/diagram.ts generates from the machine
 * today (a stale committed copy fails with the command that refreshes it), and the generator must
 * show every state, initial state, guard and eventless transition of a machine.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { and, createMachine, not, setup, type AnyStateNode } from 'xstate';
import { describe, expect, it } from 'vitest';
import { pumpMachine } from '../../src/machine.js';
import {
  compoundInternals,
  diagramCommand,
  guardName,
  statechartDocPath,
  statechartMarkdown,
  statechartMermaid,
} from '../../sim/diagram.js';

const docFile = fileURLToPath(new URL(`../../${statechartDocPath}`, import.meta.url));

function nodes(n: AnyStateNode): AnyStateNode[] {
  return [n, ...Object.values(n.states).flatMap((c) => nodes(c as AnyStateNode))];
}

describe('docs/statechart.md', () => {
  it('is up to date with src/machine.ts', () => {
    let committed = '';
    try {
      committed = readFileSync(docFile, 'utf8');
    } catch {
      expect.fail(`${statechartDocPath} is missing: run \`${diagramCommand}\` and commit it`);
    }
    const fresh = statechartMarkdown();
    if (committed !== fresh) {
      const a = committed.split('\n');
      const b = fresh.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      expect.fail(
        `${statechartDocPath} is stale (first difference at line ${line + 1}: ${JSON.stringify(a[line])} should be ${JSON.stringify(b[line])}): run \`${diagramCommand}\` and commit it`,
      );
    }
  });
});

describe('statechartMermaid on the pump machine', () => {
  const text = statechartMermaid();
  const all = nodes(pumpMachine.root);

  it('is deterministic', () => {
    expect(statechartMermaid()).toBe(text);
    expect(statechartMarkdown()).toBe(statechartMarkdown());
  });

  it('declares every state of the machine once', () => {
    for (const n of all) {
      const declared = text
        .split('\n')
        .filter((l) => new RegExp(`^\\s*state (${n.key}|"${n.key}" as \\S+)( \\{)?$`).test(l));
      expect(declared, n.id).toHaveLength(1);
    }
  });

  it('marks the initial state of every compound state, and every region of the parallel root', () => {
    for (const n of all.filter((x) => x.type === 'compound')) {
      expect(text, n.id).toContain(`[*] --> ${n.initial.target[0]!.key}`);
    }
    for (const region of Object.keys(pumpMachine.root.states))
      expect(text).toContain(`[*] --> ${region}`);
    expect(text.split('\n').filter((l) => l.trim() === '--')).toHaveLength(
      Object.keys(pumpMachine.root.states).length - 1,
    );
  });

  it('labels every targeted transition with its event, guard and actions', () => {
    expect(text).toContain(
      'basal --> patientBolus : hal.button.pressed [pressGranted] / grantPress',
    );
    expect(text).toContain('startup --> stopped : boot [else] / boot');
    expect(text).toContain(
      'running --> stalled : hal.motor.batchEnded [currentBatchStalled] / recordStall',
    );
    let edges = 0;
    for (const n of all)
      for (const [, list] of n.transitions) edges += list.filter((t) => t.target?.length).length;
    for (const n of all) edges += (n.always ?? []).filter((t) => t.target?.length).length;
    expect(text.split('\n').filter((l) => / --> /.test(l) && !l.includes('[*]'))).toHaveLength(
      edges,
    );
  });

  it('labels every eventless transition [always: guard]', () => {
    for (const n of all) {
      for (const t of n.always ?? []) {
        expect(t.guard, n.id).toBeDefined();
        expect(text).toContain(
          `${n.key} --> ${t.target![0]!.key} : [always: ${guardName(t.guard)}]`,
        );
      }
    }
    expect(text).toContain('infusing --> minimumRate : [always: criticalAlarm] / logMinimumRate');
  });

  it('names every guard the machine uses', () => {
    const guards = new Set<string>();
    for (const n of all) {
      for (const [, list] of n.transitions)
        for (const t of list) if (t.guard) guards.add(guardName(t.guard));
      for (const t of n.always ?? []) if (t.guard) guards.add(guardName(t.guard));
    }
    expect(guards.size).toBeGreaterThan(10);
    for (const g of guards) expect(text, g).toContain(`${g}]`);
  });

  it('lists what compound states do without leaving them', () => {
    const rows = compoundInternals();
    expect(rows).toContainEqual(['therapy', 'cmd.program / program']);
    expect(rows).toContainEqual(['therapy.infusing', 'entry / enterMode(basal)']);
    expect(rows).toContainEqual(['motor', 'hal.clock.wake / wake']);
    const doc = statechartMarkdown();
    for (const [state, line] of rows) expect(doc).toContain(`| ${state} | \`${line}\` |`);
  });
});

describe('statechartMermaid on a small machine', () => {
  it('renders parallel regions, initial states, aliases for repeated keys, else, always and transitions across boxes', () => {
    const machine = setup({
      types: { events: {} as { type: 'go' } | { type: 'tick' } },
      guards: { ready: () => true, late: () => false },
      actions: { start: () => {}, note: () => {} },
    }).createMachine({
      id: 'm',
      type: 'parallel',
      states: {
        a: {
          initial: 'idle',
          on: { tick: { actions: 'note' } },
          states: {
            idle: {
              on: {
                go: [{ guard: 'ready', target: 'busy', actions: 'start' }, { target: 'idle' }],
              },
            },
            busy: { entry: 'note', always: { guard: and(['ready', not('late')]), target: 'idle' } },
          },
        },
        b: {
          initial: 'idle',
          states: {
            idle: { always: { target: 'end' }, on: { go: { target: 'end.deep' } } },
            end: {
              initial: 'shallow',
              states: { shallow: { on: { tick: { target: '#m.b.idle' } } }, deep: {} },
            },
          },
        },
      },
    });
    expect(statechartMermaid(machine)).toBe(
      [
        'stateDiagram-v2',
        '  [*] --> m',
        '  state m {',
        '    [*] --> a',
        '    state a {',
        '      [*] --> m_a_idle',
        '      state "idle" as m_a_idle',
        '      state "busy" as busy',
        '      busy : entry / note',
        '      m_a_idle --> busy : go [ready] / start',
        '      m_a_idle --> m_a_idle : go [else]',
        '      busy --> m_a_idle : [always: ready && !late]',
        '    }',
        '    --',
        '    [*] --> b',
        '    state b {',
        '      [*] --> m_b_idle',
        '      state "idle" as m_b_idle',
        '      state "end" as m_b_end {',
        '        [*] --> shallow',
        '        state shallow',
        '        state deep',
        '      }',
        '      m_b_idle --> m_b_end : go (into deep)',
        '      m_b_idle --> m_b_end : [always]',
        '      m_b_end --> m_b_idle : (from shallow) tick',
        '    }',
        '  }',
        '',
      ].join('\n'),
    );
    expect(compoundInternals(machine)).toEqual([['a', 'tick / note']]);
  });

  it('names inline guards and actions without failing', () => {
    const machine = createMachine({
      id: 'x',
      initial: 'p',
      states: { p: { on: { e: { guard: () => true, target: 'q', actions: () => {} } } }, q: {} },
    });
    expect(statechartMermaid(machine)).toContain('p --> q : e [guard] / actions');
  });
});

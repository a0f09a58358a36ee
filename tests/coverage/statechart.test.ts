/**
 * Statechart coverage of the real `pumpMachine` (src/machine.ts) with `xstate/graph`.
 *
 * Method (testing/statechart.ts, docs/testing.md): the state nodes and transition definitions are
 * read from the machine itself; `getAdjacencyMap` explores it breadth first with representative
 * events built from each snapshot (each carrying `nowMs`), over an abstraction of the context that
 * keeps the graph finite; every edge that could still take an untaken transition is replayed on an
 * actor restored from its source snapshot, and `inspect` names the transitions it takes. Every
 * state node must be active somewhere and every transition taken at least once.
 * The last test breaks a guard and checks that the report then names exactly what became
 * unreachable: the check fails when a state or transition stops being reachable.
 */
import { describe, expect, it } from 'vitest';
import { pumpMachine } from '../../src/machine.js';
import { pumpStatechartCoverage, statechartInventory } from '../../testing/statechart.js';

/** A node of the machine's configuration object, as src/machine.ts writes it. */
interface ConfigNode {
  on?: Record<string, unknown>;
  always?: unknown;
  states?: Record<string, ConfigNode>;
}

describe('statechart coverage of pumpMachine (xstate/graph)', () => {
  // Computed inside the first test that needs it (not at collection), so the work is a test's.
  let computed: ReturnType<typeof pumpStatechartCoverage> | undefined;
  const report = () => (computed ??= pumpStatechartCoverage());

  it('inventories the machine: every state node and transition is counted from its definition', () => {
    const { stateIds, transitions } = statechartInventory(pumpMachine);
    // The state tree of src/machine.ts (its header and docs/statechart.md), written out by hand:
    // a state removed, renamed or left out of the inventory changes this list.
    const expectedStates = [
      'pump',
      'pump.therapy',
      'pump.therapy.startup',
      'pump.therapy.stopped',
      'pump.therapy.infusing',
      'pump.therapy.infusing.basal',
      'pump.therapy.infusing.patientBolus',
      'pump.therapy.infusing.clinicianBolus',
      'pump.therapy.infusing.primingBolus',
      'pump.therapy.minimumRate',
      'pump.therapy.halted',
      'pump.motor',
      'pump.motor.idle',
      'pump.motor.running',
      'pump.motor.stopping',
      'pump.motor.stalled',
      'pump.drugPath',
      'pump.drugPath.unbridged',
      'pump.drugPath.bridging',
      'pump.drugPath.bridging.flowing',
      'pump.drugPath.bridging.waiting',
    ];
    expect([...stateIds].sort()).toEqual([...expectedStates].sort());
    expect(report().statesTotal).toBe(expectedStates.length);
    // The transitions, counted here from the raw configuration object (not through xstate's state
    // nodes, as the inventory does): per state and event, one per handler of `on` and per branch of
    // `always`. A handler the inventory missed, or counted twice, changes one of these counts.
    const fromConfig = new Map<string, number>();
    const walk = (id: string, node: ConfigNode) => {
      const count = (event: string, h: unknown) =>
        fromConfig.set(`${id} on ${event}`, Array.isArray(h) ? h.length : 1);
      for (const [event, h] of Object.entries(node.on ?? {})) count(event, h);
      if (node.always !== undefined) count('always', node.always);
      for (const [key, child] of Object.entries(node.states ?? {})) walk(`${id}.${key}`, child);
    };
    walk(pumpMachine.config.id!, pumpMachine.config as ConfigNode);
    const fromInventory = new Map<string, number>();
    for (const t of transitions) {
      const key = `${t.source} on ${t.event}`;
      fromInventory.set(key, (fromInventory.get(key) ?? 0) + 1);
    }
    expect(Object.fromEntries([...fromInventory].sort())).toEqual(
      Object.fromEntries([...fromConfig].sort()),
    );
    const configTotal = [...fromConfig.values()].reduce((a, b) => a + b, 0);
    expect(report().transitionsTotal).toBe(configTotal);
    // Eventless branches are where guarded transitions hide: they must be in the inventory too.
    expect(fromConfig.get('pump.drugPath.bridging.flowing on always')).toBe(2);
  });

  it('reaches every state node', () => {
    expect(report().missingStates).toEqual([]);
  });

  it('takes every transition, guarded branches and `always` included', () => {
    expect(report().missingTransitions).toEqual([]);
  });

  it('reports the states and transitions that become unreachable when a guard breaks', () => {
    // A motor that is never told strokes are due never runs: its other states are unreachable.
    const broken = pumpMachine.provide({ guards: { strokesDue: () => false } });
    const r = pumpStatechartCoverage(broken);
    expect(r.missingStates).toEqual([
      'pump.motor.running',
      'pump.motor.stopping',
      'pump.motor.stalled',
    ]);
    expect(r.missingTransitions).toEqual(
      expect.arrayContaining([
        'pump.motor.idle on motor.replan #0 [strokesDue] → running',
        'pump.motor.running on hal.motor.batchEnded #0 [currentBatchStalled] → stalled',
        'pump.motor.stalled on motor.replan #1 [stallRetryDue] → idle',
      ]),
    );
  });
});

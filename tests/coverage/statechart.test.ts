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

describe('statechart coverage of pumpMachine (xstate/graph)', () => {
  // Computed inside the first test that needs it (not at collection), so the work is a test's.
  let computed: ReturnType<typeof pumpStatechartCoverage> | undefined;
  const report = () => (computed ??= pumpStatechartCoverage());

  it('inventories the machine: every state node and transition is counted from its definition', () => {
    const { stateIds, transitions } = statechartInventory(pumpMachine);
    expect(report().statesTotal).toBe(stateIds.length);
    expect(report().transitionsTotal).toBe(transitions.length);
    expect(stateIds).toContain('pump.therapy.infusing.patientBolus');
    expect(transitions.some((t) => t.event === 'always')).toBe(true);
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
        'pump.motor.idle on always #0 [strokesDue] → running',
        'pump.motor.stalled on always #0 [stallRetryDue] → idle',
      ]),
    );
    // Without strokes the reservoir alarms cannot come either: the report says so too.
    expect(r.missingTransitions).toContain(
      'pump.alarms.nonCritical on always #0 [criticalAlarm] → critical',
    );
  });
});

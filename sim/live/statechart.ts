/**
 * The statechart's regions and states as the live page draws them, read off the machine itself
 * (`pumpMachine.root`, like sim/diagram.ts), so the page cannot drift from src/machine.ts: one box
 * per state in each parallel region, nested states inside their parent, and per state the events
 * that leave it (shown on hover). The page lights the box whose path is the region's active state
 * (`Controller.regions`).
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { pumpMachine } from '../../src/machine.js';

export interface ChartState {
  /** Path inside the region, as `Controller.regions` gives it: `infusing.basal`. */
  path: string;
  name: string;
  depth: number;
  compound: boolean;
  /** The events that leave the state (or one of its children's, for a compound). */
  events: string[];
}

export interface ChartRegion {
  name: string;
  states: ChartState[];
}

function statesOf(node: AnyStateNode, prefix: string, depth: number): ChartState[] {
  const out: ChartState[] = [];
  for (const [name, child] of Object.entries(node.states)) {
    const path = prefix === '' ? name : `${prefix}.${name}`;
    const events = [
      ...new Set([...child.transitions.keys()].filter((e) => !e.startsWith('xstate.'))),
    ];
    const compound = Object.keys(child.states).length > 0;
    out.push({ path, name, depth, compound, events });
    if (compound) out.push(...statesOf(child, path, depth + 1));
  }
  return out;
}

export function chartRegions(machine: AnyStateMachine = pumpMachine): ChartRegion[] {
  return Object.entries(machine.root.states).map(([name, region]) => ({
    name,
    states: statesOf(region, '', 0),
  }));
}

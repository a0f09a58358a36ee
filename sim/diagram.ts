/**
 * The statechart as a Mermaid `stateDiagram-v2`, generated from the machine definition itself.
 *
 * Rules:
 * - The diagram is read off the XState state nodes (`machine.root`): parallel regions, compound
 *   states with their initial state, targeted transitions as edges labelled `event [guard] / actions`,
 *   eventless `always` transitions as `[always: guard]`, and what does not change state (entry and
 *   exit actions, targetless transitions) written inside the state's box, or for a compound state
 *   in a table under the diagram. Nothing is hand-written, so the picture cannot drift from src/machine.ts.
 * - Output is deterministic: it follows the definition's own order (state keys, then events in the
 *   order they were declared), with no timestamps, so a committed copy can be compared byte for byte
 *   (tests/unit/diagram.test.ts fails when docs/statechart.md is stale).
 * - This module only reads the machine; it knows nothing of the pump's context or of the HAL.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { pumpMachine } from '../src/machine.js';

/** Where the generated document lives, from the repository root. */
export const statechartDocPath = 'docs/statechart.md';
/** The command that regenerates it (the npm script runs scripts/diagram.ts). */
export const diagramCommand = 'npm run diagram';

type Transition = AnyStateNode['always'] extends (infer T)[] | undefined ? T : never;

/** Mermaid words that cannot be a bare state id. */
const reserved = new Set([
  'state',
  'note',
  'end',
  'as',
  'direction',
  'classdef',
  'class',
  'style',
  'click',
  'left',
  'right',
  'of',
]);

/** A guard as it is named in `setup()`; combinators from xstate (`not`, `and`, `or`) spelled out. */
export function guardName(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const inner = (guard as { guards?: unknown[] }).guards;
    if (Array.isArray(inner)) {
      if (guard.name === 'not') return `!${guardName(inner[0])}`;
      return inner.map(guardName).join(guard.name === 'or' ? ' || ' : ' && ');
    }
    return guard.name || 'inline';
  }
  if (typeof guard === 'object' && guard !== null && 'type' in guard)
    return String((guard as { type: unknown }).type);
  return 'inline';
}

/** An action as it is named in `setup()` (inline actions have no name worth showing). */
export function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  if (typeof action === 'object' && action !== null && 'type' in action) {
    const { type, params } = action as { type: unknown; params?: unknown };
    // A parameterised action, `{ type, params }`: its parameters after the name.
    return typeof params === 'object' && params !== null
      ? `${String(type)}(${Object.values(params).map(String).join(', ')})`
      : String(type);
  }
  if (typeof action === 'function') return action.name || 'inline';
  return 'inline';
}

/** Mermaid cuts a label at `#` or `;` and breaks on newlines; keep labels to one clean line. */
function clean(text: string): string {
  return text
    .replace(/[#;\n]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function withActions(label: string, actions: readonly unknown[]): string {
  const names = actions.map(actionName);
  return clean(names.length > 0 ? `${label} / ${names.join(', ')}` : label);
}

/**
 * Labels of one node's transitions, in declaration order. An unguarded transition after guarded ones
 * for the same event is the fallback XState takes when no guard holds, so it is marked `[else]`.
 */
function labelled(node: AnyStateNode): { t: Transition; label: string }[] {
  const out: { t: Transition; label: string }[] = [];
  for (const [eventType, list] of node.transitions) {
    list.forEach((t, i) => {
      const condition =
        t.guard !== undefined
          ? ` [${guardName(t.guard)}]`
          : i > 0 && list.slice(0, i).some((p) => p.guard !== undefined)
            ? ' [else]'
            : '';
      out.push({ t, label: withActions(`${eventType}${condition}`, t.actions) });
    });
  }
  const always = node.always ?? [];
  always.forEach((t, i) => {
    const condition =
      t.guard !== undefined
        ? `: ${guardName(t.guard)}`
        : i > 0 && always.slice(0, i).some((p) => p.guard !== undefined)
          ? ': else'
          : '';
    out.push({ t, label: withActions(`[always${condition}]`, t.actions) });
  });
  return out;
}

function children(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states) as AnyStateNode[];
}

function allNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...children(node).flatMap(allNodes)];
}

/**
 * Mermaid ids are global, XState keys are unique only among siblings: a key that is unique in the
 * whole machine (and not a Mermaid keyword) is its own id; otherwise the id is its path, joined
 * with `_`, and the box is labelled with the key.
 */
function idsOf(root: AnyStateNode): Map<AnyStateNode, { id: string; alias: boolean }> {
  const nodes = allNodes(root);
  const count = new Map<string, number>();
  for (const n of nodes) count.set(n.key, (count.get(n.key) ?? 0) + 1);
  const ids = new Map<AnyStateNode, { id: string; alias: boolean }>();
  for (const n of nodes) {
    const plain =
      /^[A-Za-z][A-Za-z0-9_]*$/.test(n.key) &&
      !reserved.has(n.key.toLowerCase()) &&
      count.get(n.key) === 1;
    ids.set(
      n,
      plain
        ? { id: n.key, alias: false }
        : {
            id:
              n.path.length === 0
                ? 'root'
                : `${root.key}_${n.path.join('_')}`.replace(/[^A-Za-z0-9_]/g, '_'),
            alias: true,
          },
    );
  }
  return ids;
}

/** The ancestor of a node (or the node itself) whose path has `depth` keys. */
function ancestorAt(node: AnyStateNode, depth: number): AnyStateNode {
  let n = node;
  while (n.path.length > depth) n = n.parent!;
  return n;
}

/** What happens in a state without leaving it: entry/exit actions and targetless transitions. */
function internals(node: AnyStateNode): string[] {
  const lines: string[] = [];
  if (node.entry.length > 0) lines.push(withActions('entry', node.entry));
  if (node.exit.length > 0) lines.push(withActions('exit', node.exit));
  for (const { t, label } of labelled(node))
    if (t.target === undefined || t.target.length === 0) lines.push(label);
  return lines;
}

/** The Mermaid `stateDiagram-v2` source of a machine (without the Markdown fence). */
export function statechartMermaid(machine: AnyStateMachine = pumpMachine): string {
  const root = machine.root;
  const ids = idsOf(root);
  const idOf = (n: AnyStateNode) => ids.get(n)!.id;
  const lines: string[] = ['stateDiagram-v2'];
  const out = (depth: number, text: string) => lines.push(`${'  '.repeat(depth)}${text}`);

  // Mermaid draws an edge only between states declared in the same block: an edge to a state nested
  // elsewhere would pull that state out of its box. So each transition is drawn between the two
  // states that are children of the source's and target's closest common ancestor (the box it
  // belongs in), and its label names the deeper source (`from …`) or target (`into …`).
  const scoped = new Map<AnyStateNode | undefined, string[]>();
  for (const node of allNodes(root)) {
    for (const { t, label } of labelled(node)) {
      for (const target of t.target ?? []) {
        const a = node.path;
        const b = target.path;
        let common = 0;
        while (common < a.length && common < b.length && a[common] === b[common]) common++;
        const k = Math.min(common, a.length - 1, b.length - 1);
        const [scope, from, to] =
          k < 0
            ? [undefined, root, root]
            : [ancestorAt(node, k), ancestorAt(node, k + 1), ancestorAt(target, k + 1)];
        const fromRest = a.slice(k + 1).join('.');
        const intoRest = b.slice(k + 1).join('.');
        const text = clean(
          `${fromRest ? `(from ${fromRest}) ` : ''}${label}${intoRest ? ` (into ${intoRest})` : ''}`,
        );
        const list = scoped.get(scope) ?? [];
        list.push(`${idOf(from)} --> ${idOf(to)} : ${text}`);
        scoped.set(scope, list);
      }
    }
  }

  const declare = (node: AnyStateNode, depth: number): void => {
    const { id, alias } = ids.get(node)!;
    const head = alias ? `state "${node.key}" as ${id}` : `state ${id}`;
    const kids = children(node);
    if (kids.length === 0) {
      // Mermaid shows a state's first description as its title, so the key is written first.
      const lines = internals(node);
      out(depth, lines.length > 0 && !alias ? `state "${node.key}" as ${id}` : head);
      for (const line of lines) out(depth, `${id} : ${line}`);
      return;
    }
    out(depth, `${head} {`);
    if (node.type === 'parallel') {
      // Every region is entered with the parallel state, so each gets its own initial arrow (this
      // also keeps Mermaid's layout from failing on a cluster with no edge into it).
      kids.forEach((kid, i) => {
        if (i > 0) out(depth + 1, '--');
        out(depth + 1, `[*] --> ${idOf(kid)}`);
        declare(kid, depth + 1);
      });
    } else {
      for (const target of node.initial.target) out(depth + 1, `[*] --> ${idOf(target)}`);
      for (const kid of kids) declare(kid, depth + 1);
    }
    for (const edge of scoped.get(node) ?? []) out(depth + 1, edge);
    out(depth, '}');
  };

  out(1, `[*] --> ${idOf(root)}`);
  declare(root, 1);
  for (const edge of scoped.get(undefined) ?? []) out(1, edge);
  return lines.join('\n') + '\n';
}

/**
 * What happens in compound states without leaving them, as `[state path, line]` rows. Mermaid has
 * no room for these inside a cluster (its notes land far from the cluster they belong to), so the
 * document lists them in a table under the diagram.
 */
export function compoundInternals(machine: AnyStateMachine = pumpMachine): [string, string][] {
  return allNodes(machine.root)
    .filter((n) => children(n).length > 0)
    .flatMap((n) =>
      internals(n).map((line): [string, string] => [
        n.path.length === 0 ? n.key : n.path.join('.'),
        line,
      ]),
    );
}

/** The whole of docs/statechart.md: a short legend and the diagram. */
export function statechartMarkdown(machine: AnyStateMachine = pumpMachine): string {
  return `<!-- Generated from src/machine.ts by scripts/diagram.ts (\`${diagramCommand}\`). Do not edit by hand:
     tests/unit/diagram.test.ts fails when this file no longer matches the machine. -->
# The pump statechart

The controller's XState machine (\`pumpMachine\`, src/machine.ts), drawn from its definition. The
machine holds no logic of its own: every guard and action named here is declared in \`setup()\` and
calls a pure function of src/pump/ (see docs/architecture.md).

## Legend

| notation | meaning |
| --- | --- |
| regions split by a dashed line | parallel regions: therapy, motor and drugPath are all active at once |
| \`[*] -->\` | the initial state of a compound state |
| \`event [guard] / action, action\` | a transition taken on \`event\` when the named guard holds, running the named actions |
| \`(into state)\`, \`(from state)\` | a transition into (or out of) a state nested in the box the arrow ends at (or starts from) |
| \`[else]\` | the fallback for the same event when none of the guards before it holds (XState takes the first transition whose guard holds, in order) |
| \`[always: guard]\` | an eventless transition, taken as soon as the guard holds after any event |
| \`*\`, \`cmd.*\` | wildcard events: any event, any clinician command |
| lines under a state's name | what happens without leaving the state: \`entry / action\`, and transitions with no target (the action runs, the state stays); for compound states they are in the table below the diagram |

Events are the controller's: \`boot\`, clinician commands \`cmd.*\` and hardware events \`hal.*\`
(src/pump/types.ts). Time is never read by the machine: every event carries the monotonic time at
which the controller handles it, and deadlines (bolus ends, lockouts, stall retries, alarm tones)
are absolute times in context, woken by \`hal.clock.wake\`, not XState \`after\` timers.

**When the motor re-plans.** \`motor.replan\` is an internal event: every action that changes the
context raises it (the motor's own \`startBatch\` and \`stopBatch\` excepted), and so does \`wake\`,
since strokes fall due with time. XState handles a raised event only after every eventless
transition has settled, so the motor plans on the programme the whole event leaves: a bolus that
ended, a mode the alarms changed, a bridge paused, resumed or ended.

**Why an alarm rises and clears.** Alarms are not a region: they are the latched list in context,
shown as \`quiet\`, \`nonCritical\` or \`critical\` (\`alarmLevel\`, src/alarms.ts). They rise in the
actions that find their condition: \`recordBatch\` (low and empty reservoir), \`recordStall\` (the
last stall retry), \`memoryFailed\`, \`batteryChanged\` and \`boot\`, and \`refill\` for a fill at or below a
reservoir threshold. They clear only in \`clearAlarms\`, once their condition no
longer holds. A critical alarm takes \`infusing\` to \`minimumRate\` (\`[always: criticalAlarm]\`),
and clearing the last one takes \`minimumRate\` back to \`infusing\` or \`stopped\`.

\`\`\`mermaid
${statechartMermaid(machine)}\`\`\`

## Compound states: what happens without leaving them

| state | \`entry / action\`, or \`event [guard] / action\` with no target |
| --- | --- |
${compoundInternals(machine)
  .map(([state, line]) => `| ${state} | \`${line.replace(/\|/g, '\\|')}\` |`)
  .join('\n')}
`;
}

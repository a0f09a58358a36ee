/**
 * The layers of the brief, by their imports: src/ (the firmware) imports only src/ and the port
 * files of hal/ (hal/*.ts, not its drivers); hal/ imports nothing from sim/ or testing/; and the
 * world's truth (hal/sim/, sim/, testing/) counts strokes with its own clock (hal/sim/strokeClock.ts),
 * never with the firmware's planner arithmetic it is there to judge (issue 11). And no import
 * cycle anywhere, type-only imports included.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.isFile() && entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative module a file imports or re-exports, as a path from the repository root. */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  const re =
    /(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
  for (let m = re.exec(text); m; m = re.exec(text))
    found.push(
      relative(REPO, resolve(dirname(file), m[1] ?? m[2]!))
        .split('\\')
        .join('/'),
    );
  return found;
}

function violations(root: string, allowed: (target: string) => boolean): string[] {
  return tsFiles(join(REPO, root)).flatMap((file) =>
    relativeImports(file)
      .filter((target) => !allowed(target))
      .map((target) => `${relative(REPO, file)} imports ${target}`),
  );
}

describe('layers', () => {
  it('src/ imports only src/ and the port files of hal/', () => {
    const files = tsFiles(join(REPO, 'src'));
    // The situation: the core does import the ports.
    expect(files.flatMap(relativeImports).some((t) => /^hal\/[^/]+\.js$/.test(t))).toBe(true);
    expect(violations('src', (t) => t.startsWith('src/') || /^hal\/[^/]+\.js$/.test(t))).toEqual(
      [],
    );
  });

  it('hal/ imports nothing from sim/ or testing/', () => {
    expect(violations('hal', (t) => !t.startsWith('sim/') && !t.startsWith('testing/'))).toEqual(
      [],
    );
  });

  it("hal/sim/, sim/ and testing/ count strokes with the world's clock, not the firmware's", () => {
    // The firmware's stroke arithmetic, imported by name from its planner.
    const planner = /import\s*\{([^}]*)\}\s*from\s*['"][./]*\/src\/dosing\/delivery\.js['"]/g;
    const firmwareStrokeArithmetic = (file: string): string[] => {
      const text = readFileSync(file, 'utf8');
      const names: string[] = [];
      for (let m = planner.exec(text); m; m = planner.exec(text))
        for (const name of m[1]!.split(',').map((n) => n.trim()))
          if (name === 'strokesBy' || name === 'strokeTimeMs') names.push(name);
      return names.map((name) => `${relative(REPO, file)} imports ${name}`);
    };
    const truth = ['hal/sim', 'sim', 'testing'].flatMap((dir) => tsFiles(join(REPO, dir)));
    // The situation: the world's own clock is what they use, and the firmware still has its own.
    expect(truth.some((f) => relativeImports(f).includes('hal/sim/strokeClock.js'))).toBe(true);
    expect(readFileSync(join(REPO, 'src/dosing/delivery.ts'), 'utf8')).toContain(
      'export function strokesBy(',
    );
    expect(truth.flatMap(firmwareStrokeArithmetic)).toEqual([]);
  });

  it('no module imports itself through others (type-only imports count too)', () => {
    const roots = ['src', 'hal', 'sim', 'testing', 'bench', 'scripts', 'tests'];
    const files = roots.flatMap((dir) => tsFiles(join(REPO, dir)));
    const graph = new Map(
      files.map((f) => [
        relative(REPO, f).split('\\').join('/'),
        relativeImports(f).map((t) => t.replace(/\.js$/, '.ts')),
      ]),
    );
    // The situation: a graph with its layers' edges (the controller imports its statechart).
    expect(graph.get('src/controller.ts')).toContain('src/machine.ts');
    // The check itself finds a cycle planted in a copy of the graph.
    const planted = new Map(graph);
    planted.set('src/machine.ts', [...graph.get('src/machine.ts')!, 'src/controller.ts']);
    expect(importCycles(planted)).toContainEqual(
      expect.stringContaining('src/controller.ts -> src/machine.ts'),
    );
    expect(importCycles(graph)).toEqual([]);
  });
});

/** Every cycle of the import graph, once each, as "a -> b -> a" (depth-first, white-grey-black). */
function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'open')
        cycles.push([...stack.slice(stack.indexOf(next)), next].join(' -> '));
      else if (state.get(next) === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

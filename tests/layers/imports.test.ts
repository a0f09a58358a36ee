/**
 * The layers of the brief, by their imports: src/ (the firmware) imports only src/ and the port
 * files of hal/ (hal/*.ts, not its drivers); hal/ imports nothing from sim/ or testing/.
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
});

/**
 * How the CLI ends (sim/cliRun.ts): the world's faults in one line with exit 2, our own bugs in
 * one line naming the file that holds the trace, exit 1.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exitCodeOf, Interrupted } from '../../sim/cliRun.js';
import { describeSystemError, InputError } from '../../sim/inputError.js';

function systemError(code: string, syscall: string, path: string): Error {
  return Object.assign(new Error(`${code}: something, ${syscall} '${path}'`), {
    code,
    syscall,
    path,
    errno: -1,
  });
}

function stderrOf(run: () => number): { code: number; stderr: string } {
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: run(), stderr };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('exit codes', () => {
  it.each([
    ['ENOENT', 'open', 'in/missing.yaml', 'no such file or directory'],
    ['EEXIST', 'mkdir', 'out/x', 'already exists'],
    ['EACCES', 'open', '/root/secret.yaml', 'permission denied'],
    ['EISDIR', 'open', 'out', 'is a directory, not a file'],
    ['ENOTDIR', 'mkdir', 'blocker/sub', 'a part of the path is a file, not a directory'],
    ['EBUSY', 'open', '/dev/ttyUSB0', 'busy (in use by another process)'],
  ])('%s on a path: one line naming the path, exit 2', (code, syscall, path, phrase) => {
    const e = systemError(code, syscall, path);
    expect(describeSystemError(e as never)).toBe(
      `${path}: ${phrase} (${syscall} failed with ${code})`,
    );
    const r = stderrOf(() => exitCodeOf(e));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: ${path}: ${phrase} (${syscall} failed with ${code})\n`);
  });

  it('bad input: its message, exit 2; interrupted: exit 130', () => {
    expect(stderrOf(() => exitCodeOf(new InputError('a.yaml: dose: "x" is not a dose')))).toEqual({
      code: 2,
      stderr: 'error: a.yaml: dose: "x" is not a dose\n',
    });
    expect(stderrOf(() => exitCodeOf(new Interrupted('stopped at 3d')))).toEqual({
      code: 130,
      stderr: 'interrupted: stopped at 3d\n',
    });
  });

  it('an internal error: one line naming the file that holds its whole trace, exit 1', () => {
    const bug = new TypeError('cannot read properties of undefined (reading "x")');
    const r = stderrOf(() => exitCodeOf(bug));
    expect(r.code).toBe(1);
    const m =
      /^internal error: TypeError: cannot read properties of undefined \(reading "x"\) \(full trace in (\S+)\)\n$/.exec(
        r.stderr,
      );
    expect(m, r.stderr).not.toBeNull();
    const file = m![1]!;
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain(bug.stack!);
    rmSync(file);
  });
});

describe('help', () => {
  it('every command shows examples and exit codes, and marks its required options', async () => {
    const { buildCli } = await import('../../sim/cli.js');
    const leaves: import('commander').Command[] = [];
    const walk = (c: import('commander').Command) =>
      c.commands.length === 0 ? leaves.push(c) : c.commands.forEach(walk);
    walk(buildCli());
    // The situation: every command of the three families is here, some with required options.
    const names = leaves.map((c) => `${c.parent?.name()} ${c.name()}`);
    expect(names).toEqual(expect.arrayContaining(['itpump run', 'rig run', 'fleet merge']));
    const required = leaves.flatMap((c) => c.options.filter((o) => o.mandatory));
    expect(required.length).toBeGreaterThan(0);
    for (const o of required) expect(o.description, o.flags).toMatch(/\(required\)$/);
    for (const c of leaves) {
      let help = '';
      c.configureOutput({ writeOut: (s) => (help += s) });
      c.outputHelp();
      expect(help, c.name()).toContain('Examples:\n  $ itpump');
      expect(help, c.name()).toMatch(/Exit codes:\n\s+0/);
    }
  });
});

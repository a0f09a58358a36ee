/**
 * Bad input, and the operating system's errors on a path the user named, in the user's words.
 * Exit code 2 for both (sim/cliRun.ts); neither prints a stack trace: they are the world's faults.
 */
import { readFileSync } from 'node:fs';

/** Bad input: names the file, the field path, the value and what was expected. Exit code 2. */
export class InputError extends Error {
  override name = 'InputError';
}

/** Operating-system errors on a path, in the user's words. */
const osErrorPhrases: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EEXIST: 'already exists',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EBUSY: 'busy (in use by another process)',
  EROFS: 'on a read-only file system',
  ENOSPC: 'no space left on the device',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
};

export interface SystemError extends Error {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
}

/**
 * An OS error on a path, of a kind we can name (anything else is not the user's to fix). Node
 * leaves `path` off some (reading a directory: EISDIR); `pathKnown` says the caller has it.
 */
export function isSystemError(e: unknown, pathKnown = false): e is SystemError {
  return (
    e instanceof Error &&
    typeof (e as SystemError).code === 'string' &&
    (e as SystemError).code in osErrorPhrases &&
    (pathKnown || typeof (e as SystemError).path === 'string')
  );
}

/** One line for an OS error on a path: `out/x/summary.json: a part of the path is a file, …`. */
export function describeSystemError(e: SystemError, path = e.path): string {
  const verb = e.syscall ? ` (${e.syscall} failed with ${e.code})` : ` (${e.code})`;
  const dest = e.dest ? ` → ${e.dest}` : '';
  return `${path}${dest}: ${osErrorPhrases[e.code]}${verb}`;
}

/**
 * A text file the user named (a scenario, a run's outputs, a calibration), or an `InputError` in
 * one line: `nope.yaml: no such file or directory (open failed with ENOENT)`. `what` names it when
 * the file's role is not plain from its name ("a calibration").
 */
export function readUserFile(file: string, what?: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if (!isSystemError(e, true)) throw e;
    const line = describeSystemError(e, file);
    throw new InputError(what === undefined ? line : `${line}; ${what} was expected there`);
  }
}

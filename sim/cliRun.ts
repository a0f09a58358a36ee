/**
 * Running a commander program with itpump's exit codes, shown in every command's help:
 * - 0 done;
 * - 2 bad input: the message names the file, field, value and limit; or an operating-system error
 *   on a path or port the user named (missing, exists, no permission, a directory, busy), one line
 *   naming it. No stack trace: these are the world's faults;
 * - 1 an internal error (our bug): one line, and the full trace in a file it names;
 * - 3 a valid scenario the pump would not run as written (`validate`, `run --strict`): timeline
 *   commands it refuses, or events after the scenario's end; each is listed. For `fleet merge --partial`:
 *   the shards miss patients (the merged outputs are written, the missing ranges named);
 * - 4 a run on a rig stopped by the bench's flow check: the balance disagreed with the strokes the
 *   rig reported; delivery stopped, outputs written (`rig run`, `rig accuracy`);
 * - 130 interrupted (SIGINT or SIGTERM): the run stopped safely and wrote its outputs.
 * Shared by `itpump` and `tsx sim/rig/commands.ts`.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError, type Command } from 'commander';
import { describeSystemError, InputError, isSystemError } from './inputError.js';

/**
 * The exit codes for a command's help; `interrupted` is what exit code 130 means for it (none: a
 * command that a signal simply ends, such as `report`).
 */
export function exitCodesText(interrupted?: string, refused?: string, flowCheck?: string): string {
  return `
Exit codes:
  0    done
  1    internal error (one line; the full trace is written to a file it names)
  2    invalid input or a path or port that cannot be used (one line names it; nothing written)${
    refused === undefined ? '' : `\n  3    ${refused}`
  }${flowCheck === undefined ? '' : `\n  4    ${flowCheck}`}${
    interrupted === undefined ? '' : `\n  130  ${interrupted}`
  }`;
}

/** What exit code 4 means for the commands that run on a rig. */
export const flowCheckExitText =
  "the balance disagreed with the rig's reported strokes: delivery stopped, outputs written";

/**
 * A run on a rig stopped by the bench's flow check (sim/rig/flowCheck.ts), after writing its
 * outputs: exit 4. The message is the check's line.
 */
export class FlowCheckStopped extends Error {
  override name = 'FlowCheckStopped';
}

/**
 * A valid scenario the pump would not run as written: it refuses timeline commands, or events lie
 * after the end. Exit 3; the command has already listed each one.
 */
export class NotRunAsWritten extends Error {
  override name = 'NotRunAsWritten';
}

/** `fleet merge --partial` of shards that do not cover every patient: outputs written, exit 3. */
export class IncompleteFleet extends Error {
  override name = 'IncompleteFleet';
}

export const exitCodesHelp = exitCodesText(
  'interrupted by Ctrl-C or SIGTERM (the pump stopped safely; outputs written)',
);

/**
 * Examples shown at the end of a command's help, then the exit codes (`exitCodes`, by default
 * `exitCodesHelp`; a command whose codes differ, such as `rig emulate`, passes its own).
 */
export function withExamples(
  command: Command,
  examples: string[],
  exitCodes: string = exitCodesHelp,
): Command {
  return command.addHelpText(
    'after',
    `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n${exitCodes}\n`,
  );
}

/** A run stopped by SIGINT or SIGTERM after writing its outputs: exit 130. */
export class Interrupted extends Error {
  override name = 'Interrupted';
}

/**
 * The first SIGINT or SIGTERM aborts `signal` (the run then stops the pump safely, accounts the
 * running batch and writes its outputs); a second one exits at once with 130. `dispose` removes
 * the handlers. `outputs: false` for a command that writes none (`rig emulate`): the messages
 * then do not promise any.
 */
export function interruptOnSignals(
  what: string,
  { outputs = true }: { outputs?: boolean } = {},
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(
        `${name} again: exiting at once${outputs ? ', outputs not written' : ''}\n`,
      );
      process.exit(130);
    }
    process.stderr.write(
      `${name}: stopping ${what} safely${outputs ? ' and writing the outputs' : ''} (again to exit at once)\n`,
    );
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Writes the trace of an internal error to a file; returns its path (or undefined if it failed). */
function writeTrace(e: unknown): string | undefined {
  const file = join(tmpdir(), `itpump-error-${process.pid}-${Date.now()}.txt`);
  try {
    const text = e instanceof Error ? (e.stack ?? String(e)) : String(e);
    writeFileSync(file, `itpump ${process.argv.slice(2).join(' ')}\n${text}\n`);
    return file;
  } catch {
    return undefined;
  }
}

export async function runProgram(program: Command, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    return exitCodeOf(e);
  }
}

/** Prints what went wrong, in one line, and returns the exit code. */
export function exitCodeOf(e: unknown): number {
  if (e instanceof Interrupted) {
    process.stderr.write(`interrupted: ${e.message}\n`);
    return 130;
  }
  if (e instanceof InputError) {
    process.stderr.write(`error: ${e.message}\n`);
    return 2;
  }
  if (e instanceof NotRunAsWritten || e instanceof IncompleteFleet) {
    process.stderr.write(`${e.message}\n`);
    return 3;
  }
  if (e instanceof FlowCheckStopped) {
    process.stderr.write(`${e.message}\n`);
    return 4;
  }
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
  if (isSystemError(e)) {
    process.stderr.write(`error: ${describeSystemError(e)}\n`);
    return 2;
  }
  const trace = writeTrace(e);
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  process.stderr.write(
    `internal error: ${message.split('\n')[0]}${trace ? ` (full trace in ${trace})` : ''}\n`,
  );
  if (!trace) process.stderr.write(`${e instanceof Error ? e.stack : ''}\n`);
  return 1;
}

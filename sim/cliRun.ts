/**
 * Running a commander program with itpump's exit codes: 0 done; 2 bad input (the message names the
 * file, field, value and limit, without a stack trace); 1 internal error, with its stack.
 * Shared by `itpump` and `tsx sim/rig/cli.ts`.
 */
import { CommanderError, type Command } from 'commander';
import { InputError } from './scenario.js';

export async function runProgram(program: Command, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof InputError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    process.stderr.write(`internal error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

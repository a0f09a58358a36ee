/**
 * serialport is imported in one place only: hal/serial/transport.ts. Everything else (the host
 * session, the emulator, the CLI, the bench) works on a `ByteTransport`, which is what lets the
 * same code run on a pty, on the mock binding and on a wire in memory.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('the serialport boundary', () => {
  it('only hal/serial/transport.ts imports serialport or an @serialport package', () => {
    const importers = ['src', 'hal', 'sim', 'bench']
      .flatMap((d) => sources(join(root, d)))
      .filter((file) =>
        /^\s*import[^;]*from\s+['"](serialport|@serialport\/[^'"]+)['"]/m.test(
          readFileSync(file, 'utf8'),
        ),
      )
      .map((file) => relative(root, file));
    expect(importers).toEqual(['hal/serial/transport.ts']);
  });
});

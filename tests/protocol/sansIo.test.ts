/**
 * The protocol stays sans-IO, and no bytes from the wire can throw out of a link.
 *
 * Goal: src/protocol imports nothing but itself, src/assert.ts and node:zlib (no serialport,
 * node:stream, timers, clock or HAL), and neither link end can be driven into an exception or a
 * past deadline by anything the peer sends. Method: a scan of the import lines; a fast-check
 * property that feeds both link ends random mixes of valid frames (any type, any seq, any ack),
 * CRC-valid frames of unknown types, and raw garbage, at random times.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HostLink, RigLink, encodeFrame, slipFrame } from '../../src/protocol/index.js';
import { fcRuns, fcSeed, frameArbitrary } from './arbitraries.js';
import { rigStatus } from './linkPair.js';

const sourceDir = new URL('../../src/protocol/', import.meta.url);

describe('sans-IO', () => {
  it('src/protocol imports only itself, src/assert.ts and node:zlib', () => {
    const files = readdirSync(sourceDir).filter((name) => name.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const source = readFileSync(new URL(file, sourceDir), 'utf8');
      const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
      const allowed = (target: string) =>
        /^\.\/[a-zA-Z]+\.js$/.test(target) || target === '../assert.js' || target === 'node:zlib';
      expect(
        imports.filter((target) => !allowed(target!)).map((target) => `${file}: ${target}`),
      ).toEqual([]);
      expect(source).not.toMatch(
        /Date\.now\(|new Date\(|setTimeout\(|setInterval\(|Math\.random\(|performance\.now\(|process\./,
      );
    }
  });
});

const unknownTypeFrame = fc
  .record({ type: fc.integer({ min: 0x07, max: 0xff }), seq: fc.integer({ min: 0, max: 255 }) })
  .map(({ type, seq }) => {
    const body = new Uint8Array(9);
    body.set([1, type, seq, 0, 0]);
    new DataView(body.buffer).setUint32(5, crc32(body.subarray(0, 5)), true);
    return slipFrame(body);
  });

const input = fc.oneof(
  { weight: 4, arbitrary: frameArbitrary.map(encodeFrame) },
  { weight: 1, arbitrary: unknownTypeFrame },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) },
);

describe('link fuzz', () => {
  it(`no input throws out of either link end, and every deadline handled moves forward (seed ${fcSeed})`, () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1_500 }), input), { maxLength: 60 }),
        fc.boolean(),
        (steps, openFirst) => {
          const host = new HostLink({ startMs: 0, sessionIdFirst: 5 });
          const rig = new RigLink({ startMs: 0, status: rigStatus });
          let nowMs = 0;
          if (openFirst) {
            // Start from an open session on both ends, so in-session paths are fuzzed too.
            rig.receiveBytes(host.bytesToSend(), 1);
            host.receiveBytes(rig.bytesToSend(), 1);
            nowMs = 1;
            expect([host.state, rig.state]).toEqual(['established', 'established']);
          }
          for (const [deltaMs, bytes] of steps) {
            nowMs += deltaMs;
            for (const link of [host, rig]) {
              link.receiveBytes(bytes, nowMs);
              // One call handles everything due: no deadline may be left at or before now.
              link.handleTimeout(nowMs);
              expect(link.nextDeadlineMs()).toBeGreaterThan(nowMs);
              while (link.nextEvent() !== undefined);
              link.bytesToSend();
            }
          }
        },
      ),
      { seed: fcSeed, numRuns: fcRuns(200) },
    );
  });
});

/**
 * The threat list of docs/rig.md, over real ptys through a proxy that rewrites the rig's frames in
 * flight (tests/rig/frameProxy.ts, issue 13): `rig run` against an honest emulator whose messages
 * a man in the middle changes. Each test first shows the rewrite happened, then judges.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rigMain } from '../../sim/rig/commands.js';
import { RigEmulator } from '../../sim/rig/emulator.js';
import type { Message } from '../../src/protocol/index.js';
import { startFrameProxy, type Rewrite } from './frameProxy.js';

let out = '';
let err = '';
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
});

afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

const scenario = `name: threat
duration: 30 min
pump: { strokeVolume: 0.5 uL }
initialFill: { volume: 20 mL, mixture: [{ drug: morphine, concentration: 2 mg/mL }] }
prescription: { mode: continuous, dose: 4 mg/day }
timeline:
  - { at: 5 min, clinicianBolus: { dose: 0.2 mg, duration: 10 min, confirm: true } }
`;

/** `rig run` of the scenario at ×720 against an honest emulator, through the rewriting proxy. */
async function runThrough(rewrite: Rewrite) {
  const proxy = await startFrameProxy(rewrite);
  cleanups.push(() => proxy.stop());
  const emulator = await RigEmulator.open({ path: proxy.rigPath, timeScale: 720, seed: 4 });
  cleanups.push(() => emulator.close());
  const dir = mkdtempSync(join(tmpdir(), 'itpump-threat-'));
  const file = join(dir, 'threat.yaml');
  writeFileSync(file, scenario);
  const code = await rigMain([
    'rig',
    'run',
    file,
    '--port',
    proxy.hostPath,
    '--time-scale',
    '720',
    '--out',
    join(dir, 'out'),
    '--no-calibration',
  ]);
  return { code, proxy, emulator, dir };
}

const reportsSay = (strokes: (m: Extract<Message, { type: 'batchReport' }>) => number): Rewrite => {
  return (m) => (m.type === 'batchReport' ? { ...m, strokesDone: strokes(m) } : m);
};

describe('a rig whose frames a man in the middle rewrites (real ptys)', () => {
  it('every BATCH_REPORT rewritten to 0 strokes: the flow check stops delivery, outputs written, exit 4', async () => {
    const { code, proxy, emulator, dir } = await runThrough(reportsSay(() => 0));
    // The situation: reports were rewritten and the rig made strokes the host never heard of.
    expect(proxy.rewritten).toBeGreaterThan(0);
    expect(emulator.core.strokesExecuted).toBeGreaterThan(0);
    expect(code).toBe(4);
    expect(err).toMatch(/flow check failed: .* but the rig reported 0 strokes/);
    const summary = JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8')) as {
      flowCheck: { failure: { side: string } };
      finalState: { therapy: string };
    };
    expect(summary.flowCheck.failure.side).toBe('high');
    expect(summary.finalState.therapy).toBe('stopped');
  });

  it('a HELLO_ACK whose stroke volume is rewritten to 1 nL: refused before anything moves, exit 2', async () => {
    const { code, proxy, emulator } = await runThrough((m) =>
      m.type === 'helloAck' ? { ...m, strokeVolumeNl: 1 } : m,
    );
    expect(proxy.rewritten).toBeGreaterThan(0);
    expect(code).toBe(2);
    expect(err).toMatch(
      /^error: the rig reports a stroke volume of 1 nL, but the scenario's pump says 500 nL/m,
    );
    expect(emulator.core.strokesExecuted).toBe(0);
  });

  it('BATCH_REPORTs rewritten to twice the strokes (within the batch): the flow check stops on the low side, exit 4', async () => {
    const { code, proxy, emulator, dir } = await runThrough(reportsSay((m) => m.strokesDone * 2));
    expect(proxy.rewritten).toBeGreaterThan(0);
    expect(emulator.core.strokesExecuted).toBeGreaterThan(0);
    expect(code).toBe(4);
    expect(err).toMatch(/flow check failed: .*reported strokes did not arrive/);
    const summary = JSON.parse(readFileSync(join(dir, 'out', 'summary.json'), 'utf8')) as {
      flowCheck: { failure: { side: string; accountedStrokes: number } };
    };
    // The controller was told of twice what the rig made, and the balance showed it.
    expect(summary.flowCheck.failure.side).toBe('low');
    expect(summary.flowCheck.failure.accountedStrokes).toBeGreaterThan(
      emulator.core.strokesExecuted,
    );
  });
});

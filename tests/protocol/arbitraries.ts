/**
 * fast-check arbitraries for the protocol tests: every message type with every legal field value
 * (including the edges of each range), and frames around them with legal header fields.
 *
 * Also the settings every property test of this directory uses: a fixed seed from FC_SEED and a
 * run count from FC_NUM_RUNS, so a failure is reproduced by rerunning with the printed seed.
 */
import fc from 'fast-check';
import {
  batchReportReasonCodes,
  capabilityBits,
  emergencyStopSourceCodes,
  isSequenced,
  lastBatchStateCodes,
  nakReasonCodes,
  rigResetReasonCodes,
  tonePatternCodes,
  type Frame,
  type Message,
  type MessageType,
  type RigCapabilities,
} from '../../src/protocol/index.js';

export const fcSeed = Number(process.env.FC_SEED ?? 42);
export function fcRuns(defaultRuns: number): number {
  return Number(process.env.FC_NUM_RUNS ?? defaultRuns * Number(process.env.FC_RUNS_FACTOR ?? 1));
}

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u32Positive = fc.integer({ min: 1, max: 0xffff_ffff });
const keysOf = <T extends string>(codes: Readonly<Record<T, number>>) =>
  fc.constantFrom(...(Object.keys(codes) as T[]));
const printableAscii = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  maxLength: 16,
});
const capabilities: fc.Arbitrary<RigCapabilities> = fc.record(
  Object.fromEntries(capabilityBits.map((bit) => [bit, fc.boolean()])) as Record<
    keyof RigCapabilities,
    fc.Arbitrary<boolean>
  >,
);

export const messageArbitraries: {
  [T in MessageType]: fc.Arbitrary<Extract<Message, { type: T }>>;
} = {
  hello: fc.record({ type: fc.constant('hello'), sessionId: u32Positive }),
  helloAck: fc
    .record({
      type: fc.constant('helloAck'),
      sessionId: u32Positive,
      bootId: u32,
      firmwareId: printableAscii,
      capabilities,
      strokesPerBatchMax: u32Positive,
      strokeVolumeNl: fc.option(u32Positive, { nil: null }),
      lastBatchId: u32,
      lastBatchStrokesDone: u32,
      lastBatchState: keysOf(lastBatchStateCodes),
      emergencyStopEngaged: fc.boolean(),
      rigTimeMs: u32,
    })
    .map((m) =>
      m.lastBatchState === 'none' ? { ...m, lastBatchId: 0, lastBatchStrokesDone: 0 } : m,
    ),
  ack: fc.constant({ type: 'ack' }),
  nak: fc.record({ type: fc.constant('nak'), reason: keysOf(nakReasonCodes) }),
  heartbeat: fc.record({ type: fc.constant('heartbeat'), timeMs: u32 }),
  rigReset: fc.record({
    type: fc.constant('rigReset'),
    reason: keysOf(rigResetReasonCodes),
    bootId: u32,
    rigTimeMs: u32,
  }),
  deliverStrokes: fc.record({
    type: fc.constant('deliverStrokes'),
    batchId: u32,
    count: u32Positive,
    leadMs: u32,
    intervalMs: u32Positive,
  }),
  stopStrokes: fc.constant({ type: 'stopStrokes' }),
  buzzerTone: fc.record({ type: fc.constant('buzzerTone'), pattern: keysOf(tonePatternCodes) }),
  emergencyStop: fc.record({
    type: fc.constant('emergencyStop'),
    source: keysOf(emergencyStopSourceCodes),
  }),
  batchReport: fc
    .record({
      type: fc.constant('batchReport'),
      batchId: u32,
      strokesDone: u32,
      reason: keysOf(batchReportReasonCodes),
      rigTimeMs: u32,
    })
    .map((m) => (m.reason === 'rejected' ? { ...m, strokesDone: 0 } : m)),
  balanceReading: fc.record({
    type: fc.constant('balanceReading'),
    massUg: fc.oneof(
      fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 0, -1),
      fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
      fc.maxSafeInteger(),
    ),
    rigTimeMs: u32,
    stable: fc.boolean(),
  }),
  buttonPress: fc.record({ type: fc.constant('buttonPress'), pressId: u32, rigTimeMs: u32 }),
};

export const messageArbitrary: fc.Arbitrary<Message> = fc.oneof(
  ...Object.values(messageArbitraries),
) as fc.Arbitrary<Message>;

export const frameArbitrary: fc.Arbitrary<Frame> = messageArbitrary.chain((message) =>
  fc.record({
    seq: isSequenced(message.type) ? fc.integer({ min: 0, max: 255 }) : fc.constant(0),
    ack:
      message.type === 'ack' || message.type === 'nak'
        ? fc.integer({ min: 0, max: 255 })
        : fc.constant(0),
    message: fc.constant(message),
  }),
);

/** Cut `bytes` into consecutive chunks at the given sizes (cycled), the last one holding the rest. */
export function chunked(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = sizes.length === 0 ? bytes.length : Math.max(1, sizes[i % sizes.length]!);
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

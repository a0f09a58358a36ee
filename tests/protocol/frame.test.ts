/**
 * Frame codec (src/protocol/frame.ts): SLIP framing, header, CRC, and the decoder's robustness.
 *
 * Goal: frames survive the wire however the bytes are chunked; one corrupted or lost byte costs
 * at most the frame it hit; no garbage throws out of the decoder, and it recovers at the next
 * frame; every kind of malformed frame is counted under its own name; the buffer stays bounded.
 * Method: unit examples per error kind, fast-check properties (a)–(c) of issue 6 (the single-byte
 * faults exhaustively over every byte position of a generated stream), and a differential check
 * of the SLIP bytes against serialport's SlipEncoder / SlipDecoder.
 */
import { crc32 } from 'node:zlib';
import { Transform } from 'node:stream';
import fc from 'fast-check';
import { SlipDecoder, SlipEncoder } from 'serialport';
import { describe, expect, it } from 'vitest';
import {
  FrameDecoder,
  LocalProtocolError,
  RemoteProtocolError,
  decodeFrameBody,
  encodeFrame,
  encodeFrameBody,
  frameBytesMax,
  slipEnd,
  slipEsc,
  slipFrame,
  wireFrameBytesMax,
  type DecodedFrame,
  type Frame,
  type RemoteProtocolErrorKind,
} from '../../src/protocol/index.js';
import { chunked, concatBytes, fcRuns, fcSeed, frameArbitrary } from './arbitraries.js';

const deliver: Frame = {
  seq: 3,
  ack: 0,
  message: { type: 'deliverStrokes', batchId: 7, count: 12, leadMs: 500, intervalMs: 60_000 },
};
const heartbeat: Frame = { seq: 0, ack: 0, message: { type: 'heartbeat', timeMs: 0xc0dbc0db } };

/** Everything the decoder yields for `chunks`, in order. */
function decodeAll(chunks: readonly Uint8Array[], decoder = new FrameDecoder()): DecodedFrame[] {
  const out: DecodedFrame[] = [];
  for (const chunk of chunks) {
    decoder.receiveBytes(chunk);
    for (let d = decoder.nextFrame(); d !== 'needData'; d = decoder.nextFrame()) out.push(d);
  }
  return out;
}

function goodFrames(decoded: readonly DecodedFrame[]): Frame[] {
  return decoded.flatMap((d) => (d.kind === 'frame' ? [d.frame] : []));
}

/** A body with a correct CRC over whatever header and payload bytes are given. */
function withCrc(headerAndPayload: readonly number[]): Uint8Array {
  const body = new Uint8Array(headerAndPayload.length + 4);
  body.set(headerAndPayload);
  new DataView(body.buffer).setUint32(
    headerAndPayload.length,
    crc32(body.subarray(0, headerAndPayload.length)),
    true,
  );
  return body;
}

function errorCounts(decoder: FrameDecoder): Partial<Record<RemoteProtocolErrorKind, number>> {
  const { bytesReceived: _b, framesDecoded: _f, ...counts } = decoder.stats;
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}

async function throughTransform(
  transform: Transform,
  chunks: readonly Uint8Array[],
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  transform.on('data', (chunk: Buffer) => out.push(new Uint8Array(chunk)));
  const done = new Promise((resolve, reject) => {
    transform.on('end', resolve);
    transform.on('error', reject);
  });
  for (const chunk of chunks) transform.write(Buffer.from(chunk));
  transform.end();
  await done;
  return out;
}

describe('frame encoding', () => {
  it('lays out version, type, seq, ack, payload length, payload and CRC-32 little-endian', () => {
    const body = encodeFrameBody(deliver);
    expect([...body.subarray(0, 5)]).toEqual([1, 0x81, 3, 0, 16]);
    expect(body.length).toBe(5 + 16 + 4);
    expect(new DataView(body.buffer).getUint32(21, true)).toBe(crc32(body.subarray(0, 21)));
  });

  it('uses CRC-32/ISO-HDLC, whose check value over "123456789" is 0xCBF43926', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('puts an END before and after the body and escapes END and ESC inside it', () => {
    const wire = encodeFrame(heartbeat);
    expect(wire[0]).toBe(slipEnd);
    expect(wire[wire.length - 1]).toBe(slipEnd);
    expect(wire.subarray(1, -1).includes(slipEnd)).toBe(false);
    // timeMs 0xc0dbc0db little-endian is DB C0 DB C0: each byte escaped.
    expect([...wire.subarray(6, 14)]).toEqual([0xdb, 0xdd, 0xdb, 0xdc, 0xdb, 0xdd, 0xdb, 0xdc]);
  });

  it('refuses illegal header fields with a LocalProtocolError', () => {
    const cases: [Frame, RegExp][] = [
      [{ ...deliver, seq: 256 }, /deliverStrokes frame seq is 256, must be an integer in 0\.\.255/],
      [{ ...deliver, seq: -1 }, /seq is -1/],
      [
        { ...heartbeat, seq: 1 },
        /heartbeat frame seq is 1, must be 0 \(link control is not sequenced\)/,
      ],
      [
        { ...deliver, ack: 4 },
        /deliverStrokes frame ack is 4, must be 0 \(only ACK and NAK carry one\)/,
      ],
      [
        { seq: 0, ack: 300, message: { type: 'ack' } },
        /ack frame ack is 300, must be an integer in 0\.\.255/,
      ],
    ];
    for (const [frame, pattern] of cases) {
      expect(() => encodeFrame(frame)).toThrow(LocalProtocolError);
      expect(() => encodeFrame(frame)).toThrow(pattern);
    }
  });

  it('keeps every frame within wireFrameBytesMax', () => {
    fc.assert(
      fc.property(frameArbitrary, (frame) => {
        expect(encodeFrame(frame).length).toBeLessThanOrEqual(wireFrameBytesMax);
        expect(encodeFrameBody(frame).length).toBeLessThanOrEqual(frameBytesMax);
      }),
      { seed: fcSeed, numRuns: fcRuns(200) },
    );
  });
});

describe('frame decoding, error kinds', () => {
  function decodeOne(wire: Uint8Array): { decoded: DecodedFrame[]; decoder: FrameDecoder } {
    const decoder = new FrameDecoder();
    return { decoded: decodeAll([wire], decoder), decoder };
  }

  it('decodes a frame and counts it', () => {
    const { decoded, decoder } = decodeOne(encodeFrame(deliver));
    expect(decoded).toEqual([{ kind: 'frame', frame: deliver }]);
    expect(decoder.stats.framesDecoded).toBe(1);
    expect(errorCounts(decoder)).toEqual({});
  });

  it('badCrc: one flipped bit of the CRC', () => {
    const body = encodeFrameBody(deliver);
    body[body.length - 1]! ^= 0x01;
    const { decoded, decoder } = decodeOne(slipFrame(body));
    expect(decoded).toEqual([]);
    expect(errorCounts(decoder)).toEqual({ badCrc: 1 });
    expect(decoder.lastError?.message).toMatch(
      /frame CRC is 0x[0-9a-f]+, its bytes give 0x[0-9a-f]+/,
    );
  });

  it('badLength: a payload length byte that disagrees with the frame, under a valid CRC', () => {
    const body = encodeFrameBody(deliver);
    const { decoded, decoder } = decodeOne(
      slipFrame(withCrc([...body.subarray(0, 4), 15, ...body.subarray(5, -4)])),
    );
    expect(decoded).toEqual([]);
    expect(errorCounts(decoder)).toEqual({ badLength: 1 });
  });

  it('badVersion: a valid frame of version 2 is skipped and its version remembered', () => {
    const body = encodeFrameBody(heartbeat);
    const { decoded, decoder } = decodeOne(slipFrame(withCrc([2, ...body.subarray(1, -4)])));
    expect(decoded).toEqual([]);
    expect(errorCounts(decoder)).toEqual({ badVersion: 1 });
    expect(decoder.foreignVersion).toBe(2);
  });

  it('unknownType: a valid frame of an unknown sequenced type comes back rejected, with its seq', () => {
    const { decoded, decoder } = decodeOne(slipFrame(withCrc([1, 0xbf, 9, 0, 0])));
    expect(decoded).toHaveLength(1);
    expect(decoded[0]).toMatchObject({ kind: 'rejected', typeCode: 0xbf, seq: 9 });
    expect((decoded[0] as { error: RemoteProtocolError }).error.kind).toBe('unknownType');
    expect(errorCounts(decoder)).toEqual({ unknownType: 1 });
  });

  it('badPayload: a DELIVER_STROKES of 0 strokes comes back rejected, with its seq', () => {
    const body = encodeFrameBody(deliver);
    const spoiled = [...body.subarray(0, -4)];
    spoiled.fill(0, 9, 13); // count
    const { decoded, decoder } = decodeOne(slipFrame(withCrc(spoiled)));
    expect(decoded[0]).toMatchObject({ kind: 'rejected', typeCode: 0x81, seq: 3 });
    expect(errorCounts(decoder)).toEqual({ badPayload: 1 });
  });

  it('badPayload: a link-control frame with a sequence number', () => {
    const body = encodeFrameBody(heartbeat);
    const { decoded, decoder } = decodeOne(
      slipFrame(withCrc([1, 0x05, 7, ...body.subarray(3, -4)])),
    );
    expect(decoded[0]).toMatchObject({ kind: 'rejected', typeCode: 0x05, seq: 7 });
    expect(errorCounts(decoder)).toEqual({ badPayload: 1 });
  });

  it('truncated: fewer bytes than a header and a CRC', () => {
    const { decoded, decoder } = decodeOne(new Uint8Array([slipEnd, 1, 3, 0, 0, 0, slipEnd]));
    expect(decoded).toEqual([]);
    expect(errorCounts(decoder)).toEqual({ truncated: 1 });
  });

  it('badEscape: ESC followed by an ordinary byte, or by END', () => {
    const wire = encodeFrame(heartbeat);
    const { decoded, decoder } = decodeOne(
      new Uint8Array([slipEnd, 1, slipEsc, 0x01, 2, slipEnd, 1, slipEsc, slipEnd, ...wire]),
    );
    expect(goodFrames(decoded)).toEqual([heartbeat]);
    expect(errorCounts(decoder)).toEqual({ badEscape: 2 });
  });

  it('oversize: a run longer than frameBytesMax is dropped once, counted once, and the next frame decodes', () => {
    const flood = new Uint8Array(3 * frameBytesMax).fill(0x55);
    const decoder = new FrameDecoder();
    const decoded = decodeAll([flood], decoder);
    expect(decoded).toEqual([]);
    expect(decoder.bytesPending).toBeLessThanOrEqual(frameBytesMax);
    expect(decodeAll([encodeFrame(deliver)], decoder)).toEqual([{ kind: 'frame', frame: deliver }]);
    expect(errorCounts(decoder)).toEqual({ oversize: 1 });
  });

  it('a frame of exactly frameBytesMax bytes is not oversize', () => {
    const decoder = new FrameDecoder();
    decodeAll([slipFrame(new Uint8Array(frameBytesMax).fill(0x55))], decoder);
    expect(errorCounts(decoder)).toEqual({ badCrc: 1 });
  });

  it('ignores empty frames between END bytes and answers needData until a frame is complete', () => {
    const decoder = new FrameDecoder();
    const wire = encodeFrame(deliver);
    decoder.receiveBytes(new Uint8Array([slipEnd, slipEnd, slipEnd]));
    expect(decoder.nextFrame()).toBe('needData');
    decoder.receiveBytes(wire.subarray(0, 10));
    expect(decoder.nextFrame()).toBe('needData');
    decoder.receiveBytes(wire.subarray(10));
    expect(decoder.nextFrame()).toEqual({ kind: 'frame', frame: deliver });
    expect(decoder.nextFrame()).toBe('needData');
    expect(errorCounts(decoder)).toEqual({});
  });

  it('keeps its own copy of received bytes, so a reused read buffer changes nothing', () => {
    const decoder = new FrameDecoder();
    const buffer = encodeFrame(deliver);
    decoder.receiveBytes(buffer);
    buffer.fill(0);
    expect(decoder.nextFrame()).toEqual({ kind: 'frame', frame: deliver });
  });

  it('decodeFrameBody throws RemoteProtocolError for the strict callers (test vectors, docs)', () => {
    expect(decodeFrameBody(encodeFrameBody(deliver))).toEqual(deliver);
    expect(() => decodeFrameBody(new Uint8Array(4))).toThrow(RemoteProtocolError);
    expect(() => decodeFrameBody(new Uint8Array(frameBytesMax + 1))).toThrow(/over frameBytesMax/);
  });
});

describe('frame decoding, properties', () => {
  it(`(a) decode(encode(frames)) == frames under any chunking of the byte stream (seed ${fcSeed})`, () => {
    fc.assert(
      fc.property(
        fc.array(frameArbitrary, { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 12 }),
        (frames, sizes) => {
          const wire = concatBytes(frames.map(encodeFrame));
          const decoder = new FrameDecoder();
          const decoded = decodeAll(chunked(wire, sizes), decoder);
          expect(decoded).toEqual(frames.map((frame) => ({ kind: 'frame', frame })));
          expect(errorCounts(decoder)).toEqual({});
        },
      ),
      { seed: fcSeed, numRuns: fcRuns(300) },
    );
  });

  it(`(b) any single corrupted or dropped byte costs at most the frame it hit, at every position (seed ${fcSeed})`, () => {
    fc.assert(
      fc.property(
        fc.array(frameArbitrary, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }),
        (frames, replacements) => {
          const wires = frames.map(encodeFrame);
          const wire = concatBytes(wires);
          const owner: number[] = wires.flatMap((w, k) => new Array<number>(w.length).fill(k));
          for (let i = 0; i < wire.length; i++) {
            const hit = owner[i]!;
            const allowed = [frames, frames.filter((_, k) => k !== hit)];
            const dropped = concatBytes([wire.subarray(0, i), wire.subarray(i + 1)]);
            expect(allowed).toContainEqual(goodFrames(decodeAll([dropped])));
            const corrupted = wire.slice();
            const replacement = replacements[i % replacements.length]!;
            corrupted[i] = replacement === wire[i] ? replacement ^ 0xff : replacement;
            expect(allowed).toContainEqual(goodFrames(decodeAll([corrupted])));
          }
        },
      ),
      { seed: fcSeed, numRuns: fcRuns(40) },
    );
  });

  it(`(c) random garbage never throws, the buffer stays bounded, and a frame sent after it decodes (seed ${fcSeed})`, () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(frameArbitrary, { minLength: 1, maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 80 }), { maxLength: 8 }),
        (garbage, frames, sizes) => {
          const decoder = new FrameDecoder();
          const afterGarbage = decodeAll(chunked(garbage, sizes), decoder);
          expect(decoder.bytesPending).toBeLessThanOrEqual(frameBytesMax);
          const decoded = decodeAll(chunked(concatBytes(frames.map(encodeFrame)), sizes), decoder);
          // The garbage may by chance end in what is a valid frame; what follows is intact.
          expect(goodFrames([...afterGarbage, ...decoded]).slice(-frames.length)).toEqual(frames);
          expect(decoder.bytesPending).toBe(0);
        },
      ),
      { seed: fcSeed, numRuns: fcRuns(300) },
    );
  });
});

describe('SLIP against serialport (differential)', () => {
  it(`our framing equals SlipEncoder with its leading-END (bluetoothQuirk) option (seed ${fcSeed})`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: frameBytesMax }), async (body) => {
        const [encoded] = await throughTransform(new SlipEncoder({ bluetoothQuirk: true }), [body]);
        expect(encoded).toEqual(slipFrame(body));
      }),
      { seed: fcSeed, numRuns: fcRuns(100) },
    );
  });

  it(`SlipDecoder reads our stream of frames back as their bodies (seed ${fcSeed})`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frameArbitrary, { minLength: 1, maxLength: 8 }), async (frames) => {
        const packets = await throughTransform(new SlipDecoder(), [
          concatBytes(frames.map(encodeFrame)),
        ]);
        expect(packets).toEqual(frames.map(encodeFrameBody));
        expect(packets.map(decodeFrameBody)).toEqual(frames);
      }),
      { seed: fcSeed, numRuns: fcRuns(50) },
    );
  });
});

/**
 * The frame codec of the serial rig protocol, without I/O: frames in, bytes out; bytes in, frames
 * out (docs/protocol.md §2–§4).
 *
 * A frame on the wire is END, the SLIP-escaped body, END. The body is a 5-byte header (version,
 * type, seq, ack, payload length), the payload, and a CRC-32 over both, little-endian.
 *
 * Rules:
 * - Sans-IO, after h11: this module imports nothing from serialport, node:stream, timers or the
 *   HAL. `FrameDecoder.receiveBytes()` only stores bytes; `nextFrame()` does the work and answers
 *   'needData' when the bytes so far hold no complete frame. The caller owns all I/O.
 * - Nothing from the wire can make the decoder throw. Every malformed frame is counted in
 *   `stats` under its `RemoteProtocolErrorKind`, kept in `lastError`, and skipped; decoding
 *   resumes at the next END byte. A frame whose CRC holds but whose type or payload is invalid
 *   is returned as 'rejected' with its header, because its sequence number can be trusted and a
 *   sequenced frame must be answered with a NAK rather than retransmitted until the link drops.
 * - The decoder's frame buffer is `frameBytesMax` bytes and never grows: a longer run of bytes
 *   between two END bytes is dropped and counted as 'oversize'.
 * - Encoding throws `LocalProtocolError` for a frame the protocol forbids.
 *
 * Why SLIP is written here and not taken from serialport: `SlipEncoder`/`SlipDecoder`
 * (@serialport/parser-slip-encoder) are node:stream Transforms, which a sans-IO codec must not
 * import. Their decoder also has no size bound (it grows a Buffer by concatenation per byte), emits
 * an empty packet for every pair of END bytes, and on an invalid escape emits the half-received
 * packet instead of discarding it. RFC 1055 is a few lines, so the codec escapes and unescapes
 * itself; tests/protocol/slip.test.ts checks the bytes against serialport's `SlipEncoder` (with its
 * `bluetoothQuirk` leading END, which is our format) and its `SlipDecoder`. The HAL adapter writes
 * `encodeFrame()` bytes and feeds raw port bytes to `FrameDecoder`, so it needs neither stream.
 */
import { crc32 } from 'node:zlib';
import {
  crcBytes,
  frameBytesMax,
  frameBytesMin,
  headerBytes,
  protocolVersion,
  slipEnd,
  slipEsc,
  slipEscEnd,
  slipEscEsc,
  u8Max,
} from './constants.js';
import {
  LocalProtocolError,
  RemoteProtocolError,
  remoteProtocolErrorKinds,
  type RemoteProtocolErrorKind,
} from './errors.js';
import {
  decodePayload,
  encodePayload,
  isSequencedCode,
  messageSpecs,
  type Message,
} from './messages.js';

/** A message with the link header fields the frame carries around it. */
export interface Frame {
  /** 0..255 for a sequenced message; 0 for link control. */
  seq: number;
  /** For ACK and NAK: the sequence number answered. 0 for every other message. */
  ack: number;
  message: Message;
}

export type DecodedFrame =
  | { kind: 'frame'; frame: Frame }
  /** CRC and version hold, the rest does not: the header is trustworthy, the message is not. */
  | { kind: 'rejected'; typeCode: number; seq: number; error: RemoteProtocolError };

export type FrameDecoderStats = { bytesReceived: number; framesDecoded: number } & Record<
  RemoteProtocolErrorKind,
  number
>;

function carriesAck(message: Message): boolean {
  return message.type === 'ack' || message.type === 'nak';
}

/** Why the header fields of `frame` are illegal, or undefined. */
function headerProblem(frame: Frame): string | undefined {
  const sequenced = isSequencedCode(messageSpecs[frame.message.type].code);
  if (!Number.isInteger(frame.seq) || frame.seq < 0 || frame.seq > u8Max) {
    return `${frame.message.type} frame seq is ${frame.seq}, must be an integer in 0..${u8Max}`;
  }
  if (!sequenced && frame.seq !== 0)
    return `${frame.message.type} frame seq is ${frame.seq}, must be 0 (link control is not sequenced)`;
  if (!Number.isInteger(frame.ack) || frame.ack < 0 || frame.ack > u8Max) {
    return `${frame.message.type} frame ack is ${frame.ack}, must be an integer in 0..${u8Max}`;
  }
  if (!carriesAck(frame.message) && frame.ack !== 0) {
    return `${frame.message.type} frame ack is ${frame.ack}, must be 0 (only ACK and NAK carry one)`;
  }
  return undefined;
}

/** The frame body (header, payload, CRC) without SLIP framing. Throws `LocalProtocolError`. */
export function encodeFrameBody(frame: Frame): Uint8Array {
  if (messageSpecs[frame.message.type] === undefined) {
    throw new LocalProtocolError(
      `type ${JSON.stringify(frame.message.type)} is not a message type`,
    );
  }
  const payload = encodePayload(frame.message);
  const problem = headerProblem(frame);
  if (problem !== undefined) throw new LocalProtocolError(problem);
  const body = new Uint8Array(headerBytes + payload.length + crcBytes);
  body[0] = protocolVersion;
  body[1] = messageSpecs[frame.message.type].code;
  body[2] = frame.seq;
  body[3] = frame.ack;
  body[4] = payload.length;
  body.set(payload, headerBytes);
  const crcOffset = headerBytes + payload.length;
  new DataView(body.buffer).setUint32(crcOffset, crc32(body.subarray(0, crcOffset)), true);
  return body;
}

/** A body between END bytes, with END and ESC escaped (RFC 1055, plus a leading END). */
export function slipFrame(body: Uint8Array): Uint8Array {
  // A leading END flushes line noise into a garbage frame of its own; it is also why a single
  // lost or corrupted byte can cost at most the frame it hit (docs/protocol.md §2).
  const wire = new Uint8Array(2 * body.length + 2);
  let length = 0;
  wire[length++] = slipEnd;
  for (const byte of body) {
    if (byte === slipEnd) {
      wire[length++] = slipEsc;
      wire[length++] = slipEscEnd;
    } else if (byte === slipEsc) {
      wire[length++] = slipEsc;
      wire[length++] = slipEscEsc;
    } else {
      wire[length++] = byte;
    }
  }
  wire[length++] = slipEnd;
  return wire.slice(0, length);
}

/** The bytes of one frame on the wire. Throws `LocalProtocolError` for an illegal frame. */
export function encodeFrame(frame: Frame): Uint8Array {
  return slipFrame(encodeFrameBody(frame));
}

interface Header {
  typeCode: number;
  seq: number;
  ack: number;
}

/** Checks what makes a body trustworthy at all: size, CRC, version, length byte. */
function checkedHeader(body: Uint8Array): Header {
  if (body.length < frameBytesMin) {
    throw new RemoteProtocolError(
      'truncated',
      `frame is ${body.length} bytes, a header and CRC need ${frameBytesMin}`,
    );
  }
  if (body.length > frameBytesMax) {
    throw new RemoteProtocolError(
      'oversize',
      `frame is ${body.length} bytes, over frameBytesMax ${frameBytesMax}`,
    );
  }
  const crcOffset = body.length - crcBytes;
  const crcSent = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(
    crcOffset,
    true,
  );
  const crcComputed = crc32(body.subarray(0, crcOffset));
  if (crcSent !== crcComputed) {
    throw new RemoteProtocolError(
      'badCrc',
      `frame CRC is 0x${crcSent.toString(16)}, its bytes give 0x${crcComputed.toString(16)}`,
    );
  }
  const version = body[0]!;
  if (version !== protocolVersion) {
    throw new RemoteProtocolError(
      'badVersion',
      `frame version is ${version}, we speak ${protocolVersion}`,
    );
  }
  const payloadLength = body[4]!;
  if (payloadLength !== crcOffset - headerBytes) {
    throw new RemoteProtocolError(
      'badLength',
      `payload length byte is ${payloadLength}, the frame holds ${crcOffset - headerBytes}`,
    );
  }
  return { typeCode: body[1]!, seq: body[2]!, ack: body[3]! };
}

function checkedMessage(body: Uint8Array, header: Header): Frame {
  const message = decodePayload(
    header.typeCode,
    body.subarray(headerBytes, body.length - crcBytes),
  );
  const frame = { seq: header.seq, ack: header.ack, message };
  const problem = headerProblem(frame);
  if (problem !== undefined) throw new RemoteProtocolError('badPayload', problem);
  return frame;
}

/** The frame in a body (without SLIP framing). Throws `RemoteProtocolError`. */
export function decodeFrameBody(body: Uint8Array): Frame {
  return checkedMessage(body, checkedHeader(body));
}

export function emptyDecoderStats(): FrameDecoderStats {
  const stats = { bytesReceived: 0, framesDecoded: 0 } as FrameDecoderStats;
  for (const kind of remoteProtocolErrorKinds) stats[kind] = 0;
  return stats;
}

/**
 * Bytes in, frames out. Feed what the port delivers, in any chunks, to `receiveBytes`; then call
 * `nextFrame` until it answers 'needData'.
 */
export class FrameDecoder {
  readonly stats: FrameDecoderStats = emptyDecoderStats();
  /** The most recent malformed frame, for diagnostics. */
  lastError: RemoteProtocolError | undefined;
  /** The version byte of the last CRC-valid frame of another protocol version, if any. */
  foreignVersion: number | undefined;

  /** Received chunks not yet scanned; the first is scanned from `chunkOffset`. */
  private readonly chunks: Uint8Array[] = [];
  private chunkOffset = 0;
  /** The unescaped body so far; never more than `frameBytesMax` bytes. */
  private readonly buffer = new Uint8Array(frameBytesMax);
  private length = 0;
  private escaped = false;
  /** The frame was found bad before its END (oversize, bad escape): skip to the next END. */
  private discarding = false;

  /** Store bytes for `nextFrame`. Never throws, whatever the bytes. */
  receiveBytes(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    // A copy, so a caller that reuses its read buffer cannot change bytes not yet scanned.
    this.chunks.push(bytes.slice());
    this.stats.bytesReceived += bytes.length;
  }

  /** The next frame in the bytes received so far, or 'needData'. Never throws. */
  nextFrame(): DecodedFrame | 'needData' {
    for (;;) {
      const chunk = this.chunks[0];
      if (chunk === undefined) return 'needData';
      while (this.chunkOffset < chunk.length) {
        const byte = chunk[this.chunkOffset++]!;
        if (byte !== slipEnd) {
          this.acceptByte(byte);
          continue;
        }
        const decoded = this.endFrame();
        if (decoded !== undefined) return decoded;
      }
      this.chunks.shift();
      this.chunkOffset = 0;
    }
  }

  /** Bytes received but not yet scanned, plus those of the frame in progress. */
  get bytesPending(): number {
    let pending = this.length;
    for (const chunk of this.chunks) pending += chunk.length;
    return pending - this.chunkOffset;
  }

  private acceptByte(byte: number): void {
    if (this.discarding) return;
    if (this.escaped) {
      this.escaped = false;
      if (byte === slipEscEnd) this.store(slipEnd);
      else if (byte === slipEscEsc) this.store(slipEsc);
      else
        this.discard(
          new RemoteProtocolError(
            'badEscape',
            `escape byte followed by 0x${byte.toString(16).padStart(2, '0')}`,
          ),
        );
      return;
    }
    if (byte === slipEsc) this.escaped = true;
    else this.store(byte);
  }

  private store(byte: number): void {
    if (this.length === frameBytesMax) {
      this.discard(
        new RemoteProtocolError(
          'oversize',
          `more than frameBytesMax ${frameBytesMax} bytes before END`,
        ),
      );
      return;
    }
    this.buffer[this.length++] = byte;
  }

  private discard(error: RemoteProtocolError): void {
    this.count(error);
    this.discarding = true;
  }

  private count(error: RemoteProtocolError): void {
    this.stats[error.kind]++;
    this.lastError = error;
  }

  /** An END byte: decode what came before it, or skip it if it is empty or already condemned. */
  private endFrame(): DecodedFrame | undefined {
    const { discarding, escaped, length } = this;
    this.discarding = false;
    this.escaped = false;
    this.length = 0;
    if (discarding) return undefined;
    // END always ends a frame, even right after ESC, so a corrupted byte can never swallow the
    // delimiter of the next frame.
    if (escaped) {
      this.count(new RemoteProtocolError('badEscape', 'escape byte followed by END'));
      return undefined;
    }
    if (length === 0) return undefined; // two END bytes in a row: the normal gap between frames
    const body = this.buffer.slice(0, length);
    let header: Header;
    try {
      header = checkedHeader(body);
    } catch (error) {
      this.countRemote(error, body);
      return undefined;
    }
    try {
      const frame = checkedMessage(body, header);
      this.stats.framesDecoded++;
      return { kind: 'frame', frame };
    } catch (error) {
      this.countRemote(error, body);
      return {
        kind: 'rejected',
        typeCode: header.typeCode,
        seq: header.seq,
        error: error as RemoteProtocolError,
      };
    }
  }

  private countRemote(error: unknown, body: Uint8Array): void {
    // Only RemoteProtocolError is the wire's fault; anything else is our bug and must surface.
    if (!(error instanceof RemoteProtocolError)) throw error;
    if (error.kind === 'badVersion') this.foreignVersion = body[0];
    this.count(error);
  }
}

/**
 * The messages of the serial rig protocol and their payload layouts (docs/protocol.md §5).
 *
 * Rules:
 * - Every payload is a fixed sequence of little-endian fields; `messageSpecs` is the single
 *   description of them. Encoding, decoding and the byte tables in docs/protocol.md all follow it
 *   (a test compares the tables with it).
 * - A type code with bit 7 set is sequenced: it carries a sequence number and must be answered
 *   with ACK or NAK. Codes below 0x80 are link control and are never acknowledged. Because the
 *   rule is in the code itself, a receiver knows whether to answer a type it does not know.
 * - Encoding validates every field and throws `LocalProtocolError` naming the message, the field,
 *   the value and the limit: building an illegal message is our bug. Decoding throws
 *   `RemoteProtocolError` with the same kind of message: garbage is the world's fault, and
 *   `FrameDecoder` turns it into a counter.
 *
 * This module knows nothing of serial ports, timers or the HAL; it keeps its own copy of the tone
 * names, which a type test holds equal to hal/annunciator.ts `TonePattern`.
 */
import { firmwareIdBytes, payloadBytesMax, u16Max, u32Max, u8Max } from './constants.js';
import { assert } from '../assert.js';
import { LocalProtocolError, RemoteProtocolError } from './errors.js';

// --- Domain vocabularies ----------------------------------------------------------------------

/** The buzzer patterns, with the meanings of hal/annunciator.ts. */
export type TonePattern =
  | 'pressGranted'
  | 'pressDenied'
  | 'alarmCritical'
  | 'alarmNonCritical'
  | 'alarmTest';

/** Why a receiver refused a sequenced frame. */
export type NakReason =
  | 'unknownType' // the type code is not one the receiver knows
  | 'badPayload' // the payload is malformed (length, field values)
  | 'unexpected' // a known message the receiver does not accept from this side
  | 'outOfSequence'; // neither the expected sequence number nor a repeat of the last one

/** Why the rig announces it has no session. */
export type RigResetReason =
  | 'powerOn' // the rig (re)started: power-on, watchdog or any other reset
  | 'linkLost'; // the rig dropped the session: the host fell silent or stopped acknowledging

/** Who engaged an emergency stop. */
export type EmergencyStopSource = 'host' | 'rigSwitch' | 'rigFault';

/** How a batch ended, as the rig reports it in BATCH_REPORT. */
export type BatchReportReason =
  | 'completed' // all strokes done
  | 'stopped' // cancelled by STOP_STROKES or EMERGENCY_STOP
  | 'stalled' // the motor was commanded and did not turn
  | 'rejected'; // never started: a batch was running, count over the limit, emergency stop engaged

/** What the rig knows of the last batch it accepted, as HELLO_ACK reports it. */
export type LastBatchState =
  | 'none' // no batch since the rig's batch record was last cleared
  | 'running'
  | 'completed'
  | 'stopped'
  | 'stalled'
  | 'linkLost' // the rig stopped it because the host fell silent
  | 'interrupted'; // the rig was reset while it ran; strokesDone is what the record holds

export interface RigCapabilities {
  motor: boolean;
  balance: boolean;
  button: boolean;
  buzzer: boolean;
  emergencyStopSwitch: boolean;
  /** The last-batch record survives a reset of the rig (FRAM, retained RAM). */
  persistentBatchRecord: boolean;
}

// --- Messages ----------------------------------------------------------------------------------

/** Host → rig: open a session. Repeated with the same `sessionId` until HELLO_ACK arrives. */
export interface HelloMessage {
  type: 'hello';
  /** Chosen by the host, never 0; a new value for every new session. */
  sessionId: number;
}

/** Rig → host: the session is open; who the rig is and what it last did. */
export interface HelloAckMessage {
  type: 'helloAck';
  /** Echoes the HELLO. */
  sessionId: number;
  /** Chosen by the rig at every start; a change between sessions means the rig was reset. */
  bootId: number;
  /** Printable ASCII, at most 16 characters. */
  firmwareId: string;
  capabilities: RigCapabilities;
  strokesPerBatchMax: number;
  /** The calibrated stroke volume, or null when the rig was never calibrated. */
  strokeVolumeNl: number | null;
  lastBatchId: number;
  lastBatchStrokesDone: number;
  lastBatchState: LastBatchState;
  emergencyStopEngaged: boolean;
  rigTimeMs: number;
}

/** Either side: the sequenced frame whose number is in the header's ack byte arrived. */
export interface AckMessage {
  type: 'ack';
}

/** Either side: the sequenced frame whose number is in the header's ack byte was refused. */
export interface NakMessage {
  type: 'nak';
  reason: NakReason;
}

/** Either side: sent when the sender has sent nothing else for heartbeatIntervalMs. */
export interface HeartbeatMessage {
  type: 'heartbeat';
  /** The sender's monotonic time, modulo 2^32. */
  timeMs: number;
}

/** Rig → host: the rig has no session and waits for a HELLO. */
export interface RigResetMessage {
  type: 'rigReset';
  reason: RigResetReason;
  bootId: number;
  rigTimeMs: number;
}

/** Host → rig: `count` strokes, the first `leadMs` after arrival, then one every `intervalMs`. */
export interface DeliverStrokesMessage {
  type: 'deliverStrokes';
  batchId: number;
  count: number;
  leadMs: number;
  intervalMs: number;
}

/** Host → rig: cancel the strokes of the running batch not yet started. */
export interface StopStrokesMessage {
  type: 'stopStrokes';
}

/** Host → rig: sound a pattern, cutting short one that sounds. */
export interface BuzzerToneMessage {
  type: 'buzzerTone';
  pattern: TonePattern;
}

/** Either side: the sender has stopped the motor and latched; see docs/protocol.md §5. */
export interface EmergencyStopMessage {
  type: 'emergencyStop';
  source: EmergencyStopSource;
}

/** Rig → host: a batch ended (exactly one report per accepted or rejected batch). */
export interface BatchReportMessage {
  type: 'batchReport';
  batchId: number;
  /** Strokes mechanically completed: what left the reservoir. */
  strokesDone: number;
  reason: BatchReportReason;
  rigTimeMs: number;
}

/** Rig → host: one reading of the balance under the outlet. */
export interface BalanceReadingMessage {
  type: 'balanceReading';
  /** Signed: a tared balance drifts below zero. */
  massUg: number;
  rigTimeMs: number;
  /** The balance itself flags the reading as settled. */
  stable: boolean;
}

/** Rig → host: the patient button was pressed (debounced by the rig). */
export interface ButtonPressMessage {
  type: 'buttonPress';
  /** Counts presses since the rig started, so the host can tell a gap. */
  pressId: number;
  rigTimeMs: number;
}

export type Message =
  | HelloMessage
  | HelloAckMessage
  | AckMessage
  | NakMessage
  | HeartbeatMessage
  | RigResetMessage
  | DeliverStrokesMessage
  | StopStrokesMessage
  | BuzzerToneMessage
  | EmergencyStopMessage
  | BatchReportMessage
  | BalanceReadingMessage
  | ButtonPressMessage;

export type MessageType = Message['type'];
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

/** Sequenced messages the host's application sends. */
export type HostAppMessage =
  | DeliverStrokesMessage
  | StopStrokesMessage
  | BuzzerToneMessage
  | EmergencyStopMessage;
/** Sequenced messages the rig's application sends. */
export type RigAppMessage =
  | BatchReportMessage
  | BalanceReadingMessage
  | ButtonPressMessage
  | EmergencyStopMessage;
export type AppMessage = HostAppMessage | RigAppMessage;

// --- Layouts -------------------------------------------------------------------------------------

export type Direction = 'hostToRig' | 'rigToHost' | 'both';

/** How one payload field travels. Every field is little-endian and has a fixed size. */
export type FieldSpec =
  | { name: string; kind: 'int'; wire: 'u8' | 'u16' | 'u32'; min?: number }
  | { name: string; kind: 'i64' }
  | { name: string; kind: 'enum'; codes: Readonly<Record<string, number>> }
  | { name: string; kind: 'bool' }
  | { name: string; kind: 'bits'; bits: readonly string[] }
  | { name: string; kind: 'u32OrNull' }
  | { name: string; kind: 'ascii' };

export interface MessageSpec {
  code: number;
  /** The name in docs/protocol.md. */
  wireName: string;
  direction: Direction;
  fields: readonly FieldSpec[];
  /** A rule across fields; returns what is wrong, or undefined. */
  check?: (message: never) => string | undefined;
}

export const nakReasonCodes: Readonly<Record<NakReason, number>> = {
  unknownType: 1,
  badPayload: 2,
  unexpected: 3,
  outOfSequence: 4,
};
export const rigResetReasonCodes: Readonly<Record<RigResetReason, number>> = {
  powerOn: 1,
  linkLost: 2,
};
export const emergencyStopSourceCodes: Readonly<Record<EmergencyStopSource, number>> = {
  host: 1,
  rigSwitch: 2,
  rigFault: 3,
};
export const tonePatternCodes: Readonly<Record<TonePattern, number>> = {
  pressGranted: 1,
  pressDenied: 2,
  alarmCritical: 3,
  alarmNonCritical: 4,
  alarmTest: 5,
};
/** One numbering for batch states, shared by BATCH_REPORT and HELLO_ACK; each uses a subset. */
export const batchStateCodes = {
  none: 0,
  running: 1,
  completed: 2,
  stopped: 3,
  stalled: 4,
  rejected: 5,
  linkLost: 6,
  interrupted: 7,
} as const;
export const batchReportReasonCodes: Readonly<Record<BatchReportReason, number>> = {
  completed: batchStateCodes.completed,
  stopped: batchStateCodes.stopped,
  stalled: batchStateCodes.stalled,
  rejected: batchStateCodes.rejected,
};
export const lastBatchStateCodes: Readonly<Record<LastBatchState, number>> = {
  none: batchStateCodes.none,
  running: batchStateCodes.running,
  completed: batchStateCodes.completed,
  stopped: batchStateCodes.stopped,
  stalled: batchStateCodes.stalled,
  linkLost: batchStateCodes.linkLost,
  interrupted: batchStateCodes.interrupted,
};
/** Bit i of the HELLO_ACK capabilities field. Unlisted bits are reserved: sent 0, ignored. */
export const capabilityBits: readonly (keyof RigCapabilities)[] = [
  'motor',
  'balance',
  'button',
  'buzzer',
  'emergencyStopSwitch',
  'persistentBatchRecord',
];

export const messageSpecs: { readonly [T in MessageType]: MessageSpec } = {
  hello: {
    code: 0x01,
    wireName: 'HELLO',
    direction: 'hostToRig',
    fields: [{ name: 'sessionId', kind: 'int', wire: 'u32', min: 1 }],
  },
  helloAck: {
    code: 0x02,
    wireName: 'HELLO_ACK',
    direction: 'rigToHost',
    fields: [
      { name: 'sessionId', kind: 'int', wire: 'u32', min: 1 },
      { name: 'bootId', kind: 'int', wire: 'u32' },
      { name: 'firmwareId', kind: 'ascii' },
      { name: 'capabilities', kind: 'bits', bits: capabilityBits },
      { name: 'strokesPerBatchMax', kind: 'int', wire: 'u32', min: 1 },
      { name: 'strokeVolumeNl', kind: 'u32OrNull' },
      { name: 'lastBatchId', kind: 'int', wire: 'u32' },
      { name: 'lastBatchStrokesDone', kind: 'int', wire: 'u32' },
      { name: 'lastBatchState', kind: 'enum', codes: lastBatchStateCodes },
      { name: 'emergencyStopEngaged', kind: 'bool' },
      { name: 'rigTimeMs', kind: 'int', wire: 'u32' },
    ],
    check: (m: HelloAckMessage) =>
      m.lastBatchState === 'none' && (m.lastBatchId !== 0 || m.lastBatchStrokesDone !== 0)
        ? `lastBatchState is none, so lastBatchId (${m.lastBatchId}) and lastBatchStrokesDone (${m.lastBatchStrokesDone}) must be 0`
        : undefined,
  },
  ack: { code: 0x03, wireName: 'ACK', direction: 'both', fields: [] },
  nak: {
    code: 0x04,
    wireName: 'NAK',
    direction: 'both',
    fields: [{ name: 'reason', kind: 'enum', codes: nakReasonCodes }],
  },
  heartbeat: {
    code: 0x05,
    wireName: 'HEARTBEAT',
    direction: 'both',
    fields: [{ name: 'timeMs', kind: 'int', wire: 'u32' }],
  },
  rigReset: {
    code: 0x06,
    wireName: 'RIG_RESET',
    direction: 'rigToHost',
    fields: [
      { name: 'reason', kind: 'enum', codes: rigResetReasonCodes },
      { name: 'bootId', kind: 'int', wire: 'u32' },
      { name: 'rigTimeMs', kind: 'int', wire: 'u32' },
    ],
  },
  deliverStrokes: {
    code: 0x81,
    wireName: 'DELIVER_STROKES',
    direction: 'hostToRig',
    fields: [
      { name: 'batchId', kind: 'int', wire: 'u32' },
      { name: 'count', kind: 'int', wire: 'u32', min: 1 },
      { name: 'leadMs', kind: 'int', wire: 'u32' },
      { name: 'intervalMs', kind: 'int', wire: 'u32', min: 1 },
    ],
  },
  stopStrokes: { code: 0x82, wireName: 'STOP_STROKES', direction: 'hostToRig', fields: [] },
  buzzerTone: {
    code: 0x83,
    wireName: 'BUZZER_TONE',
    direction: 'hostToRig',
    fields: [{ name: 'pattern', kind: 'enum', codes: tonePatternCodes }],
  },
  emergencyStop: {
    code: 0x84,
    wireName: 'EMERGENCY_STOP',
    direction: 'both',
    fields: [{ name: 'source', kind: 'enum', codes: emergencyStopSourceCodes }],
  },
  batchReport: {
    code: 0xa1,
    wireName: 'BATCH_REPORT',
    direction: 'rigToHost',
    fields: [
      { name: 'batchId', kind: 'int', wire: 'u32' },
      { name: 'strokesDone', kind: 'int', wire: 'u32' },
      { name: 'reason', kind: 'enum', codes: batchReportReasonCodes },
      { name: 'rigTimeMs', kind: 'int', wire: 'u32' },
    ],
    check: (m: BatchReportMessage) =>
      m.reason === 'rejected' && m.strokesDone !== 0
        ? `reason is rejected, so strokesDone (${m.strokesDone}) must be 0`
        : undefined,
  },
  balanceReading: {
    code: 0xa2,
    wireName: 'BALANCE_READING',
    direction: 'rigToHost',
    fields: [
      { name: 'massUg', kind: 'i64' },
      { name: 'rigTimeMs', kind: 'int', wire: 'u32' },
      { name: 'stable', kind: 'bool' },
    ],
  },
  buttonPress: {
    code: 0xa3,
    wireName: 'BUTTON_PRESS',
    direction: 'rigToHost',
    fields: [
      { name: 'pressId', kind: 'int', wire: 'u32' },
      { name: 'rigTimeMs', kind: 'int', wire: 'u32' },
    ],
  },
};

export const messageTypes = Object.keys(messageSpecs) as MessageType[];

const messageTypeByCode = new Map<number, MessageType>(
  messageTypes.map((type) => [messageSpecs[type].code, type]),
);

/** The message type of a type code, or undefined for a code this version does not know. */
export function messageTypeOfCode(code: number): MessageType | undefined {
  return messageTypeByCode.get(code);
}

/** Bit 7 of the type code: the frame carries a sequence number and is answered by ACK or NAK. */
export function isSequencedCode(code: number): boolean {
  return (code & 0x80) !== 0;
}

export function isSequenced(type: MessageType): boolean {
  return isSequencedCode(messageSpecs[type].code);
}

/** Whether `type` may travel from the given side. */
export function maySend(type: MessageType, from: 'host' | 'rig'): boolean {
  const { direction } = messageSpecs[type];
  return direction === 'both' || direction === (from === 'host' ? 'hostToRig' : 'rigToHost');
}

export function fieldBytes(field: FieldSpec): number {
  switch (field.kind) {
    case 'int':
      return field.wire === 'u8' ? 1 : field.wire === 'u16' ? 2 : 4;
    case 'i64':
      return 8;
    case 'enum':
    case 'bool':
      return 1;
    case 'bits':
      return 2;
    case 'u32OrNull':
      return 4;
    case 'ascii':
      return firmwareIdBytes;
  }
}

/** The wire type a field's table row shows in docs/protocol.md. */
export function fieldWireType(field: FieldSpec): string {
  switch (field.kind) {
    case 'int':
      return field.wire;
    case 'i64':
      return 'i64';
    case 'enum':
    case 'bool':
      return 'u8';
    case 'bits':
      return 'u16';
    case 'u32OrNull':
      return 'u32';
    case 'ascii':
      return `char[${firmwareIdBytes}]`;
  }
}

export function payloadBytes(type: MessageType): number {
  return messageSpecs[type].fields.reduce((sum, field) => sum + fieldBytes(field), 0);
}

// --- Encoding ------------------------------------------------------------------------------------

function intMax(wire: 'u8' | 'u16' | 'u32'): number {
  return wire === 'u8' ? u8Max : wire === 'u16' ? u16Max : u32Max;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Checks one field of a message; returns what is wrong with it, or undefined. */
function fieldProblem(field: FieldSpec, value: unknown): string | undefined {
  switch (field.kind) {
    case 'int': {
      const min = field.min ?? 0;
      const max = intMax(field.wire);
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        return `is ${describe(value)}, must be an integer in ${min}..${max}`;
      }
      return undefined;
    }
    case 'i64':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        return `is ${describe(value)}, must be a safe integer in ${Number.MIN_SAFE_INTEGER}..${Number.MAX_SAFE_INTEGER}`;
      }
      return undefined;
    case 'enum':
      if (typeof value !== 'string' || !Object.hasOwn(field.codes, value)) {
        return `is ${describe(value)}, must be one of ${Object.keys(field.codes).join(', ')}`;
      }
      return undefined;
    case 'bool':
      return typeof value === 'boolean'
        ? undefined
        : `is ${describe(value)}, must be true or false`;
    case 'bits': {
      if (typeof value !== 'object' || value === null)
        return `is ${describe(value)}, must be an object of booleans`;
      const bad = field.bits.find(
        (bit) => typeof (value as Record<string, unknown>)[bit] !== 'boolean',
      );
      return bad === undefined
        ? undefined
        : `.${bad} is ${describe((value as Record<string, unknown>)[bad])}, must be true or false`;
    }
    case 'u32OrNull':
      if (value === null) return undefined;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > u32Max) {
        return `is ${describe(value)}, must be null or an integer in 1..${u32Max}`;
      }
      return undefined;
    case 'ascii':
      if (
        typeof value !== 'string' ||
        value.length > firmwareIdBytes ||
        !/^[\x20-\x7e]*$/.test(value)
      ) {
        return `is ${describe(value)}, must be printable ASCII of at most ${firmwareIdBytes} characters`;
      }
      return undefined;
  }
}

function writeField(
  view: DataView,
  bytes: Uint8Array,
  offset: number,
  field: FieldSpec,
  value: unknown,
): void {
  switch (field.kind) {
    case 'int':
      if (field.wire === 'u8') view.setUint8(offset, value as number);
      else if (field.wire === 'u16') view.setUint16(offset, value as number, true);
      else view.setUint32(offset, value as number, true);
      return;
    case 'i64':
      view.setBigInt64(offset, BigInt(value as number), true);
      return;
    case 'enum':
      view.setUint8(offset, field.codes[value as string]!);
      return;
    case 'bool':
      view.setUint8(offset, value ? 1 : 0);
      return;
    case 'bits': {
      const flags = value as Record<string, boolean>;
      view.setUint16(
        offset,
        field.bits.reduce((mask, bit, index) => (flags[bit] ? mask | (1 << index) : mask), 0),
        true,
      );
      return;
    }
    case 'u32OrNull':
      view.setUint32(offset, value === null ? 0 : (value as number), true);
      return;
    case 'ascii': {
      const text = value as string;
      for (let i = 0; i < text.length; i++) bytes[offset + i] = text.charCodeAt(i);
      return; // the rest stays 0: NUL padding
    }
  }
}

/** Why `message` may not be sent, or undefined when it is valid. */
export function messageProblem(message: Message): string | undefined {
  const spec = messageSpecs[message.type] as MessageSpec | undefined;
  if (spec === undefined)
    return `type ${describe(message.type)} is not a message type (known: ${messageTypes.join(', ')})`;
  const record = message as unknown as Record<string, unknown>;
  for (const field of spec.fields) {
    const problem = fieldProblem(field, record[field.name]);
    if (problem !== undefined)
      return `${message.type}.${field.name}${problem.startsWith('.') ? '' : ' '}${problem}`;
  }
  const rule = spec.check?.(message as never);
  return rule === undefined ? undefined : `${message.type}: ${rule}`;
}

/** The payload bytes of a message. Throws `LocalProtocolError` for an invalid message. */
export function encodePayload(message: Message): Uint8Array {
  const problem = messageProblem(message);
  if (problem !== undefined) throw new LocalProtocolError(problem);
  const spec = messageSpecs[message.type];
  const bytes = new Uint8Array(payloadBytes(message.type));
  const view = new DataView(bytes.buffer);
  const record = message as unknown as Record<string, unknown>;
  let offset = 0;
  for (const field of spec.fields) {
    writeField(view, bytes, offset, field, record[field.name]);
    offset += fieldBytes(field);
  }
  return bytes;
}

// --- Decoding ------------------------------------------------------------------------------------

function readField(
  type: MessageType,
  view: DataView,
  bytes: Uint8Array,
  offset: number,
  field: FieldSpec,
): unknown {
  const bad = (what: string) =>
    new RemoteProtocolError('badPayload', `${type}.${field.name} ${what}`);
  switch (field.kind) {
    case 'int': {
      const value =
        field.wire === 'u8'
          ? view.getUint8(offset)
          : field.wire === 'u16'
            ? view.getUint16(offset, true)
            : view.getUint32(offset, true);
      if (value < (field.min ?? 0)) throw bad(`is ${value}, must be at least ${field.min}`);
      return value;
    }
    case 'i64': {
      const value = view.getBigInt64(offset, true);
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw bad(`is ${value}, must be within ±${Number.MAX_SAFE_INTEGER}`);
      }
      return Number(value);
    }
    case 'enum': {
      const code = view.getUint8(offset);
      const name = Object.keys(field.codes).find((key) => field.codes[key] === code);
      if (name === undefined) {
        throw bad(
          `code ${code} is unknown (known: ${Object.entries(field.codes)
            .map(([k, v]) => `${v}=${k}`)
            .join(', ')})`,
        );
      }
      return name;
    }
    case 'bool': {
      const value = view.getUint8(offset);
      if (value > 1) throw bad(`is ${value}, must be 0 or 1`);
      return value === 1;
    }
    case 'bits': {
      // Reserved bits are ignored, so a newer rig with more capabilities still talks to us.
      const mask = view.getUint16(offset, true);
      return Object.fromEntries(field.bits.map((bit, index) => [bit, (mask & (1 << index)) !== 0]));
    }
    case 'u32OrNull': {
      const value = view.getUint32(offset, true);
      return value === 0 ? null : value;
    }
    case 'ascii': {
      const raw = bytes.subarray(offset, offset + firmwareIdBytes);
      let length = raw.indexOf(0);
      if (length === -1) length = firmwareIdBytes;
      const text = String.fromCharCode(...raw.subarray(0, length));
      if (!/^[\x20-\x7e]*$/.test(text) || raw.subarray(length).some((byte) => byte !== 0)) {
        throw bad('is not printable ASCII padded with NUL bytes');
      }
      return text;
    }
  }
}

/**
 * The message in a payload. Throws `RemoteProtocolError` ('unknownType', 'badLength' or
 * 'badPayload') when the bytes are not a valid message.
 */
export function decodePayload(typeCode: number, payload: Uint8Array): Message {
  const type = messageTypeOfCode(typeCode);
  if (type === undefined) {
    throw new RemoteProtocolError(
      'unknownType',
      `type code 0x${typeCode.toString(16).padStart(2, '0')} is unknown`,
    );
  }
  const expectedBytes = payloadBytes(type);
  if (payload.length !== expectedBytes) {
    throw new RemoteProtocolError(
      'badLength',
      `${type} payload is ${payload.length} bytes, must be ${expectedBytes}`,
    );
  }
  const spec = messageSpecs[type];
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const record: Record<string, unknown> = { type };
  let offset = 0;
  for (const field of spec.fields) {
    record[field.name] = readField(type, view, payload, offset, field);
    offset += fieldBytes(field);
  }
  const rule = spec.check?.(record as never);
  if (rule !== undefined) throw new RemoteProtocolError('badPayload', `${type}: ${rule}`);
  return record as unknown as Message;
}

// Checked where the module loads: no layout may outgrow the decoder's buffer.
for (const type of messageTypes) {
  assert(
    payloadBytes(type) <= payloadBytesMax,
    `${type} payload is ${payloadBytes(type)} bytes, over payloadBytesMax ${payloadBytesMax}`,
  );
}

/**
 * The link layer of the serial rig protocol, without I/O: one state machine per end of the wire
 * (`HostLink`, `RigLink`), driven by bytes and times the caller passes in (docs/protocol.md §6).
 *
 * What it does: the HELLO / HELLO_ACK handshake, sequence numbers, ACK and NAK, retransmission
 * after `ackTimeoutMs` up to `retransmitsMax` times, heartbeats, link-lost detection after
 * `linkLostMs` of silence, and duplicate suppression (a retransmitted frame the receiver already
 * has is answered again but delivered to the application once).
 *
 * Rules:
 * - Sans-IO: no timers, no clock, no port. Every method that can change state takes `nowMs`, and
 *   time never goes back (an assertion: the caller owns the clock). Bytes to write collect in
 *   `bytesToSend()`; application messages arrive as events from `nextEvent()`. The caller calls
 *   `handleTimeout(nowMs)` when `nextDeadlineMs()` has come.
 * - Stop-and-wait: one sequenced frame in flight per direction. Traffic is a command every few
 *   seconds and a balance reading every few seconds at most, and a single retransmit buffer is what
 *   a rig's microcontroller can afford to get right.
 * - Each session begins with sequence numbers at 0 on both sides and ends with exactly one
 *   `linkLost` event, which hands back the message that may or may not have arrived
 *   (`unconfirmed`) and those that certainly did not (`unsent`). Nothing is carried into the next
 *   session: what matters across sessions (the last batch) travels in HELLO_ACK.
 * - Invalid messages are our bugs (`LocalProtocolError`); sending without a session or beyond the
 *   queue bound is the world's fault (`LinkError`). Nothing received can throw.
 *
 * This module knows nothing of serial ports, timers, the HAL or what a stroke is.
 */
import { assert } from '../assert.js';
import {
  ackTimeoutMs,
  handshakeTimeoutMs,
  heartbeatIntervalMs,
  helloIntervalMs,
  linkLostMs,
  retransmitsMax,
  sendQueueLengthMax,
  seqModulus,
  u32Max,
  wireTimeModulusMs,
} from './constants.js';
import { LinkError, LocalProtocolError } from './errors.js';
import {
  encodeFrame,
  FrameDecoder,
  type DecodedFrame,
  type Frame,
  type FrameDecoderStats,
} from './frame.js';
import {
  isSequenced,
  isSequencedCode,
  maySend,
  messageProblem,
  type AppMessage,
  type HelloAckMessage,
  type HostAppMessage,
  type Message,
  type NakReason,
  type RigAppMessage,
  type RigResetMessage,
  type RigResetReason,
} from './messages.js';

export type LinkRole = 'host' | 'rig';

export type LinkLostReason =
  | 'silence' // no valid frame from the peer for linkLostMs
  | 'retransmitsExhausted' // a sequenced frame stayed unanswered after retransmitsMax retransmits
  | 'outOfSequence' // the peer answered our frame with NAK outOfSequence: the sessions diverged
  | 'rigReset' // host only: the rig announced that it has no session (RIG_RESET)
  | 'newSession'; // rig only: a HELLO with a new session id replaced the session

/** Events common to both ends. `In` is what the peer's application sends, `Out` what ours does. */
export type LinkSessionEvent<In extends AppMessage, Out extends AppMessage> =
  /** A sequenced message from the peer, delivered once and in order. */
  | { type: 'message'; message: In }
  /** The peer refused our message with a NAK; it will not be sent again. */
  | { type: 'rejected'; message: Out; reason: Exclude<NakReason, 'outOfSequence'> }
  | {
      type: 'linkLost';
      reason: LinkLostReason;
      /** Sent but not acknowledged: the peer may or may not have it. */
      unconfirmed: Out | undefined;
      /** Never sent: the peer certainly does not have them. */
      unsent: Out[];
      /** The RIG_RESET that ended the session, when that was the reason. */
      rigReset?: RigResetMessage;
    };

export type HostLinkEvent =
  | LinkSessionEvent<RigAppMessage, HostAppMessage>
  /** The rig answered our HELLO. `rigRebooted` when its bootId differs from the last session's. */
  | { type: 'linkUp'; helloAck: HelloAckMessage; rigRebooted: boolean }
  /** No HELLO_ACK for handshakeTimeoutMs; reported once per attempt, the host keeps trying. */
  | {
      type: 'handshakeUnanswered';
      sinceMs: number;
      /** What arrived meanwhile: garbage suggests a wrong baud rate, `badVersion` another version. */
      decoderStats: FrameDecoderStats;
      foreignVersion: number | undefined;
    };

export type RigLinkEvent =
  | LinkSessionEvent<HostAppMessage, RigAppMessage>
  /** A HELLO opened a new session; the HELLO_ACK is already on its way. */
  | { type: 'linkUp'; sessionId: number };

/** What the rig reports in HELLO_ACK, kept up to date by the rig's application. */
export type RigStatus = Omit<HelloAckMessage, 'type' | 'sessionId' | 'rigTimeMs'>;

export interface LinkStats {
  framesSent: number;
  retransmits: number;
  /** Sequenced frames received again (their answer was lost) and not delivered again. */
  duplicatesReceived: number;
  /** ACK or NAK for a frame no longer in flight (the answer to a retransmit, for one). */
  staleAnswers: number;
  naksSent: number;
  naksReceived: number;
  /** Valid frames that made no sense in the current state (a HELLO_ACK of an old attempt). */
  framesIgnored: number;
  linkLosses: number;
}

interface InFlight<Out> {
  message: Out;
  seq: number;
  bytes: Uint8Array;
  deadlineMs: number;
  retransmits: number;
}

/** The answer given to the last sequenced frame, repeated if that frame comes again. */
interface LastReceived {
  seq: number;
  answer: Frame;
}

/** What both ends share: sequencing, answers, retransmits, heartbeats, silence, I/O queues. */
abstract class LinkEndpoint<In extends AppMessage, Out extends AppMessage, Event> {
  readonly stats: LinkStats = {
    framesSent: 0,
    retransmits: 0,
    duplicatesReceived: 0,
    staleAnswers: 0,
    naksSent: 0,
    naksReceived: 0,
    framesIgnored: 0,
    linkLosses: 0,
  };
  protected readonly decoder = new FrameDecoder();
  protected readonly events: Event[] = [];
  protected established = false;
  protected nowMs: number;
  protected lastRxMs: number;
  protected lastTxMs: number;

  private outbox: Uint8Array[] = [];
  private txSeq = 0;
  private inFlight: InFlight<Out> | undefined;
  private queue: Out[] = [];
  private rxExpectedSeq = 0;
  private lastReceived: LastReceived | undefined;

  protected constructor(
    readonly role: LinkRole,
    startMs: number,
  ) {
    assert(Number.isSafeInteger(startMs), `link startMs is ${startMs}, must be a safe integer`);
    this.nowMs = startMs;
    this.lastRxMs = startMs;
    this.lastTxMs = startMs;
  }

  /** Whether a session is open. */
  get linkUp(): boolean {
    return this.established;
  }

  get decoderStats(): FrameDecoderStats {
    return this.decoder.stats;
  }

  /** Messages waiting to be sent, not counting the one in flight. */
  get queueLength(): number {
    return this.queue.length;
  }

  /** Whether `send()` would accept a message now. */
  canSend(): boolean {
    return this.established && this.queue.length < sendQueueLengthMax;
  }

  /**
   * Queue a sequenced application message. Throws `LocalProtocolError` for an invalid message or
   * one this side may not send, `LinkError` when there is no session or the queue is full.
   */
  send(message: Out, nowMs: number): void {
    this.advanceTo(nowMs);
    const problem = messageProblem(message);
    if (problem !== undefined) throw new LocalProtocolError(problem);
    if (!isSequenced(message.type) || !maySend(message.type, this.role)) {
      throw new LocalProtocolError(
        `${message.type} is not an application message the ${this.role} may send`,
      );
    }
    if (!this.established)
      throw new LinkError(
        'linkDown',
        `cannot send ${message.type}: no session with the ${this.peer}`,
      );
    if (this.queue.length >= sendQueueLengthMax) {
      throw new LinkError(
        'queueFull',
        `cannot send ${message.type}: ${this.queue.length} messages wait, sendQueueLengthMax is ${sendQueueLengthMax}`,
      );
    }
    this.queue.push({ ...message });
    this.pump();
  }

  /** Bytes from the wire, in any chunks. Never throws, whatever the bytes. */
  receiveBytes(bytes: Uint8Array, nowMs: number): void {
    this.advanceTo(nowMs);
    this.decoder.receiveBytes(bytes);
    for (
      let decoded = this.decoder.nextFrame();
      decoded !== 'needData';
      decoded = this.decoder.nextFrame()
    ) {
      this.receiveDecoded(decoded);
    }
  }

  /** Act on every deadline that has come by `nowMs`. */
  handleTimeout(nowMs: number): void {
    this.advanceTo(nowMs);
    if (this.established && nowMs - this.lastRxMs >= linkLostMs) {
      this.loseLink('silence');
    } else if (
      this.established &&
      this.inFlight !== undefined &&
      nowMs >= this.inFlight.deadlineMs
    ) {
      if (this.inFlight.retransmits >= retransmitsMax) {
        this.loseLink('retransmitsExhausted');
      } else {
        this.inFlight.retransmits++;
        this.inFlight.deadlineMs = nowMs + ackTimeoutMs;
        this.stats.retransmits++;
        this.write(this.inFlight.bytes);
      }
    }
    if (this.established && nowMs - this.lastTxMs >= heartbeatIntervalMs) {
      this.writeFrame({ type: 'heartbeat', timeMs: wireTimeMs(nowMs) });
    }
    this.handleRoleTimeout(nowMs);
  }

  /** The earliest time at which `handleTimeout` has something to do. */
  nextDeadlineMs(): number {
    if (!this.established) return this.roleDeadlineMs();
    return Math.min(
      this.lastRxMs + linkLostMs,
      this.lastTxMs + heartbeatIntervalMs,
      this.inFlight?.deadlineMs ?? Number.POSITIVE_INFINITY,
    );
  }

  /** All bytes to write to the wire since the last call, in order. */
  bytesToSend(): Uint8Array {
    const chunks = this.outbox;
    this.outbox = [];
    if (chunks.length === 1) return chunks[0]!;
    const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  }

  /** The next event for the application, or undefined when there is none. */
  nextEvent(): Event | undefined {
    return this.events.shift();
  }

  // --- Hooks for the two roles ------------------------------------------------------------------

  protected abstract get peer(): LinkRole;
  /** A valid frame from the peer while there is no session. */
  protected abstract receiveWithoutSession(frame: Frame): void;
  /** A link-control frame other than ACK, NAK and HEARTBEAT during a session. */
  protected abstract receiveControl(frame: Frame): void;
  protected abstract handleRoleTimeout(nowMs: number): void;
  protected abstract roleDeadlineMs(): number;
  protected abstract sessionEvent(event: LinkSessionEvent<In, Out>): Event;
  /** Called after the session state is cleared by `loseLink`. */
  protected abstract afterLinkLost(): void;

  // --- Shared machinery ------------------------------------------------------------------------

  protected advanceTo(nowMs: number): void {
    assert(Number.isSafeInteger(nowMs), `nowMs is ${nowMs}, must be a safe integer`);
    assert(nowMs >= this.nowMs, `time went back: ${nowMs} < ${this.nowMs}`);
    this.nowMs = nowMs;
  }

  protected write(bytes: Uint8Array): void {
    this.outbox.push(bytes);
    this.lastTxMs = this.nowMs;
    this.stats.framesSent++;
  }

  protected writeFrame(message: Message, seq = 0, ack = 0): void {
    this.write(encodeFrame({ seq, ack, message }));
  }

  /** Open a session: numbering restarts at 0 on both sides. */
  protected openSession(): void {
    assert(!this.established, 'openSession while a session is open');
    assert(
      this.inFlight === undefined && this.queue.length === 0,
      'openSession with messages left from a session',
    );
    this.established = true;
    this.txSeq = 0;
    this.rxExpectedSeq = 0;
    this.lastReceived = undefined;
    this.lastRxMs = this.nowMs;
  }

  /** End the session, hand its unfinished messages back, and let the role start over. */
  protected loseLink(reason: LinkLostReason, rigReset?: RigResetMessage): void {
    assert(this.established, `loseLink (${reason}) without a session`);
    const unconfirmed = this.inFlight?.message;
    const unsent = this.queue;
    this.established = false;
    this.inFlight = undefined;
    this.queue = [];
    this.lastReceived = undefined;
    this.stats.linkLosses++;
    const event: LinkSessionEvent<In, Out> = { type: 'linkLost', reason, unconfirmed, unsent };
    if (rigReset !== undefined) event.rigReset = rigReset;
    this.events.push(this.sessionEvent(event));
    this.afterLinkLost();
  }

  private receiveDecoded(decoded: DecodedFrame): void {
    // Any frame whose CRC holds shows the peer is there, whatever it says.
    if (this.established) this.lastRxMs = this.nowMs;
    if (decoded.kind === 'rejected') {
      // The CRC held, so the header is the peer's: a sequenced frame gets a NAK, so that its
      // sender gives up on it instead of retransmitting until the link drops.
      if (this.established && isSequencedCode(decoded.typeCode)) {
        this.receiveSequenced(
          decoded.seq,
          decoded.error.kind === 'unknownType' ? 'unknownType' : 'badPayload',
        );
      }
      return;
    }
    const { frame } = decoded;
    const { message } = frame;
    if (!maySend(message.type, this.peer)) {
      this.stats.framesIgnored++;
      if (this.established && isSequenced(message.type))
        this.receiveSequenced(frame.seq, 'unexpected');
      return;
    }
    if (!this.established) {
      this.receiveWithoutSession(frame);
      return;
    }
    if (message.type === 'ack') this.receiveAnswer(frame.ack, undefined);
    else if (message.type === 'nak') this.receiveAnswer(frame.ack, message.reason);
    else if (message.type === 'heartbeat') return;
    else if (isSequenced(message.type)) this.receiveSequenced(frame.seq, undefined, message as In);
    else this.receiveControl(frame);
  }

  /** A sequenced frame: deliver it if new, answer again if repeated, refuse if neither. */
  private receiveSequenced(seq: number, refusal: NakReason | undefined, message?: In): void {
    if (seq === this.rxExpectedSeq) {
      const answer: Frame =
        refusal === undefined
          ? { seq: 0, ack: seq, message: { type: 'ack' } }
          : { seq: 0, ack: seq, message: { type: 'nak', reason: refusal } };
      this.lastReceived = { seq, answer };
      this.rxExpectedSeq = (seq + 1) % seqModulus;
      this.writeAnswer(answer);
      if (refusal === undefined) {
        assert(message !== undefined, 'an accepted sequenced frame without a message');
        this.events.push(this.sessionEvent({ type: 'message', message }));
      }
    } else if (this.lastReceived !== undefined && seq === this.lastReceived.seq) {
      this.stats.duplicatesReceived++;
      this.writeAnswer(this.lastReceived.answer);
    } else {
      this.writeAnswer({ seq: 0, ack: seq, message: { type: 'nak', reason: 'outOfSequence' } });
    }
  }

  private writeAnswer(answer: Frame): void {
    if (answer.message.type === 'nak') this.stats.naksSent++;
    this.write(encodeFrame(answer));
  }

  private receiveAnswer(ackSeq: number, nak: NakReason | undefined): void {
    if (nak !== undefined) this.stats.naksReceived++;
    const inFlight = this.inFlight;
    if (inFlight === undefined || inFlight.seq !== ackSeq) {
      this.stats.staleAnswers++;
      return;
    }
    if (nak === 'outOfSequence') {
      this.loseLink('outOfSequence');
      return;
    }
    this.inFlight = undefined;
    if (nak !== undefined)
      this.events.push(
        this.sessionEvent({ type: 'rejected', message: inFlight.message, reason: nak }),
      );
    this.pump();
  }

  /** Put the next queued message in flight if the wire is free. */
  private pump(): void {
    if (!this.established || this.inFlight !== undefined) return;
    const message = this.queue.shift();
    if (message === undefined) return;
    const seq = this.txSeq;
    this.txSeq = (seq + 1) % seqModulus;
    const bytes = encodeFrame({ seq, ack: 0, message });
    this.inFlight = { message, seq, bytes, deadlineMs: this.nowMs + ackTimeoutMs, retransmits: 0 };
    this.write(bytes);
  }
}

/** A time on the wire: milliseconds modulo 2^32. */
export function wireTimeMs(nowMs: number): number {
  return ((nowMs % wireTimeModulusMs) + wireTimeModulusMs) % wireTimeModulusMs;
}

export interface HostLinkOptions {
  startMs: number;
  /**
   * The session id of the first HELLO, 1..2^32-1; later sessions count up from it. Pass an
   * unpredictable value (crypto.randomInt): a rig that still holds the session of a previous host
   * process would take a repeated id for a retransmitted HELLO and keep its old numbering.
   */
  sessionIdFirst: number;
}

/**
 * The host's end: connects by sending HELLO every helloIntervalMs until a HELLO_ACK with its
 * session id arrives, and connects again, with a new session id, whenever the link is lost.
 */
export class HostLink extends LinkEndpoint<RigAppMessage, HostAppMessage, HostLinkEvent> {
  private sessionId: number;
  private connectingSinceMs: number;
  private nextHelloMs: number;
  private handshakeReported = false;
  private lastBootId: number | undefined;

  constructor(options: HostLinkOptions) {
    super('host', options.startMs);
    const { sessionIdFirst } = options;
    if (!Number.isInteger(sessionIdFirst) || sessionIdFirst < 1 || sessionIdFirst > u32Max) {
      throw new LocalProtocolError(
        `sessionIdFirst is ${sessionIdFirst}, must be an integer in 1..${u32Max}`,
      );
    }
    this.sessionId = sessionIdFirst;
    this.connectingSinceMs = options.startMs;
    this.nextHelloMs = options.startMs;
    this.sendHello();
  }

  get state(): 'connecting' | 'established' {
    return this.established ? 'established' : 'connecting';
  }

  /** The session id of the current session or connection attempt. */
  get currentSessionId(): number {
    return this.sessionId;
  }

  protected get peer(): LinkRole {
    return 'rig';
  }

  protected receiveWithoutSession(frame: Frame): void {
    const { message } = frame;
    if (message.type !== 'helloAck' || message.sessionId !== this.sessionId) {
      // Traffic of an earlier session, or RIG_RESET notices: our HELLOs already answer them.
      this.stats.framesIgnored++;
      return;
    }
    this.openSession();
    const rigRebooted = this.lastBootId !== undefined && this.lastBootId !== message.bootId;
    this.lastBootId = message.bootId;
    this.events.push({ type: 'linkUp', helloAck: message, rigRebooted });
  }

  protected receiveControl(frame: Frame): void {
    if (frame.message.type === 'rigReset') this.loseLink('rigReset', frame.message);
    else this.stats.framesIgnored++; // a second HELLO_ACK, answering a retransmitted HELLO
  }

  protected handleRoleTimeout(nowMs: number): void {
    if (this.established) return;
    if (nowMs >= this.nextHelloMs) this.sendHello();
    if (!this.handshakeReported && nowMs - this.connectingSinceMs >= handshakeTimeoutMs) {
      this.handshakeReported = true;
      this.events.push({
        type: 'handshakeUnanswered',
        sinceMs: this.connectingSinceMs,
        decoderStats: { ...this.decoder.stats },
        foreignVersion: this.decoder.foreignVersion,
      });
    }
  }

  protected roleDeadlineMs(): number {
    const handshakeMs = this.handshakeReported
      ? Number.POSITIVE_INFINITY
      : this.connectingSinceMs + handshakeTimeoutMs;
    return Math.min(this.nextHelloMs, handshakeMs);
  }

  protected sessionEvent(event: LinkSessionEvent<RigAppMessage, HostAppMessage>): HostLinkEvent {
    return event;
  }

  protected afterLinkLost(): void {
    this.sessionId = this.sessionId === u32Max ? 1 : this.sessionId + 1;
    this.connectingSinceMs = this.nowMs;
    this.handshakeReported = false;
    this.sendHello();
  }

  private sendHello(): void {
    this.writeFrame({ type: 'hello', sessionId: this.sessionId });
    this.nextHelloMs = this.nowMs + helloIntervalMs;
  }
}

export interface RigLinkOptions {
  startMs: number;
  status: RigStatus;
}

/**
 * The rig's end: announces RIG_RESET every heartbeatIntervalMs (and in answer to any frame) while
 * it has no session, opens a session on a HELLO with a new session id, and answers a repeated
 * HELLO of the current session with HELLO_ACK without touching the session.
 */
export class RigLink extends LinkEndpoint<HostAppMessage, RigAppMessage, RigLinkEvent> {
  private status: RigStatus;
  private sessionId: number | undefined;
  private resetReason: RigResetReason = 'powerOn';

  constructor(options: RigLinkOptions) {
    super('rig', options.startMs);
    this.status = checkedStatus(options.status);
    this.sendRigReset();
  }

  get state(): 'awaitingHello' | 'established' {
    return this.established ? 'established' : 'awaitingHello';
  }

  get currentSessionId(): number | undefined {
    return this.sessionId;
  }

  /** Replace what the next HELLO_ACK reports. Throws `LocalProtocolError` for an invalid status. */
  setStatus(status: RigStatus): void {
    this.status = checkedStatus(status);
  }

  protected get peer(): LinkRole {
    return 'host';
  }

  protected receiveWithoutSession(frame: Frame): void {
    if (frame.message.type === 'hello') this.startSession(frame.message.sessionId);
    else this.sendRigReset(); // the host still believes in a session we no longer have
  }

  protected receiveControl(frame: Frame): void {
    const { message } = frame;
    if (message.type !== 'hello') {
      this.stats.framesIgnored++;
      return;
    }
    if (message.sessionId === this.sessionId) {
      // A retransmitted HELLO whose HELLO_ACK was lost or is late: answer, keep the numbering.
      this.sendHelloAck();
      return;
    }
    this.loseLink('newSession');
    this.startSession(message.sessionId);
  }

  protected handleRoleTimeout(nowMs: number): void {
    if (!this.established && nowMs - this.lastTxMs >= heartbeatIntervalMs) this.sendRigReset();
  }

  protected roleDeadlineMs(): number {
    return this.lastTxMs + heartbeatIntervalMs;
  }

  protected sessionEvent(event: LinkSessionEvent<HostAppMessage, RigAppMessage>): RigLinkEvent {
    return event;
  }

  protected afterLinkLost(): void {
    this.sessionId = undefined;
    this.resetReason = 'linkLost';
    this.sendRigReset();
  }

  private startSession(sessionId: number): void {
    this.sessionId = sessionId;
    this.openSession();
    this.sendHelloAck();
    this.events.push({ type: 'linkUp', sessionId });
  }

  private sendHelloAck(): void {
    assert(this.sessionId !== undefined, 'HELLO_ACK without a session id');
    this.writeFrame({
      type: 'helloAck',
      ...this.status,
      sessionId: this.sessionId,
      rigTimeMs: wireTimeMs(this.nowMs),
    });
  }

  private sendRigReset(): void {
    this.writeFrame({
      type: 'rigReset',
      reason: this.resetReason,
      bootId: this.status.bootId,
      rigTimeMs: wireTimeMs(this.nowMs),
    });
  }
}

function checkedStatus(status: RigStatus): RigStatus {
  const problem = messageProblem({ type: 'helloAck', ...status, sessionId: 1, rigTimeMs: 0 });
  if (problem !== undefined) throw new LocalProtocolError(`rig status: ${problem}`);
  return { ...status, capabilities: { ...status.capabilities } };
}

/**
 * Every number of the serial rig protocol (docs/protocol.md), in one place.
 *
 * Rules: a limit ends in `Max` or `Min`, a unit stands last. The relations between these numbers
 * (the heartbeat comes well before the link is declared lost, all retransmits of one frame fit in
 * the silence window, a frame's round trip at the slowest allowed baud rate fits in the ack
 * timeout) are asserted in tests/protocol/constants.test.ts, the TypeScript stand-in for a
 * compile-time assert. A rig's firmware must use the same values; docs/protocol.md §7 lists them.
 *
 * This module knows nothing of serial ports, timers or the HAL.
 */

/** The version byte every frame starts with. A receiver drops frames of any other version. */
export const protocolVersion = 1;

// --- SLIP framing (RFC 1055) ----------------------------------------------------------------

/** Ends (and, in this protocol, also starts) every frame on the wire. */
export const slipEnd = 0xc0;
/** Starts a two-byte escape sequence. */
export const slipEsc = 0xdb;
/** After `slipEsc`: stands for a data byte equal to `slipEnd`. */
export const slipEscEnd = 0xdc;
/** After `slipEsc`: stands for a data byte equal to `slipEsc`. */
export const slipEscEsc = 0xdd;

// --- Frame layout -----------------------------------------------------------------------------

/** version u8, type u8, seq u8, ack u8, payload length u8. */
export const headerBytes = 5;
/** CRC-32 (ISO-HDLC, as node:zlib `crc32`) over header and payload, little-endian. */
export const crcBytes = 4;
/** Room for the largest payload of any message type (HELLO_ACK uses 48), with spare for growth. */
export const payloadBytesMax = 64;
/** The smallest frame: a header and a CRC around an empty payload (ACK, STOP_STROKES). */
export const frameBytesMin = headerBytes + crcBytes;
/**
 * The largest frame before SLIP escaping. The decoder's buffer holds exactly this many bytes; a
 * longer run between two END bytes is dropped and counted as `oversize`.
 */
export const frameBytesMax = headerBytes + payloadBytesMax + crcBytes;
/** The most bytes one frame can take on the wire: every byte escaped, plus both END bytes. */
export const wireFrameBytesMax = 2 * frameBytesMax + 2;

/** Length of the HELLO_ACK firmware id: ASCII, NUL-padded. */
export const firmwareIdBytes = 16;

// --- Serial line --------------------------------------------------------------------------------

/** The slowest baud rate the timing below is designed for (8N1, so 10 bits per byte). */
export const baudRateMin = 57_600;
/** The default the CLI offers. */
export const baudRateDefault = 115_200;
export const bitsPerByteOnWire = 10;
/**
 * A rig must have sent its ACK or NAK within this time after the last byte of a frame arrived.
 * It is the budget for the rig's main loop; the ack timeout below covers it plus the wire time.
 */
export const rigAnswerMsMax = 50;

// --- Link timing --------------------------------------------------------------------------------

/** A sequenced frame that is not acknowledged within this time is sent again. */
export const ackTimeoutMs = 200;
/** Retransmits of one sequenced frame before the sender declares the link lost. */
export const retransmitsMax = 5;
/** Each side sends a HEARTBEAT when it has sent nothing else for this long. */
export const heartbeatIntervalMs = 1_000;
/**
 * A side that has received no valid frame for this long declares the link lost. Two heartbeats in
 * a row may be lost: the third comes 3 × heartbeatIntervalMs after the last frame received, plus
 * its wire time, and must still arrive in time (3000 ms would tie with it, and any line delay lose).
 */
export const linkLostMs = 3_500;
/** While connecting, the host sends HELLO this often. */
export const helloIntervalMs = 500;
/** The host reports an unanswered handshake (wrong port, wrong baud rate, no rig) after this long. */
export const handshakeTimeoutMs = 3_000;

// --- Bounds on state ------------------------------------------------------------------------------

/** Application messages a link will hold unsent; `send()` beyond this is refused (`queueFull`). */
export const sendQueueLengthMax = 32;
/** Sequence numbers are one byte and wrap. */
export const seqModulus = 256;
/**
 * A rig remembers at least this many batch ids it has accepted, so that a DELIVER_STROKES repeated
 * across sessions is recognised and never executed twice.
 */
export const batchIdsRememberedMin = 8;

// --- Integer ranges of wire fields ----------------------------------------------------------------

export const u8Max = 0xff;
export const u16Max = 0xffff;
export const u32Max = 0xffff_ffff;
/** Rig and host times travel as u32 milliseconds and wrap after about 49.7 days. */
export const wireTimeModulusMs = 2 ** 32;

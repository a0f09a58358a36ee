/**
 * The protocol's two kinds of failure, kept apart as h11 keeps them apart.
 *
 * - `LocalProtocolError`: we tried to build a frame the protocol forbids (a field out of range, a
 *   message sent in the wrong direction). That is a bug of ours, raised where the frame is built,
 *   and never caught by the protocol code.
 * - `RemoteProtocolError`: the bytes from the wire are not a valid frame (noise, a wrong baud rate,
 *   a rig of another version, a rig with a bug). That is a fault of the world. It is raised only
 *   inside the decoder and translated at its boundary into a counter and a skipped frame: nothing
 *   that arrives on the wire can make `FrameDecoder.receiveBytes` or `nextFrame` throw.
 * - `LinkError`: the link cannot take a message now (it is down, or its queue is full). Also a
 *   fault of the world, which the HAL backend maps to `HalError('linkLost')`.
 *
 * This module knows nothing of serial ports, timers or the HAL.
 */

export class LocalProtocolError extends Error {
  override name = 'LocalProtocolError';
}

export type RemoteProtocolErrorKind =
  | 'badCrc' // the CRC-32 does not match the bytes it covers
  | 'badLength' // the payload length disagrees with the frame, or with what the type requires
  | 'badVersion' // a valid frame of a protocol version we do not speak
  | 'unknownType' // a valid frame of a message type we do not know
  | 'badPayload' // a field holds a value its type forbids (an unknown reason code, a count of 0)
  | 'oversize' // more than frameBytesMax bytes before the END byte
  | 'truncated' // fewer bytes than a header and a CRC
  | 'badEscape'; // an escape byte followed by anything but ESC_END or ESC_ESC

export const remoteProtocolErrorKinds: readonly RemoteProtocolErrorKind[] = [
  'badCrc',
  'badLength',
  'badVersion',
  'unknownType',
  'badPayload',
  'oversize',
  'truncated',
  'badEscape',
];

export class RemoteProtocolError extends Error {
  override name = 'RemoteProtocolError';
  constructor(
    readonly kind: RemoteProtocolErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export type LinkErrorKind =
  | 'linkDown' // no session: the host is still connecting, or the rig awaits a HELLO
  | 'queueFull'; // sendQueueLengthMax messages are already waiting

export class LinkError extends Error {
  override name = 'LinkError';
  constructor(
    readonly kind: LinkErrorKind,
    message: string,
  ) {
    super(message);
  }
}

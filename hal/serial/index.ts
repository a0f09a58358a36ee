/**
 * The serial rig HAL backend (docs/rig.md): the motor, button and annunciator ports and a balance
 * stream over the rig protocol (docs/protocol.md), a real-time clock port, and the byte transport.
 * Only `transport.ts` imports serialport.
 */
export { SerialRigError, isSerialRigError, serialOpenError, type SerialFault } from './errors.js';
export {
  RealTimeClock,
  checkTimeScale,
  timeScaleMax,
  type RealTimeClockOptions,
  type Timers,
} from './realTimeClock.js';
export {
  HostSession,
  type BalanceReading,
  type HostSessionOptions,
  type HostSessionStats,
  type RigInfo,
  type SessionTime,
} from './hostSession.js';
export {
  SerialRig,
  announcedTimeScale,
  handshakeError,
  type SerialRigOptions,
} from './serialRig.js';
export {
  baudRateMax,
  checkBaudRate,
  listSerialPorts,
  openSerialTransport,
  type ByteTransport,
  type SerialPortListing,
  type SerialTransportOptions,
} from './transport.js';

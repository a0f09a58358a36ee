/**
 * The serial rig protocol (docs/protocol.md): a sans-IO frame codec and link layer.
 *
 * Import from here. Nothing below imports serialport, node:stream, timers or the HAL; the serial
 * HAL backend and the rig emulator are thin adapters that move bytes and times in and out.
 */
export * from './constants.js';
export * from './errors.js';
export * from './messages.js';
export * from './frame.js';
export * from './link.js';
export * from './batchMemory.js';

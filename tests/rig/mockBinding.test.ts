/**
 * The serial backend on serialport's mock binding: the real `SerialPortStream` path (open, write,
 * data events, close) with a device answering through the binding's back door (`emitData`), so
 * the byte path, the open errors and the handshake errors are tested without a pty.
 *
 * The mock binding is reached as `SerialPortMock.binding`; importing '@serialport/binding-mock'
 * directly would load a second copy with its own port registry (docs/rig.md, toolchain note).
 */
import { SerialPortMock } from 'serialport';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  RealTimeClock,
  SerialRig,
  SerialRigError,
  openSerialTransport,
  type ByteTransport,
} from '../../hal/serial/index.js';
import { RigCore } from '../../sim/rig/rigCore.js';
import { encodeFrame, encodeFrameBody, linkLostMs, slipFrame } from '../../src/protocol/index.js';

type MockPortBinding = NonNullable<SerialPortMock['port']>;
const MockBinding = SerialPortMock.binding;
const path = '/dev/ttyRIG';

/** Open the mock port and put `device` on its far side: it hears every write, and may answer. */
async function openWithDevice(
  device: (bytes: Uint8Array, answer: (bytes: Uint8Array) => void) => void,
) {
  const transport = (await openSerialTransport({
    path,
    baudRate: 115_200,
    mock: true,
  })) as ByteTransport & { port: SerialPortMock };
  const binding = transport.port.port as MockPortBinding;
  const write = binding.write.bind(binding);
  binding.write = async (buffer: Buffer) => {
    await write(buffer);
    device(
      new Uint8Array(buffer),
      (bytes) => binding.isOpen && binding.emitData(Buffer.from(bytes)),
    );
  };
  return { transport, binding };
}

/** A `RigCore` as the device: the emulator's firmware behind the mock port, on real time. */
function rigDevice(timeScale = 1) {
  const clock = new RealTimeClock();
  const core = new RigCore({ startRealMs: clock.realMs(), timeScale });
  let answer: ((bytes: Uint8Array) => void) | undefined;
  let alarm: { cancel(): void } | undefined;
  const pump = () => {
    const out = core.takeBytes(clock.realMs());
    if (out.length > 0) answer?.(out);
    alarm?.cancel();
    alarm = clock.setAlarm(core.nextDeadlineRealMs(), () => {
      core.handleTimeout(clock.realMs());
      pump();
    });
  };
  return {
    core,
    clock,
    device: (bytes: Uint8Array, reply: (bytes: Uint8Array) => void) => {
      answer = reply;
      core.receiveBytes(bytes, clock.realMs());
      pump();
    },
    stop: () => clock.close(),
  };
}

beforeEach(() => {
  MockBinding.reset();
  MockBinding.createPort(path, { echo: false, record: true });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('opening the port', () => {
  it('a port that does not exist: portMissing, with a hint about ptys', async () => {
    const e = await openSerialTransport({
      path: '/dev/ttyNOPE',
      baudRate: 115_200,
      mock: true,
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SerialRigError);
    expect(e).toMatchObject({ fault: 'portMissing', kind: 'other' });
    expect((e as Error).message).toMatch(/\/dev\/ttyNOPE does not exist.*itpump rig ports.*socat/);
  });

  it('a port another program holds: portInUse, naming what to close', async () => {
    const first = await openSerialTransport({ path, baudRate: 115_200, mock: true });
    const e = await openSerialTransport({ path, baudRate: 115_200, mock: true }).catch(
      (x: unknown) => x,
    );
    expect(e).toMatchObject({ fault: 'portInUse', kind: 'busy' });
    expect((e as Error).message).toMatch(/in use by another program/);
    await first.close();
  });

  it('a baud rate below what the protocol was designed for: refused before opening, naming the limit', async () => {
    const e = await openSerialTransport({ path, baudRate: 9_600, mock: true }).catch(
      (x: unknown) => x,
    );
    expect(e).toMatchObject({ fault: 'badOption' });
    expect((e as Error).message).toMatch(/baudRate is 9600, must be an integer from 57600/);
  });
});

describe('the backend on the mock binding', () => {
  it('handshake and a batch: the command bytes are on the line, the report comes back, the strokes agree', async () => {
    const rig = rigDevice();
    const { transport, binding } = await openWithDevice(rig.device);
    const clock = new RealTimeClock();
    const host = await SerialRig.open({
      path,
      transport,
      timers: clock,
      pumpMs: () => clock.monotonicMs(),
      sessionIdFirst: 7,
    });
    const ended = new Promise((resolve) => host.motor.listen(resolve));
    host.motor.deliver({ batchId: 1, count: 3, leadMs: 0, intervalMs: 5 });
    expect(await ended).toEqual({
      type: 'hal.motor.batchEnded',
      batchId: 1,
      strokesDone: 3,
      reason: 'completed',
    });
    expect(rig.core.strokesExecuted).toBe(3);
    // The HELLO of session 7 was the first frame written, byte for byte.
    const hello = encodeFrame({ seq: 0, ack: 0, message: { type: 'hello', sessionId: 7 } });
    expect([...binding.recording.subarray(0, hello.length)]).toEqual([...hello]);
    await host.close();
    rig.stop();
    clock.close();
    expect(binding.isOpen).toBe(false);
  });

  it('nothing answers: after 3 s, handshakeUnanswered with the operator message, and the port is closed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { transport, binding } = await openWithDevice(() => undefined);
    const clock = new RealTimeClock();
    const opening = SerialRig.open({ path, transport, timers: clock, pumpMs: () => 0 }).catch(
      (x: unknown) => x,
    );
    await vi.advanceTimersByTimeAsync(3_100);
    const e = await opening;
    expect(e).toMatchObject({ fault: 'handshakeUnanswered', kind: 'timeout' });
    expect((e as Error).message).toMatch(
      /^no HELLO_ACK from \/dev\/ttyRIG within 3000 ms at 115200 baud, and not a single byte came back: check the baud rate and the rig's firmware/,
    );
    expect(binding.isOpen).toBe(false);
    clock.close();
  });

  it('garbage answers (a rig at another baud rate): wrongBaudRate, telling the operator to check --baud', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    // What a UART at the wrong rate makes of our frames: bytes, never a valid frame.
    const { transport } = await openWithDevice((bytes, reply) =>
      reply(bytes.map((b) => (b * 7 + 3) & 0xff)),
    );
    const clock = new RealTimeClock();
    const opening = SerialRig.open({
      path,
      transport,
      timers: clock,
      pumpMs: () => 0,
      baudRate: 115_200,
    }).catch((x: unknown) => x);
    await vi.advanceTimersByTimeAsync(3_100);
    const e = await opening;
    expect(e).toMatchObject({ fault: 'wrongBaudRate' });
    expect((e as Error).message).toMatch(
      /bytes arrived but not one valid frame.*another baud rate: check the baud rate \(--baud\)/,
    );
    clock.close();
  });

  it('a noisy line (valid frames and spoilt ones, no HELLO_ACK through): noisyLine, blaming the line, not the firmware', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    // Every answer is a valid heartbeat and a frame whose CRC a flipped bit broke (the ACK).
    const heartbeat = encodeFrameBody({
      seq: 0,
      ack: 0,
      message: { type: 'heartbeat', timeMs: 1 },
    });
    const broken = heartbeat.slice();
    broken[broken.length - 1] = broken[broken.length - 1]! ^ 0x10;
    const { transport } = await openWithDevice((_bytes, reply) =>
      reply(Uint8Array.from([...slipFrame(heartbeat), ...slipFrame(broken)])),
    );
    const clock = new RealTimeClock();
    const opening = SerialRig.open({ path, transport, timers: clock, pumpMs: () => 0 }).catch(
      (x: unknown) => x,
    );
    await vi.advanceTimersByTimeAsync(3_100);
    const e = await opening;
    expect(e).toMatchObject({ fault: 'noisyLine', kind: 'timeout' });
    expect((e as Error).message).toMatch(
      /^no HELLO_ACK from \/dev\/ttyRIG within 3000 ms at 115200 baud: \d+ valid frames arrived and \d+ spoilt ones \(50 % of frames; CRC, escape or length errors\), so our HELLO or its answer was likely lost on the line\. Check the cable/,
    );
    expect((e as Error).message).not.toMatch(/firmware/);
    clock.close();
  });

  it('a rig of another protocol version: foreignProtocol, naming both versions', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const body = encodeFrameBody({ seq: 0, ack: 0, message: { type: 'heartbeat', timeMs: 1 } });
    const v2 = body.slice();
    v2[0] = 2; // version 2, with a CRC that holds for it
    const { crc32 } = await import('node:zlib');
    new DataView(v2.buffer).setUint32(v2.length - 4, crc32(v2.subarray(0, v2.length - 4)), true);
    const { transport } = await openWithDevice((_bytes, reply) => reply(slipFrame(v2)));
    const clock = new RealTimeClock();
    const opening = SerialRig.open({ path, transport, timers: clock, pumpMs: () => 0 }).catch(
      (x: unknown) => x,
    );
    await vi.advanceTimersByTimeAsync(3_100);
    const e = await opening;
    expect(e).toMatchObject({ fault: 'foreignProtocol' });
    expect((e as Error).message).toMatch(/speaks protocol version 2, this host speaks version 1/);
    clock.close();
  });

  it('an emulator at another time scale: refused at the handshake', async () => {
    const rig = rigDevice(60);
    const { transport } = await openWithDevice(rig.device);
    const clock = new RealTimeClock();
    const e = await SerialRig.open({
      path,
      transport,
      timers: clock,
      pumpMs: () => 0,
      timeScale: 1,
    }).catch((x: unknown) => x);
    expect(e).toMatchObject({ fault: 'timeScaleMismatch' });
    expect((e as Error).message).toMatch(
      /emulator runs at --time-scale 60 but this run uses --time-scale 1/,
    );
    rig.stop();
    clock.close();
  });

  it('a rig that falls silent mid-batch: the real-time timers end the batch as linkLost, at its upper bound', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const rig = rigDevice();
    let silent = false;
    const { transport } = await openWithDevice(
      (bytes, reply) => !silent && rig.device(bytes, reply),
    );
    const clock = new RealTimeClock();
    const opening = SerialRig.open({
      path,
      transport,
      timers: clock,
      pumpMs: () => clock.monotonicMs(),
    });
    await vi.advanceTimersByTimeAsync(50);
    const host = await opening;
    const events: unknown[] = [];
    host.motor.listen((e) => events.push(e));
    host.motor.deliver({ batchId: 1, count: 100, leadMs: 0, intervalMs: 100 });
    await vi.advanceTimersByTimeAsync(1_000);
    silent = true; // the device hears nothing more and says nothing more
    rig.stop();
    // Silence for linkLostMs ends the session; linkLostMs + the resync slack later the batch is bounded.
    await vi.advanceTimersByTimeAsync(2 * linkLostMs + 1_000 + 500);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ batchId: 1, reason: 'linkLost' });
    expect((events[0] as { strokesDone: number }).strokesDone).toBeGreaterThanOrEqual(
      rig.core.strokesExecuted,
    );
    expect(host.session.stats.batchesBounded).toBe(1);
    await host.close();
    clock.close();
  });
});

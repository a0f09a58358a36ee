/**
 * A man in the middle for the rig's threat tests: two real pty pairs, and between them a proxy
 * that decodes every frame the rig sends, lets a test rewrite its message, and sends it on with a
 * fresh CRC, so the host sees a well-formed frame saying what a faulty or hostile rig would say.
 * The host's bytes pass through untouched.
 *
 *   host ── ptyA (hostPath ↔ A.rigPath) ── proxy ── ptyB (B.hostPath ↔ rigPath) ── rig
 *
 * Frames that do not decode are dropped (the receiver would drop them too). Nothing here is used
 * outside the tests.
 */
import { openSerialTransport, type ByteTransport } from '../../hal/serial/index.js';
import { encodeFrame, FrameDecoder, type Message } from '../../src/protocol/index.js';
import { startPtyPair, type PtyPair } from './ptyPair.js';

export interface FrameProxy {
  /** Where the host opens its port. */
  hostPath: string;
  /** Where the rig (the emulator) opens its port. */
  rigPath: string;
  /** Messages from the rig that `rewrite` changed. */
  rewritten: number;
  stop(): Promise<void>;
}

/** Rewrite a message from the rig; return it unchanged to pass it on as it came. */
export type Rewrite = (message: Message) => Message;

/** The proxy's ends open through the serial backend's own transport (the serialport boundary). */
const open = (path: string) => openSerialTransport({ path, baudRate: 115_200 });

export async function startFrameProxy(rewrite: Rewrite): Promise<FrameProxy> {
  const pairs: PtyPair[] = [];
  const ports: ByteTransport[] = [];
  const stop = async () => {
    for (const p of ports.splice(0)) if (p.isOpen) await p.close();
    for (const p of pairs.splice(0)) await p.stop();
  };
  try {
    const a = await startPtyPair();
    pairs.push(a);
    const b = await startPtyPair();
    pairs.push(b);
    const towardHost = await open(a.rigPath);
    ports.push(towardHost);
    const towardRig = await open(b.hostPath);
    ports.push(towardRig);
    const proxy: FrameProxy = { hostPath: a.hostPath, rigPath: b.rigPath, rewritten: 0, stop };
    towardHost.onData((bytes) => towardRig.write(bytes));
    const decoder = new FrameDecoder();
    towardRig.onData((bytes) => {
      decoder.receiveBytes(bytes);
      for (let d = decoder.nextFrame(); d !== 'needData'; d = decoder.nextFrame()) {
        if (d.kind !== 'frame') continue;
        const message = rewrite(d.frame.message);
        if (message !== d.frame.message) proxy.rewritten++;
        towardHost.write(encodeFrame({ ...d.frame, message }));
      }
    });
    return proxy;
  } catch (e) {
    await stop();
    throw e;
  }
}

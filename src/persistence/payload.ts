/**
 * Payload encoding: the controller's plain data as UTF-8 JSON bytes.
 *
 * Rules:
 * - Only JSON data is stored: plain objects, arrays, strings, booleans, null and finite numbers.
 *   Anything JSON.stringify would silently drop or change (undefined, functions, NaN, Infinity,
 *   bigint, Map, class instances) is refused, so what `decode` returns equals what was saved.
 * - Handing over a value that is not JSON data, or one too large for its slot, is a bug of the
 *   caller, not a fault of the world: it fails an assertion (src/assert.ts) naming the record
 *   type, the size and the limit, before any byte is written. Callers size their records with
 *   `encodedPayloadBytes` and the layout's limits in their own tests.
 * - Decoding never throws: bytes that are not UTF-8 JSON come back as undefined.
 *
 * Must not know: the record header, the layout, or the NVM port.
 */
import { AssertionFailure } from '../assert.js';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The UTF-8 JSON bytes of `value`. `what` names the record in assertion messages. Asserts that the
 * value is JSON data and, when `payloadBytesMax` is given, that it fits.
 */
export function encodePayload(value: unknown, what: string, payloadBytesMax?: number): Uint8Array {
  checkJsonData(what, '', value);
  const text = JSON.stringify(value);
  // checkJsonData has refused undefined (and everything else stringify drops), so this is a string.
  const bytes = utf8Encoder.encode(text);
  if (payloadBytesMax !== undefined && bytes.length > payloadBytesMax) {
    throw new AssertionFailure(
      `${what} record payload is ${bytes.length} bytes, over its limit of ${payloadBytesMax} bytes`,
    );
  }
  return bytes;
}

/** The payload size `value` will take, for callers that check their worst cases fit. */
export function encodedPayloadBytes(value: unknown, what = 'value'): number {
  return encodePayload(value, what).length;
}

/** The value the payload holds, or undefined when the bytes are not UTF-8 JSON. */
export function decodePayload(bytes: Uint8Array): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(utf8Decoder.decode(bytes)) as unknown };
  } catch {
    // Only reachable for a CRC-intact record whose payload this firmware did not write.
    return undefined;
  }
}

/**
 * Walks the value once and asserts it is JSON data. A plain recursive walk: a JSON.stringify
 * replacer did the same but cost fifteen times the encoding itself on every record write.
 */
function checkJsonData(what: string, key: string, member: unknown): void {
  switch (typeof member) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(member)) notJson(what, key, String(member));
      return;
    case 'object': {
      if (member === null) return;
      if (Array.isArray(member)) {
        for (let i = 0; i < member.length; i++) checkJsonData(what, String(i), member[i]);
        return;
      }
      const prototype: unknown = Object.getPrototypeOf(member);
      if (prototype !== Object.prototype && prototype !== null)
        notJson(what, key, 'not a plain object');
      for (const k in member) checkJsonData(what, k, (member as Record<string, unknown>)[k]);
      return;
    }
    default:
      notJson(what, key, typeof member);
  }
}

function notJson(what: string, key: string, found: string): never {
  const where = key === '' ? 'the value' : `member "${key}"`;
  throw new AssertionFailure(`${what} record: ${where} is ${found}, which JSON cannot store`);
}

/**
 * Double-buffered state records: two slots (A and B) per state kind, rewritten whole.
 *
 * Rules:
 * - Read: decode both slots; the valid copy with the higher sequence number is current. Ties
 *   cannot arise from our writes; if bit rot ever made one, slot A wins, deterministically.
 * - Write: the new record goes to the slot that does NOT hold the current copy, with the current
 *   sequence number + 1, in one `write()` call. The current copy is never written over, so a
 *   write cut at any byte (or a bit flipped in the slot being written) leaves it readable.
 * - A record is committed when `write()` returns. A write that threw may still have landed whole
 *   (power lost after the last byte); it is then the newest copy, which is equally consistent.
 * - A writer may know where its last write went (`NewestSlot`, kept by PersistentStore): then it
 *   reads only that slot, to check it still holds that copy intact, before writing over the other.
 *   That knowledge is only ever what a returned `write()` left; a write that threw forgets it. If
 *   the newest copy rotted meanwhile, both slots are read as without the knowledge, so the write
 *   goes over the rotten copy and the older intact one stays, a fallback if this write is cut.
 *
 * Must not know: what the payloads mean, or how the controller reacts to a corrupt copy.
 */
import type { NvmPort } from '../../hal/nvm.js';
import { assert } from '../assert.js';
import { stateSlotOffset, statePayloadBytesMax, type NvmLayout } from './layout.js';
import { decodePayload, encodePayload } from './payload.js';
import { decodeRecord, encodeRecord, type RecordDecodeFailure } from './recordCodec.js';
import type { StateRecordKind } from './recordTypes.js';

/** Why a slot or journal entry holds no usable record (besides being blank). */
export type StoredRecordFailure =
  | Exclude<RecordDecodeFailure, 'blank'>
  | 'wrongType' // an intact record of another type: a layout mix-up, never written by this layout
  | 'badPayload' // an intact record whose payload is not UTF-8 JSON
  | 'misplaced'; // journal only: an intact entry whose sequence number does not belong there

export type SlotCondition =
  | { condition: 'valid'; seq: number }
  | { condition: 'blank' }
  | { condition: 'corrupt'; reason: StoredRecordFailure };

/**
 * - intact: a current copy, and the other slot is valid or blank.
 * - degraded: a current copy, and the other slot is corrupt (a cut write or a flipped bit; which
 *   of the two copies was newer cannot be known, so this is reported, not guessed).
 * - missing: both slots blank: never written.
 * - corrupt: no valid copy, and at least one slot is corrupt. A corrupt prescription is never run.
 */
export type StateStatus = 'intact' | 'degraded' | 'missing' | 'corrupt';

export interface StateCopy {
  value: unknown;
  seq: number;
  /** 0 = slot A, 1 = slot B. */
  slot: 0 | 1;
}

export interface StateReadout {
  kind: StateRecordKind;
  status: StateStatus;
  current: StateCopy | undefined;
  /** Slot A, then slot B. */
  slots: readonly [SlotCondition, SlotCondition];
}

interface SlotRead {
  condition: SlotCondition;
  copy: StateCopy | undefined;
}

function readSlot(nvm: NvmPort, layout: NvmLayout, kind: StateRecordKind, slot: 0 | 1): SlotRead {
  const bytes = nvm.read(stateSlotOffset(layout, kind, slot), layout.states[kind].slotBytes);
  const decoded = decodeRecord(bytes);
  if (!decoded.ok) {
    const condition: SlotCondition =
      decoded.reason === 'blank'
        ? { condition: 'blank' }
        : { condition: 'corrupt', reason: decoded.reason };
    return { condition, copy: undefined };
  }
  const { record } = decoded;
  if (record.type !== kind)
    return { condition: { condition: 'corrupt', reason: 'wrongType' }, copy: undefined };
  const payload = decodePayload(record.payload);
  if (payload === undefined)
    return { condition: { condition: 'corrupt', reason: 'badPayload' }, copy: undefined };
  return {
    condition: { condition: 'valid', seq: record.seq },
    copy: { value: payload.value, seq: record.seq, slot },
  };
}

export function readStatePair(
  nvm: NvmPort,
  layout: NvmLayout,
  kind: StateRecordKind,
): StateReadout {
  const a = readSlot(nvm, layout, kind, 0);
  const b = readSlot(nvm, layout, kind, 1);
  const current = newer(a.copy, b.copy);
  const slots = [a.condition, b.condition] as const;
  const anyCorrupt = slots.some((s) => s.condition === 'corrupt');
  let status: StateStatus;
  if (current !== undefined) status = anyCorrupt ? 'degraded' : 'intact';
  else status = anyCorrupt ? 'corrupt' : 'missing';
  return { kind, status, current, slots };
}

function newer(a: StateCopy | undefined, b: StateCopy | undefined): StateCopy | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return b.seq > a.seq ? b : a;
}

/**
 * The slot and sequence number of the newest copy that passes its CRC and type check, without
 * decoding payloads: all a write needs to pick the slot to overwrite (every write, so it is cheap).
 * A CRC-intact payload this firmware cannot parse counts as a copy here; it was never written by us.
 */
function newestIntactSlot(
  nvm: NvmPort,
  layout: NvmLayout,
  kind: StateRecordKind,
): { slot: 0 | 1; seq: number } | undefined {
  let best: { slot: 0 | 1; seq: number } | undefined;
  for (const slot of [0, 1] as const) {
    const decoded = decodeRecord(
      nvm.read(stateSlotOffset(layout, kind, slot), layout.states[kind].slotBytes),
    );
    if (!decoded.ok || decoded.record.type !== kind) continue;
    if (best === undefined || decoded.record.seq > best.seq)
      best = { slot, seq: decoded.record.seq };
  }
  return best;
}

/** Does the slot still hold that copy, intact? (One slot read: the cheap check of every write.) */
function holdsCopy(nvm: NvmPort, layout: NvmLayout, kind: StateRecordKind, at: NewestSlot) {
  const decoded = decodeRecord(
    nvm.read(stateSlotOffset(layout, kind, at.slot), layout.states[kind].slotBytes),
  );
  return decoded.ok && decoded.record.type === kind && decoded.record.seq === at.seq;
}

/** Where the newest copy of a kind is: its slot and sequence number. */
export interface NewestSlot {
  slot: 0 | 1;
  seq: number;
}

/**
 * Write `value` as the newest copy of `kind`; returns where it went. Asserts the value is JSON
 * data that fits the slot before touching the memory. Propagates the port's `HalError`.
 * `newest` is where the caller's last returned write went; without it both slots are read.
 */
export function writeStatePair(
  nvm: NvmPort,
  layout: NvmLayout,
  kind: StateRecordKind,
  value: unknown,
  newest?: NewestSlot,
): NewestSlot {
  const payload = encodePayload(value, kind, statePayloadBytesMax(layout, kind));
  const current =
    newest === undefined || !holdsCopy(nvm, layout, kind, newest)
      ? newestIntactSlot(nvm, layout, kind)
      : newest;
  const slot: 0 | 1 = current === undefined ? 0 : current.slot === 0 ? 1 : 0;
  const seq = (current?.seq ?? 0) + 1;
  const bytes = encodeRecord({ type: kind, seq, payload });
  assert(
    bytes.length <= layout.states[kind].slotBytes,
    `${kind} record of ${bytes.length} bytes overruns its slot`,
  );
  nvm.write(stateSlotOffset(layout, kind, slot), bytes);
  return { slot, seq };
}

/**
 * Non-volatile memory port: a flat byte array that survives resets.
 *
 * For controller authors:
 * - `write()` may throw `HalError('writeFailed')`; after a failed or interrupted (torn) write the
 *   bytes in the written range are undefined: any prefix of the new bytes may have landed. The
 *   persistence layer (src/persistence/) makes that safe with sequence numbers, CRCs and two
 *   copies; nothing else writes here.
 * - `read()` may throw `HalError('readFailed')`. Bits may have flipped: check the CRC.
 *
 * For driver authors:
 * - Offsets and lengths outside `[0, sizeBytes)` throw `HalError('outOfRange')`.
 */
export interface NvmPort {
  readonly sizeBytes: number;
  read(offset: number, length: number): Uint8Array;
  write(offset: number, bytes: Uint8Array): void;
}

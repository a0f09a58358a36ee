/**
 * The one error the analysis and report code throws for data it cannot use.
 *
 * Analyses run over data that came from outside (a balance on a rig, a trace file, a shard's JSON),
 * so a bad series is a fault of the world, not a bug of ours: it gets a typed error naming the
 * field, the value and the limit it broke, and nothing is computed from it. Our own slips inside
 * the arithmetic stay `assert()`s (src/assert.ts).
 */
export type AnalysisInputErrorKind =
  | 'invalidValue' // a number that is not finite, not an integer, negative, or out of its limit
  | 'unordered' // a time series whose times go backwards (or a cumulative series that shrinks)
  | 'notCovered' // the samples do not cover the period the analysis was asked about
  | 'mismatch'; // two things that must agree do not (e.g. sketches with different bins)

export class AnalysisInputError extends Error {
  override name = 'AnalysisInputError';
  constructor(
    readonly kind: AnalysisInputErrorKind,
    /** The input field at fault, as a path a person can find (`samples[12].timeMs`). */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Throws unless `value` is a finite number. */
export function requireFinite(value: number, field: string): void {
  if (!Number.isFinite(value))
    throw new AnalysisInputError('invalidValue', field, `must be a finite number, got ${value}`);
}

/** Throws unless `value` is a safe integer at least `min`. */
export function requireInteger(value: number, field: string, min = Number.MIN_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value))
    throw new AnalysisInputError('invalidValue', field, `must be a safe integer, got ${value}`);
  if (value < min)
    throw new AnalysisInputError('invalidValue', field, `must be at least ${min}, got ${value}`);
}

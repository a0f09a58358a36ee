/**
 * Model-based property: whatever sequence of saves, appends, torn writes and restarts happens,
 * the store recovers the last committed value of every kind and every committed journal record.
 *
 * Method: fast-check draws a sequence of steps (save a kind, append a log entry, arm a tear after
 * n bytes, restart) and a SimNvm whose writes are also torn at random with a seeded probability.
 * A tiny model keeps, per kind, the last committed value and the values of the writes that threw
 * since (any of which may have landed whole); for the journal it keeps every attempt and whether
 * it committed. After every step it checks what a reset at that moment would recover:
 * - each kind loads its last committed value, or the value of a later write that threw but
 *   landed; never an older value, never garbage; nothing loads only if nothing was committed;
 * - the log is, in order, a subsequence of the attempts with consecutive sequence numbers; it
 *   holds every committed entry followed by fewer than `entryCount` later attempts (the ring's
 *   guarantee), and every committed entry between its first and last;
 * - recovery never reports a committed kind as corrupt, nor a lost journal record (there is no
 *   bit rot here).
 * A record is committed when the call that wrote it returned without throwing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimNvm } from '../../hal/sim/simNvm.js';
import { HalError } from '../../hal/halError.js';
import { Prng } from '../../sim/prng.js';
import {
  PersistentStore,
  STATE_RECORD_KINDS,
  type JournalEntry,
  type RecoveryReport,
  type StateRecordKind,
} from '../../src/persistence/index.js';
import { SMALL_LAYOUT } from './fixtures.js';
import { recordFaults } from './faultTally.js';

const seed = Number(process.env.FC_SEED ?? 42);
const numRuns = Number(process.env.FC_NUM_RUNS ?? 300 * Number(process.env.FC_RUNS_FACTOR ?? 1));

type Step =
  | { op: 'save'; kind: StateRecordKind; fillChars: number }
  | { op: 'append'; fillChars: number }
  | { op: 'tear'; bytesLanded: number }
  | { op: 'restart' };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('save' as const),
      kind: fc.constantFrom(...STATE_RECORD_KINDS),
      fillChars: fc.nat(60),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('append' as const), fillChars: fc.nat(40) }),
  },
  // Up to past the longest record, so some cut writes land whole and still throw.
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('tear' as const), bytesLanded: fc.nat(120) }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'restart' as const }) },
);

interface KindModel {
  committed: { n: number; seq: number } | undefined;
  /** Writes that threw since the last commit: any one may have landed whole. */
  inFlight: number[];
}

interface Attempt {
  n: number;
  committed: boolean;
}

/** Values carry a unique `n`, so the model compares identities instead of whole values. */
function nOf(value: unknown): number {
  const n: unknown =
    typeof value === 'object' && value !== null ? (value as { n?: unknown }).n : undefined;
  if (typeof n !== 'number') expect.fail(`recovered ${JSON.stringify(value)}, which no step saved`);
  return n;
}

function writeFailed(action: () => number): number | undefined {
  try {
    return action();
  } catch (e) {
    if (e instanceof HalError && e.kind === 'writeFailed') return undefined;
    throw e;
  }
}

// The checks run after every step, so they use plain comparisons and `expect.fail` with a message
// rather than one `expect` per item: the property stays fast enough to run hundreds of sequences.

function checkStates(report: RecoveryReport, kinds: Map<StateRecordKind, KindModel>): void {
  for (const kind of STATE_RECORD_KINDS) {
    const model = kinds.get(kind)!;
    const { status, current } = report.states[kind];
    // A torn first-ever write looks like a rotted sole copy: corrupt, which is allowed only
    // while nothing of the kind was committed.
    if (model.committed && status === 'corrupt')
      expect.fail(`${kind}: committed value reported corrupt`);
    if (current === undefined) {
      if (model.committed) expect.fail(`${kind}: lost its committed value ${model.committed.n}`);
      continue;
    }
    const n = nOf(current.value);
    if (n !== model.committed?.n && !model.inFlight.includes(n)) {
      expect.fail(
        `${kind}: loaded ${n}; committed ${model.committed?.n}, in flight [${model.inFlight.join(', ')}]`,
      );
    }
    if (model.committed && current.seq < model.committed.seq)
      expect.fail(`${kind}: sequence went back to ${current.seq}`);
  }
  if (report.journal.missingSeqs.length > 0)
    expect.fail(`journal lost [${report.journal.missingSeqs.join(', ')}]`);
}

function checkJournal(entries: JournalEntry[], attempts: Attempt[]): void {
  const { entryCount } = SMALL_LAYOUT.journal;
  const positions: number[] = [];
  let from = 0;
  entries.forEach((entry, i) => {
    const n = nOf(entry.value);
    const position = attempts.findIndex((a, j) => j >= from && a.n === n);
    if (position < 0) expect.fail(`log entry ${n} out of order or never appended`);
    if (i > 0 && entry.seq !== entries[i - 1]!.seq + 1)
      expect.fail(`log seq ${entry.seq} does not follow ${entries[i - 1]!.seq}`);
    positions.push(position);
    from = position + 1;
  });
  const held = new Set(positions);
  attempts.forEach((attempt, position) => {
    if (!attempt.committed || held.has(position)) return;
    const laterAttempts = attempts.length - 1 - position;
    const insideLog =
      positions.length > 0 && position > positions[0]! && position < positions.at(-1)!;
    if (laterAttempts < entryCount || insideLog)
      expect.fail(`committed log entry ${attempt.n} lost`);
  });
}

describe('recovery property', () => {
  it('recovers every committed state and journal record across random tears and restarts', ({
    task,
  }) => {
    let tornWrites = 0;
    let restarts = 0;
    fc.assert(
      fc.property(
        fc.array(stepArbitrary, { maxLength: 80, size: 'max' }),
        fc.integer(),
        fc.constantFrom(0, 0.05, 0.2),
        (steps, randomSeed, tearProbability) => {
          const nvm = new SimNvm({
            sizeBytes: SMALL_LAYOUT.totalBytes,
            tearProbability,
            random: new Prng(randomSeed).fork('nvm'),
          });
          let store = new PersistentStore(nvm, SMALL_LAYOUT);
          const kinds = new Map(
            STATE_RECORD_KINDS.map((k): [StateRecordKind, KindModel] => [
              k,
              { committed: undefined, inFlight: [] },
            ]),
          );
          const attempts: Attempt[] = [];
          let n = 0;
          for (const step of steps) {
            if (step.op === 'save') {
              const model = kinds.get(step.kind)!;
              n += 1;
              const seq = writeFailed(() =>
                store.saveState(step.kind, { n, fill: 'x'.repeat(step.fillChars) }),
              );
              if (seq === undefined) model.inFlight.push(n);
              else {
                if (model.committed) expect(seq).toBeGreaterThan(model.committed.seq);
                model.committed = { n, seq };
                model.inFlight = [];
              }
            } else if (step.op === 'append') {
              n += 1;
              const seq = writeFailed(() =>
                store.appendLog({ n, fill: 'y'.repeat(step.fillChars) }),
              );
              attempts.push({ n, committed: seq !== undefined });
            } else if (step.op === 'tear') {
              nvm.tearNextWriteAt(step.bytesLanded);
            } else {
              store = new PersistentStore(nvm, SMALL_LAYOUT);
              restarts += 1;
            }
            // Read through a second instance, as a reset right now would: the writer's own view
            // (its newest journal seq) stays untouched, so a wrong one shows up in later steps.
            const atReset = new PersistentStore(nvm, SMALL_LAYOUT);
            checkStates(atReset.recover(), kinds);
            checkJournal(atReset.readLogEntries(), attempts);
          }
          tornWrites += nvm.counters.tornWrites;
        },
      ),
      { seed, numRuns },
    );
    // The property must have exercised what it claims to.
    expect(tornWrites).toBeGreaterThan(numRuns);
    expect(restarts).toBeGreaterThan(numRuns);
    recordFaults(task, { tornWrites, restarts });
  });
});

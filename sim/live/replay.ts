/**
 * The scenario a live session replays as: the file it started from, with the seed it ran on, the
 * duration it ran for and, appended to the timeline, every command the page gave the pump at the
 * virtual time it was applied. `itpump run` of it writes the session's outputs again. The file's
 * own text is kept (comments and all); only those keys change.
 */
import { parseDocument, YAMLSeq } from 'yaml';
import { DAY_MS, formatTimeMs, HOUR_MS, MINUTE_MS, SECOND_MS } from '../../src/units.js';
import type { RecordedCommand } from './session.js';

/** A duration as the scenario reads it, in whole units: `2d 3h 4min 5s` (`1 ms` below a second). */
export function durationText(ms: number): string {
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ['d', DAY_MS],
    ['h', HOUR_MS],
    ['min', MINUTE_MS],
    ['s', SECOND_MS],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.length === 0 ? '0ms' : parts.join(' ');
}

/** A moment of the run as a timeline's `at`: `3d 14:05:09` (commands fall on whole seconds). */
export function atText(ms: number): string {
  return ms % SECOND_MS === 0 ? formatTimeMs(ms) : durationText(ms);
}

export function replayScenarioText(
  sourceText: string,
  seed: number,
  durationMs: number,
  recorded: readonly RecordedCommand[],
): string {
  const doc = parseDocument(sourceText);
  doc.set('seed', seed);
  doc.set('duration', durationText(durationMs));
  let timeline = doc.get('timeline');
  if (!(timeline instanceof YAMLSeq)) {
    timeline = new YAMLSeq();
    doc.set('timeline', timeline);
  }
  const seq = timeline as YAMLSeq;
  recorded.forEach((r, i) => {
    const node = doc.createNode({ at: atText(r.atMs), ...r.action }, { flow: true });
    if (i === 0)
      node.commentBefore = ' given from the itpump live page, at the virtual time applied';
    seq.items.push(node);
  });
  return doc.toString({ lineWidth: 0 });
}

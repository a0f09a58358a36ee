/**
 * The live session's outputs, as `itpump run` writes them: summary.json, events.jsonl, trace.csv
 * and report.html, plus scenario.yaml, the scenario that replays the session.
 *
 * A session that has ended gives its own result. One still running gives the run as if it ended
 * now: the replay scenario up to the next quiet time (sim/live/session.ts), run by `runScenario`
 * as `itpump run` would run it. Either way the files are written by `writeOutputs` and
 * `writeRunReport`, the very functions `run` uses, so the bytes are the same.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeOutputs } from '../outputs.js';
import { runScenario, type RunResult } from '../runner.js';
import { parseScenario } from '../scenario.js';
import { replayScenarioText } from './replay.js';
import type { LiveSession } from './session.js';

export const downloadNames = [
  'summary.json',
  'events.jsonl',
  'trace.csv',
  'report.html',
  'scenario.yaml',
] as const;
export type DownloadName = (typeof downloadNames)[number];

/** Write a result's outputs, its report and the replay scenario to `dir`; the paths written. */
export async function writeLiveOutputs(
  result: RunResult,
  scenarioText: string,
  dir: string,
): Promise<string[]> {
  const files = writeOutputs(result, dir);
  const { writeRunReport } = await import('../report/runReport.js');
  files.push(...(await writeRunReport(result, dir)));
  writeFileSync(join(dir, 'scenario.yaml'), scenarioText);
  files.push(join(dir, 'scenario.yaml'));
  return files;
}

/** One taking of the outputs: where its files are and the virtual time it covers. */
export interface Snapshot {
  id: number;
  atMs: number;
  ended: boolean;
  dir: string;
}

export class LiveDownloads {
  private readonly snapshots = new Map<number, Snapshot>();
  private nextId = 1;

  constructor(
    private readonly session: LiveSession,
    private readonly sourceText: string,
  ) {}

  /** The replay scenario's text for a run of `durationMs`. */
  scenarioText(durationMs: number): string {
    const s = this.session;
    return replayScenarioText(this.sourceText, s.seed, durationMs, s.recorded);
  }

  /** The result and replay scenario of the session now (ended, or as if it ended now). */
  private current(): { result: RunResult; text: string } {
    const s = this.session;
    const atMs = s.finished ? undefined : s.quietTime();
    if (atMs === undefined)
      return { result: s.finished!, text: this.scenarioText(s.replayDurationMs()) };
    const text = this.scenarioText(atMs);
    return { result: runScenario(parseScenario(text, 'scenario.yaml'), { seed: s.seed }), text };
  }

  /** Take the outputs now: every file of one snapshot covers the same run. */
  async take(): Promise<Omit<Snapshot, 'dir'>> {
    const { result, text } = this.current();
    const dir = mkdtempSync(join(tmpdir(), 'itpump-live-'));
    const snapshot = {
      id: this.nextId++,
      atMs: result.summary.simulatedMs,
      ended: this.session.ended,
      dir,
    };
    this.snapshots.set(snapshot.id, snapshot);
    await writeLiveOutputs(result, text, dir);
    const { dir: _dir, ...shown } = snapshot;
    return shown;
  }

  /** A file of a snapshot taken before; undefined for an unknown one. */
  file(id: number, name: DownloadName): Buffer | undefined {
    const snapshot = this.snapshots.get(id);
    return snapshot && readFileSync(join(snapshot.dir, name));
  }

  dispose(): void {
    for (const s of this.snapshots.values()) rmSync(s.dir, { recursive: true, force: true });
    this.snapshots.clear();
  }
}

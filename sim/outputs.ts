/**
 * Run outputs: summary.json, events.jsonl (the pump's event log) and trace.csv.
 * Files are written only after a run succeeded, so bad input never leaves partial outputs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './runner.js';

export function traceCsv(result: RunResult): string {
  const drugs = [...new Set(result.summary.drugs.map((d) => d.drug))];
  const header = ['time_ms', 'reservoir_estimate_nl', 'reservoir_true_nl', 'therapy', ...drugs.map((d) => `${d}_delivered_pg`), ...drugs.map((d) => `${d}_true_delivered_pg`)];
  const rows = result.trace.map((r) =>
    [r.timeMs, r.reservoirEstimateNl, r.reservoirTrueNl, r.therapy, ...drugs.map((d) => r.deliveredPg[d] ?? 0), ...drugs.map((d) => r.trueDeliveredPg[d] ?? 0)].join(','),
  );
  return [header.join(','), ...rows].join('\n') + '\n';
}

export function writeOutputs(result: RunResult, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = {
    'summary.json': JSON.stringify({ settings: result.settings, ...result.summary }, null, 2) + '\n',
    'events.jsonl': result.events.map((e) => JSON.stringify(e)).join('\n') + '\n',
    'trace.csv': traceCsv(result),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return Object.keys(files).map((f) => join(dir, f));
}

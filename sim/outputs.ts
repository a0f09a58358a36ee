/**
 * Run outputs: summary.json, events.jsonl (the pump's event log), trace.csv and drug-library.json.
 * Files are written only after a run succeeded, so bad input never leaves partial outputs.
 *
 * trace.csv has, per drug, what left the pump (`_delivered_pg` by the pump's count, `_true_delivered_pg`
 * in truth) and, when the run simulated the drug path, what reached the patient: `_tip_pg`
 * (cumulative, through the catheter tip), `_tip_ug_per_ml` (the concentration at the tip at that
 * moment) and `_subcutaneous_pg` (cumulative, from pocket fills). Those columns come after the
 * others, so readers that find columns by name are unaffected.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './runner.js';
import { drugLibraryOf } from './scenario.js';

export function traceCsv(result: RunResult): string {
  const drugs = [...new Set(result.summary.drugs.map((d) => d.drug))];
  const path = result.trace.some((r) => r.tipPg !== undefined);
  const battery =
    result.trace.length > 0 && result.trace.every((r) => r.batteryRemainingUah !== undefined);
  const header = [
    'time_ms',
    'reservoir_estimate_nl',
    'reservoir_true_nl',
    'therapy',
    ...(battery ? ['battery_remaining_uah'] : []),
    ...drugs.map((d) => `${d}_delivered_pg`),
    ...drugs.map((d) => `${d}_true_delivered_pg`),
  ];
  if (path)
    header.push(
      ...drugs.map((d) => `${d}_tip_pg`),
      ...drugs.map((d) => `${d}_tip_ug_per_ml`),
      ...drugs.map((d) => `${d}_subcutaneous_pg`),
    );
  const rows = result.trace.map((r) => {
    const cells: (string | number)[] = [
      r.timeMs,
      r.reservoirEstimateNl,
      r.reservoirTrueNl,
      r.therapy,
      ...(battery ? [r.batteryRemainingUah!] : []),
      ...drugs.map((d) => r.deliveredPg[d] ?? 0),
      ...drugs.map((d) => r.trueDeliveredPg[d] ?? 0),
    ];
    if (path)
      cells.push(
        ...drugs.map((d) => r.tipPg?.[d] ?? 0),
        ...drugs.map((d) => r.tipConcentrationUgPerMl?.[d] ?? 0),
        ...drugs.map((d) => r.subcutaneousPg?.[d] ?? 0),
      );
    return cells.join(',');
  });
  return [header.join(','), ...rows].join('\n') + '\n';
}

export function writeOutputs(result: RunResult, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = {
    'summary.json':
      JSON.stringify({ settings: result.settings, ...result.summary }, null, 2) + '\n',
    'events.jsonl': result.events.map((e) => JSON.stringify(e)).join('\n') + '\n',
    'trace.csv': traceCsv(result),
    // The library the run was checked against, so `itpump report DIR` can draw the same limits.
    'drug-library.json': JSON.stringify(drugLibraryOf(result.scenario), null, 2) + '\n',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return Object.keys(files).map((f) => join(dir, f));
}

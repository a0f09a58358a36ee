/**
 * The charts a report wrote into its folder, so that the next report written there can remove
 * those it does not draw again (issue 15: a rewritten report left the old charts behind, e.g. an
 * alarm chart of an earlier run that raised one).
 *
 * Each report ends by calling `recordCharts(dir, files)`: it reads `charts.json` of the previous
 * report in `dir`, deletes the files listed there that this report did not write, and writes the
 * new list. Only what a report itself recorded is ever removed: plain file names ending in .svg
 * (no folder, no ..) listed in a manifest of this format. A user's file in the folder, a manifest
 * that is not ours or cannot be read, are left as they are.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export const CHART_MANIFEST = 'charts.json';
const FORMAT = 'itpump-charts/1';

/** A name this module may have written: a plain SVG file name in the folder itself. */
const isChartName = (name: unknown): name is string =>
  typeof name === 'string' &&
  name.endsWith('.svg') &&
  name === basename(name) &&
  !name.includes('\\') &&
  name !== '.svg' &&
  !name.startsWith('..');

/** The chart files the previous report in `dir` recorded; none if there is no manifest of ours. */
function recorded(dir: string): string[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(join(dir, CHART_MANIFEST), 'utf8'));
  } catch {
    return [];
  }
  const manifest = raw as { format?: unknown; charts?: unknown } | null;
  if (manifest?.format !== FORMAT || !Array.isArray(manifest.charts)) return [];
  return manifest.charts.filter(isChartName);
}

/**
 * Records `charts` (file names in `dir`, as the report wrote them) as the report's charts, and
 * removes the charts the previous report there recorded that are not among them. Returns the
 * file names removed.
 */
export function recordCharts(dir: string, charts: readonly string[]): string[] {
  const now = new Set(charts.map((c) => basename(c)));
  const stale = recorded(dir).filter((name) => !now.has(name));
  for (const name of stale) rmSync(join(dir, name), { force: true });
  writeFileSync(
    join(dir, CHART_MANIFEST),
    JSON.stringify({ format: FORMAT, charts: [...now].sort() }, null, 2) + '\n',
  );
  return stale;
}

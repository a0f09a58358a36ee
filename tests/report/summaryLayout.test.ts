/**
 * The text summary reads as a table (issue 14): each column's title ends where its figures end,
 * whatever the drug names and dose widths, and counts of one are singular.
 */
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../sim/runner.js';
import { parseScenario } from '../../sim/scenario.js';
import { alignedTable, formatSummary } from '../../sim/summary.js';

// Drug names of different lengths and doses from micrograms to hundreds of milligrams.
const { summary } = runScenario(
  parseScenario(
    `
name: layout
duration: 10d
initialFill:
  volume: 20 mL
  mixture:
    - { drug: bupivacaine, concentration: 30 mg/mL }
    - { drug: clonidine, concentration: 50 ug/mL }
prescription: { mode: continuous, dose: 12 mg/day }
`,
    'layout.yaml',
  ),
);
const text = formatSummary(summary);

/** Where each cell but the first ends: cells are parted by two spaces or more. */
function cellEnds(line: string): number[] {
  const ends = [...line.matchAll(/\S(?= {2,}|$)/g)].map((m) => m.index);
  return ends.slice(1);
}

describe('the text summary', () => {
  it('aligns each dose under the end of its column title', () => {
    const lines = text.split('\n');
    const header = lines.findIndex((l) => l.startsWith('drug '));
    const table = lines.slice(header, header + 3);
    expect(table[1]).toMatch(/^bupivacaine /);
    expect(table[2]).toMatch(/^clonidine /);
    expect(table[0]).toContain('delivered (pump)');
    expect(cellEnds(table[0]!)).toHaveLength(5);
    for (const row of table.slice(1)) expect(cellEnds(row)).toEqual(cellEnds(table[0]!));
  });

  it('widens a column for a figure longer than its title', () => {
    const [head, row] = alignedTable(['drug', 'dose'], [['morphine', '1234.567 mg']]);
    expect(head).toBe(`drug${' '.repeat(13)}dose`); // 'dose' ends where '1234.567 mg' does
    expect(row).toBe('morphine  1234.567 mg');
  });

  it('says "1 controller event", not "1 controller events"', () => {
    expect(formatSummary({ ...summary, controllerEvents: 1 })).toMatch(/\(1 controller event\)/);
    expect(formatSummary({ ...summary, controllerEvents: 2 })).toMatch(/\(2 controller events\)/);
  });
});

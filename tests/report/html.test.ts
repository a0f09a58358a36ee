/**
 * report.html is self-contained: inline CSS and SVG, no scripts, nothing fetched from anywhere.
 */
import { describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../src/units.js';
import { AnalysisInputError } from '../../sim/analysis/inputError.js';
import { analyseTrumpet, trumpetTable } from '../../sim/analysis/trumpet.js';
import { batteryChartSvg, doseChartSvg, reservoirChartSvg } from '../../sim/report/charts.js';
import {
  assertSelfContained,
  buildReportHtml,
  externalReferences,
  type ReportDocument,
} from '../../sim/report/html.js';

/** Built once: rendering is the slow part, and no test changes the document it gets. */
let built: Promise<ReportDocument> | undefined;
function report(): Promise<ReportDocument> {
  built ??= buildDocument();
  return built;
}

async function buildDocument(): Promise<ReportDocument> {
  const hours = Array.from({ length: 200 }, (_, i) => i * HOUR_MS);
  const reservoir = await reservoirChartSvg({
    estimate: hours.map((timeMs, i) => ({ timeMs, volumeNl: 20_000_000 - i * 40_000 })),
    truth: hours.map((timeMs, i) => ({ timeMs, volumeNl: 20_000_000 - i * 41_000 })),
    lowReservoirNl: 4_000_000,
    emptyNl: 2_000_000,
  });
  const dose = await doseChartSvg({
    drugName: 'morphine',
    cumulative: hours.map((timeMs, i) => ({ timeMs, doseNg: i * 200_000 })),
    hardDailyMaxNg: 6_000_000,
  });
  const battery = await batteryChartSvg({
    samples: hours.map((timeMs, i) => ({ timeMs, remainingUah: 900_000 - i * 100 })),
    eriUah: 500_000,
    eosUah: 250_000,
  });
  const trumpet = analyseTrumpet(
    Array.from({ length: 241 }, (_, k) => ({ timeMs: k * 30_000, deliveredNl: k * 1_000 })),
    { programmedRateNlPerDay: 2_880_000 },
  );
  return {
    title: 'Run <basal-only> & friends',
    subtitle: ['Scenario: basal-only.yaml, seed 42'],
    summary: [
      { label: 'Simulated time', value: '8d 08:00:00' },
      { label: 'Denied presses', value: 3 },
    ],
    sections: [
      { heading: 'Reservoir', figures: [{ svg: reservoir, caption: 'Estimate against truth.' }] },
      {
        heading: 'Dose',
        paragraphs: ['Never above the hard limit: "<script>alert(1)</script>"'],
        figures: [{ svg: dose }],
      },
      {
        heading: 'Battery and accuracy',
        figures: [{ svg: battery }],
        preformatted: [trumpetTable(trumpet)],
        tables: [
          {
            caption: 'Alarms',
            columns: ['Alarm', 'Count'],
            rows: [
              ['lowReservoir', 2],
              ['motorStall', 0],
            ],
          },
        ],
      },
    ],
  };
}

describe('buildReportHtml', () => {
  it('builds one self-contained page: no http(s) URL but SVG namespaces, no src=, no scripts', async () => {
    const html = buildReportHtml(await report());
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.match(/<svg\b/g)).toHaveLength(3);
    expect(html).toContain('<style>');
    // The test's own check, independent of externalReferences(): strip namespace declarations,
    // then no URL of any kind and no src attribute may remain.
    const withoutNamespaces = html.replace(/xmlns(:[a-z]+)?="http:\/\/www\.w3\.org\/[^"]*"/g, '');
    expect(withoutNamespaces).not.toMatch(/https?:\/\//);
    expect(withoutNamespaces).not.toMatch(/\bsrc\s*=/i);
    expect(html).not.toMatch(/<script|<link\b|@import/i);
    expect(externalReferences(html)).toEqual([]);
  });

  it('escapes every text it is given', async () => {
    const html = buildReportHtml(await report());
    expect(html).toContain('<title>Run &lt;basal-only&gt; &amp; friends</title>');
    expect(html).toContain('&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;');
  });

  it('gives each inlined chart its own ids so clip paths cannot collide', async () => {
    const html = buildReportHtml(await report());
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]!);
    expect(ids.length).toBeGreaterThan(3);
    expect(new Set(ids).size).toBe(ids.length);
    // Every url(#...) inside the page points at an id that exists.
    for (const [, target] of html.matchAll(/url\(#([^)]+)\)/g)) expect(ids).toContain(target);
  });

  it('carries the summary, tables, the trumpet table and the figure captions', async () => {
    const html = buildReportHtml(await report());
    expect(html).toContain('<tr><th>Denied presses</th><td class="number">3</td></tr>');
    expect(html).toContain('<caption>Alarms</caption>');
    expect(html).toContain('<figcaption>Figure 1. Estimate against truth.</figcaption>');
    expect(html).toMatch(/<pre>Flow accuracy, IEC 60601-2-24 trumpet method\n/);
    expect(html).toContain('<a href="#section-3">Battery and accuracy</a>');
  });

  it('is deterministic', async () => {
    const doc = await report();
    expect(buildReportHtml(doc)).toBe(buildReportHtml(doc));
  });

  it('refuses an SVG that references the outside world, and a table row of the wrong width', async () => {
    const doc = await report();
    const withImage =
      '<svg xmlns="http://www.w3.org/2000/svg"><image href="https://example.com/x.png"/></svg>';
    const bad = { ...doc, sections: [{ heading: 'X', figures: [{ svg: withImage }] }] };
    expect(() => buildReportHtml(bad)).toThrow(AnalysisInputError);
    expect(() => buildReportHtml(bad)).toThrow(/sections\[0\]\.figures\[0\]\.svg/);
    const notSvg = {
      ...doc,
      sections: [{ heading: 'X', figures: [{ svg: '<img src="chart.png">' }] }],
    };
    expect(() => buildReportHtml(notSvg)).toThrow(/must be an SVG document/);
    const ragged = {
      ...doc,
      sections: [{ heading: 'X', tables: [{ columns: ['a', 'b'], rows: [['1']] }] }],
    };
    expect(() => buildReportHtml(ragged)).toThrow(/sections\[0\]\.tables\[0\]\.rows\[0\]/);
  });

  it('finds external references of every kind', () => {
    expect(
      externalReferences(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"></svg>',
      ),
    ).toEqual([]);
    expect(externalReferences('<a href="#top">top</a>')).toEqual([]);
    expect(externalReferences('<img src="x.png">')).toHaveLength(1);
    expect(externalReferences('<p>see //cdn.example.org/lib.js</p>')).toHaveLength(1);
    expect(externalReferences('<style>a { background: url(bg.png) }</style>')).toHaveLength(1);
    expect(externalReferences('<script>1</script>')).toHaveLength(1);
    expect(() => assertSelfContained('<link rel="stylesheet" href="a.css">')).toThrow(
      AnalysisInputError,
    );
  });
});

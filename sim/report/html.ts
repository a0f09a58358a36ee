/**
 * A self-contained report.html: inline CSS, inline SVG charts, no scripts, no external resources.
 *
 * Rules:
 * - The page opens offline, from a USB stick or an e-mail attachment: nothing is fetched, so no
 *   CDN, no web font, no `src=` or `href=` leaving the file. `assertSelfContained` checks a page
 *   for that (the only URLs allowed are XML namespace names, which browsers never fetch).
 * - Every text value is HTML-escaped; SVGs are accepted only as `<svg ...>` documents, without
 *   scripts or external references, and their ids are prefixed per figure so that two charts'
 *   clip paths cannot collide in one document.
 * - Deterministic: no timestamp of its own; the caller passes whatever "generated at" text it wants.
 *
 * Plain data in, a string out; it knows nothing about runs, fleets or rigs.
 */
import { AnalysisInputError } from '../analysis/inputError.js';

export interface ReportTable {
  caption?: string;
  columns: readonly string[];
  rows: readonly (readonly (string | number)[])[];
}

export interface ReportFigure {
  /** A standalone SVG document as the chart functions return it. */
  svg: string;
  caption?: string;
}

export interface ReportSection {
  heading: string;
  paragraphs?: readonly string[];
  tables?: readonly ReportTable[];
  /** Monospaced blocks, e.g. `trumpetTable(result)`. */
  preformatted?: readonly string[];
  figures?: readonly ReportFigure[];
}

export interface ReportDocument {
  title: string;
  /** Lines under the title (scenario, seed, "generated at" if the caller wants one). */
  subtitle?: readonly string[];
  /** The summary table at the top: label and value pairs. */
  summary: readonly { label: string; value: string | number }[];
  sections: readonly ReportSection[];
}

const CSS = `
:root { color-scheme: light; }
body { font-family: Helvetica, Arial, sans-serif; color: #222; margin: 0; background: #fafafa; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 32px 48px; background: white; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 36px 0 8px; padding-top: 12px; border-top: 1px solid #ddd; }
.subtitle { color: #555; margin: 2px 0; }
table { border-collapse: collapse; margin: 12px 0; font-size: 14px; }
caption { text-align: left; font-weight: bold; padding-bottom: 4px; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
table.summary th { width: 16em; }
pre { background: #f6f6f6; border: 1px solid #e2e2e2; padding: 10px 12px; overflow-x: auto; font-size: 13px; }
figure { margin: 16px 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 13px; margin-top: 4px; }
nav ol { margin: 8px 0; padding-left: 20px; }
.table { max-width: 100%; overflow-x: auto; }
@media (max-width: 600px) {
  main { padding: 12px 12px 32px; }
  table.summary th { width: auto; }
  /* A chart scaled to a phone's width would shrink its text to 5-7 px: it keeps its size and
     scrolls sideways in its own box instead. */
  figure { overflow-x: auto; }
  figure svg { max-width: none; }
}
`.trim();

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** Names XML namespaces; a browser never fetches these. */
const NAMESPACE_URL = /xmlns(?::[a-z]+)?="https?:\/\/[^"]*"/gi;

/**
 * Every external reference in a page, or an empty list if it is self-contained: any http(s) URL
 * outside an xmlns attribute, and any src= or href= that is not a same-document "#fragment".
 */
export function externalReferences(html: string): string[] {
  const found: string[] = [];
  const withoutNamespaces = html.replace(NAMESPACE_URL, '');
  for (const match of withoutNamespaces.matchAll(
    /(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"'<>)]*/gi,
  ))
    found.push(match[0]);
  for (const match of withoutNamespaces.matchAll(
    /\b(?:src|href|xlink:href)\s*=\s*["']?([^"'\s>]*)/gi,
  )) {
    if (!match[1]!.startsWith('#')) found.push(match[0]);
  }
  for (const match of withoutNamespaces.matchAll(/url\(\s*["']?([^)"']*)/gi)) {
    if (!match[1]!.startsWith('#')) found.push(match[0]);
  }
  for (const match of withoutNamespaces.matchAll(/@import|<script|<link|<iframe|<object|<embed/gi))
    found.push(match[0]);
  return found;
}

/** Throws unless `html` references nothing outside itself. */
export function assertSelfContained(html: string, field = 'html'): void {
  const found = externalReferences(html);
  if (found.length > 0) {
    throw new AnalysisInputError(
      'invalidValue',
      field,
      `references outside the document: ${found.slice(0, 3).join(', ')}`,
    );
  }
}

/** Prepares one chart for inlining: checks it is a plain SVG and prefixes its ids. */
function inlineSvg(svg: string, prefix: string, field: string): string {
  const trimmed = svg.replace(/^\s*<\?xml[^>]*\?>\s*/, '').trim();
  if (!trimmed.startsWith('<svg') || !trimmed.endsWith('</svg>')) {
    throw new AnalysisInputError(
      'invalidValue',
      field,
      'must be an SVG document starting with <svg and ending with </svg>',
    );
  }
  assertSelfContained(trimmed, field);
  return trimmed.replace(
    /(\bid="|url\(#|href="#)([^")]+)/g,
    (_whole, start: string, id: string) => `${start}${prefix}${id}`,
  );
}

function cell(value: string | number, header: boolean): string {
  const tag = header ? 'th' : 'td';
  const numeric = typeof value === 'number' ? ' class="number"' : '';
  return `<${tag}${numeric}>${escapeHtml(String(value))}</${tag}>`;
}

function table(t: ReportTable, field: string): string {
  t.rows.forEach((row, index) => {
    if (row.length !== t.columns.length) {
      throw new AnalysisInputError(
        'mismatch',
        `${field}.rows[${index}]`,
        `has ${row.length} cells, the table has ${t.columns.length} columns`,
      );
    }
  });
  const caption = t.caption === undefined ? '' : `<caption>${escapeHtml(t.caption)}</caption>`;
  const head = `<thead><tr>${t.columns.map((c) => cell(c, true)).join('')}</tr></thead>`;
  const body = `<tbody>${t.rows.map((row) => `<tr>${row.map((v) => cell(v, false)).join('')}</tr>`).join('\n')}</tbody>`;
  // A wide table scrolls in its own box on a narrow screen; the page itself never scrolls sideways.
  return `<div class="table"><table>${caption}${head}\n${body}</table></div>`;
}

function anchor(index: number): string {
  return `section-${index + 1}`;
}

/** The report page. Throws `AnalysisInputError` for a malformed table or SVG; builds nothing then. */
export function buildReportHtml(report: ReportDocument): string {
  let figureNumber = 0;
  const sections = report.sections.map((section, s) => {
    const field = `sections[${s}]`;
    const parts = [`<section id="${anchor(s)}">`, `<h2>${escapeHtml(section.heading)}</h2>`];
    for (const paragraph of section.paragraphs ?? []) parts.push(`<p>${escapeHtml(paragraph)}</p>`);
    (section.tables ?? []).forEach((t, i) => parts.push(table(t, `${field}.tables[${i}]`)));
    for (const block of section.preformatted ?? []) parts.push(`<pre>${escapeHtml(block)}</pre>`);
    (section.figures ?? []).forEach((figure, i) => {
      figureNumber++;
      const svg = inlineSvg(figure.svg, `f${figureNumber}-`, `${field}.figures[${i}].svg`);
      const caption =
        figure.caption === undefined
          ? ''
          : `<figcaption>Figure ${figureNumber}. ${escapeHtml(figure.caption)}</figcaption>`;
      parts.push(`<figure>${svg}${caption}</figure>`);
    });
    parts.push('</section>');
    return parts.join('\n');
  });

  const summary = `<div class="table"><table class="summary"><tbody>${report.summary
    .map((row) => `<tr>${cell(row.label, true)}${cell(row.value, false)}</tr>`)
    .join('\n')}</tbody></table></div>`;
  const contents = report.sections.length
    ? `<nav><ol>${report.sections.map((s, i) => `<li><a href="#${anchor(i)}">${escapeHtml(s.heading)}</a></li>`).join('')}</ol></nav>`
    : '';
  const html = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(report.title)}</title>`,
    `<style>\n${CSS}\n</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<h1>${escapeHtml(report.title)}</h1>`,
    ...(report.subtitle ?? []).map((line) => `<p class="subtitle">${escapeHtml(line)}</p>`),
    summary,
    contents,
    ...sections,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
  assertSelfContained(html);
  return html;
}

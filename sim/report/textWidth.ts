/**
 * Text widths for vega's layout without a canvas: Helvetica advance widths.
 *
 * vega measures labels, legends and titles to lay them out. Without the `canvas` package it falls
 * back to 0.8 em per character, which overestimates proportional text by a third: legends get wide
 * gaps and axis labels are culled as if they overlapped. vega lets a host replace
 * `textMetrics.width` (vl-convert does the same with its own font engine); we install a width from
 * the standard Helvetica metrics (the font the charts ask for first), which is deterministic and
 * independent of the fonts installed on the machine.
 */
import type * as Vega from 'vega';

/** Advance widths of printable ASCII (32..126) in Helvetica, in 1/1000 em (Adobe AFM). */
// prettier-ignore
const HELVETICA_ASCII = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space..'/'
  556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // '0'..'?'
  1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // '@'..'O'
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // 'P'..'_'
  333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // '`'..'o'
  556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // 'p'..'~'
];
/** Anything outside ASCII (µ, Δ, –, ≥) counts as a digit's width. */
const OTHER_WIDTH = 556;
/** Bold Helvetica is about 6 % wider on average text. */
const BOLD_FACTOR = 1.06;
/**
 * Viewers without Helvetica or Arial fall back to fonts up to ~10 % wider (DejaVu Sans on Linux);
 * room for them costs a few pixels of padding, too little room costs overlapping labels.
 */
const FALLBACK_FONT_MARGIN = 1.1;

export function helveticaWidthPx(text: string, fontSizePx: number, bold = false): number {
  let units = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    units += code >= 32 && code <= 126 ? HELVETICA_ASCII[code - 32]! : OTHER_WIDTH;
  }
  return (units / 1000) * fontSizePx * (bold ? BOLD_FACTOR : 1) * FALLBACK_FONT_MARGIN;
}

interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
}

interface TextMetrics {
  width: (item: TextItem, text: unknown) => number;
}

let installed = false;

/** Makes vega measure text with Helvetica widths. Idempotent; called by the chart module before it renders. */
export function installTextMetrics(vega: typeof Vega): void {
  if (installed) return;
  // vega-scenegraph exports `textMetrics` through vega, but vega's typings do not declare it.
  const metrics = (vega as unknown as { textMetrics: TextMetrics }).textMetrics;
  metrics.width = (item, text) => {
    const size = item.fontSize === undefined ? 11 : Number(item.fontSize) || 0;
    const weight = item.fontWeight;
    const bold = weight === 'bold' || (typeof weight === 'number' && weight >= 600);
    return helveticaWidthPx(text == null ? '' : String(text).trim(), size, bold);
  };
  installed = true;
}

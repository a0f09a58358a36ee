/**
 * Units, and every conversion between the firmware's integers and the units people write.
 *
 * Rules:
 * - Inside the controller every quantity is an integer: volumes in nanolitres (`…Nl`), time in
 *   milliseconds (`…Ms`), drug mass in nanograms (`…Ng`) or picograms (`…Pg`), concentration in
 *   micrograms per millilitre (`…UgPerMl`), rates in nanolitres per day (`…NlPerDay`).
 * - 1 nL of a 1 µg/mL solution holds exactly 1 pg, so `volumeNl * concentrationUgPerMl` is an exact
 *   dose in picograms. That identity is why these units were chosen.
 * - Parsing and formatting of human quantities ("1 mg/day", "0.5 mL", "2d 08:00") happen here and
 *   nowhere else; the CLI, scenario loader and reports call these functions.
 */

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

export const NL_PER_UL = 1_000;
export const NL_PER_ML = 1_000_000;
export const NG_PER_UG = 1_000;
export const NG_PER_MG = 1_000_000;
export const PG_PER_NG = 1_000;
export const UG_PER_MG = 1_000;

/** Exact dose in picograms of a drug in a volume of solution. */
export function dosePg(volumeNl: number, concentrationUgPerMl: number): number {
  return volumeNl * concentrationUgPerMl;
}

/** The volume (rounded down, so never more drug than asked) that holds a dose. */
export function volumeNlForDoseNg(doseNg: number, concentrationUgPerMl: number): number {
  return Math.floor((doseNg * PG_PER_NG) / concentrationUgPerMl);
}

// ---------------------------------------------------------------------------------------------
// Parsing of human quantities. Each parser returns an integer in the firmware unit or throws a
// `QuantityError` that names what it expected.

export class QuantityError extends Error {
  override name = 'QuantityError';
}

const number = String.raw`([0-9]+(?:\.[0-9]+)?)`;

function scaled(text: string, value: string, factor: number): number {
  // Decimal strings are scaled by string arithmetic so "0.1 mL" is exactly 100000 nL.
  const [whole = '0', fraction = ''] = value.split('.');
  const digits = Math.round(Math.log10(factor));
  if (10 ** digits !== factor) return Math.round(Number(value) * factor);
  if (fraction.length > digits) {
    throw new QuantityError(`"${text}" is more precise than the firmware unit allows`);
  }
  const result = Number(whole) * factor + Number(fraction.padEnd(digits, '0') || '0');
  if (!Number.isSafeInteger(result)) throw new QuantityError(`"${text}" is too large`);
  return result;
}

function parseWith(text: string, units: Record<string, number>, expected: string): number {
  const match = new RegExp(`^\\s*${number}\\s*([a-zA-Zµμ/]+)\\s*$`).exec(text);
  const unit = match?.[2]?.replace('μ', 'µ');
  const factor = unit === undefined ? undefined : units[unit];
  if (!match || factor === undefined) {
    if (
      /^\s*-\s*[0-9.]/.test(text) &&
      parses(() => parseWith(text.replace('-', ''), units, expected))
    )
      throw new QuantityError(
        `"${text}" is negative: ${expected} is 0 ${/([a-zA-Zµμ/]+)\s*$/.exec(text)?.[1] ?? ''} or more`,
      );
    throw new QuantityError(
      `"${text}" is not ${expected} (units: ${Object.keys(units).join(', ')})`,
    );
  }
  return scaled(text, match[1]!, factor);
}

/** Whether `parse` succeeds: a negative quantity is told from nonsense by parsing it without its sign. */
function parses(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch {
    return false;
  }
}

export const volumeUnits = { nL: 1, uL: NL_PER_UL, µL: NL_PER_UL, mL: NL_PER_ML } as const;
export const massUnits = { ng: 1, ug: NG_PER_UG, µg: NG_PER_UG, mg: NG_PER_MG } as const;
export const concentrationUnits = { 'ug/mL': 1, 'µg/mL': 1, 'mg/mL': UG_PER_MG } as const;
export const dailyDoseUnits = {
  'ng/day': 1,
  'ug/day': NG_PER_UG,
  'µg/day': NG_PER_UG,
  'mg/day': NG_PER_MG,
} as const;
export const rateUnits = {
  'nL/day': 1,
  'uL/day': NL_PER_UL,
  'µL/day': NL_PER_UL,
  'mL/day': NL_PER_ML,
} as const;
export const durationUnits = {
  ms: 1,
  s: SECOND_MS,
  min: MINUTE_MS,
  h: HOUR_MS,
  d: DAY_MS,
} as const;

/**
 * One quantity of a unit table as a regular expression (no anchors, no groups): what `parseWith`
 * accepts, as a number with no more decimals than the firmware unit keeps ("1.5 nL" is refused:
 * nL is the firmware unit) and one of the units (µ also written as Greek μ, which it reads as µ).
 * The JSON Schema's patterns are made of it, so an editor flags "banana". The whole part has at
 * most as many digits as keep the quantity a safe integer in the firmware unit (15 for nL, 9 for
 * mL; leading zeros aside), so "10000000000 mL", which the loader calls too large, is refused too.
 * With `nonZero`, the number must have a nonzero digit where it counts: in the whole part, or in
 * the first ⌊log10 factor⌋ decimals (a decimal beyond those would round to 0 in the firmware unit).
 */
function quantitySource(units: Readonly<Record<string, number>>, nonZero = false): string {
  const alternatives = Object.entries(units).flatMap(([name, factor]) => {
    const names = name.includes('µ') ? [name, name.replace('µ', 'μ')] : [name];
    return names.map((n) => `(?:${numberSource(factor, nonZero)})\\s*${n}`);
  });
  return `(?:${alternatives.join('|')})`;
}

/** A number of a unit of `factor` firmware units, as `quantitySource` says. */
function numberSource(factor: number, nonZero: boolean): string {
  const digits = Math.round(Math.log10(factor));
  const exact = 10 ** digits === factor; // a power of ten: at most `digits` decimals
  const decimals = !exact ? '+' : digits === 0 ? null : `{1,${digits}}`;
  const wholeDigits = Math.floor(Math.log10(Number.MAX_SAFE_INTEGER / factor));
  const whole = `0*[0-9]{1,${wholeDigits}}`;
  const fraction = decimals === null ? '' : `(?:\\.[0-9]${decimals})?`;
  if (!nonZero) return `${whole}${fraction}`;
  const nonZeroWhole = `0*[1-9][0-9]{0,${wholeDigits - 1}}${fraction}`;
  if (decimals === null) return nonZeroWhole;
  // A zero whole part: a nonzero digit among the first `significant` decimals.
  const significant = Math.max(1, Math.floor(Math.log10(factor)));
  const tails = exact
    ? Array.from(
        { length: digits },
        (_, zeros) => `0{${zeros}}[1-9][0-9]{0,${digits - 1 - zeros}}`,
      ).join('|')
    : `0{0,${significant - 1}}[1-9][0-9]*`;
  return `${nonZeroWhole}|0+\\.(?:${tails})`;
}

/** What `parseWith` accepts for a unit table, as an anchored pattern for a JSON Schema. */
export function quantityPattern(units: Readonly<Record<string, number>>): string {
  return String.raw`^\s*${quantitySource(units)}\s*$`;
}

/** `parseDurationMs`'s grammar: quantities of `durationUnits`, a space between each two. */
const durationSource = String.raw`${quantitySource(durationUnits)}(?:\s+${quantitySource(durationUnits)})*`;
/** "HH:MM" or "HH:MM:SS" after an optional day "Nd": `parseTimeMs`'s clock form. */
const clockSource = String.raw`(?:[0-9]+d\s*)?(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?`;

/**
 * What `parseDurationMs` and `parseTimeMs` accept, as patterns for a JSON Schema: the grammar's one
 * home (the parsers read the same sources).
 */
export const durationPattern = String.raw`^\s*${durationSource}\s*$`;
/**
 * A duration that is not zero: a sum of quantities of which at least one is not zero. (Its
 * terms are bounded one by one; a sum of several near-limit terms can still be too large.)
 */
export const nonZeroDurationPattern = String.raw`^\s*(?:${quantitySource(durationUnits)}\s+)*${quantitySource(durationUnits, true)}(?:\s+${quantitySource(durationUnits)})*\s*$`;
/** A whole clock time in range (hours to 23, minutes and seconds to 59), compiled once. */
const clockRegex = new RegExp(String.raw`^\s*${clockSource}\s*$`);
export const timePattern = String.raw`^\s*(?:${clockSource}|${durationSource})\s*$`;

export const parseVolumeNl = (t: string) => parseWith(t, volumeUnits, 'a volume');
export const parseMassNg = (t: string) => parseWith(t, massUnits, 'a drug mass');
export const parseConcentrationUgPerMl = (t: string) =>
  parseWith(t, concentrationUnits, 'a concentration');
export const parseDailyDoseNg = (t: string) => parseWith(t, dailyDoseUnits, 'a daily dose');
export const parseRateNlPerDay = (t: string) => parseWith(t, rateUnits, 'a flow rate');

/** "30 min", "6h", "1.5 h", or a sum such as "1d 2h 30min". */
export function parseDurationMs(text: string): number {
  const parts = text.trim().split(/\s+(?=[0-9])/);
  if (parts.length === 0 || text.trim() === '')
    throw new QuantityError(`"${text}" is not a duration`);
  return parts.reduce(
    (sum, part) => sum + parseWith(part, durationUnits, 'a duration (e.g. "30 min", "6 h")'),
    0,
  );
}

/**
 * A moment of a simulation, measured from its start: "2d 08:00", "08:30", "36h", "90d",
 * "1d 2h 30min". "Nd HH:MM" reads as day N at that clock time, day 0 being the first.
 */
export function parseTimeMs(text: string): number {
  const clock = /^\s*(?:([0-9]+)d\s*)?([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?\s*$/.exec(text);
  if (clock) {
    const [, d = '0', h, m, s = '0'] = clock;
    if (!clockRegex.test(text)) throw new QuantityError(`"${text}" is not a time of day`);
    return Number(d) * DAY_MS + Number(h) * HOUR_MS + Number(m) * MINUTE_MS + Number(s) * SECOND_MS;
  }
  try {
    return parseDurationMs(text);
  } catch {
    if (/^\s*-/.test(text) && parses(() => parseTimeMs(text.replace('-', ''))))
      throw new QuantityError(
        `"${text}" is negative: times count from the run's start, 0d 00:00, onwards`,
      );
    throw new QuantityError(`"${text}" is not a time (e.g. "2d 08:00", "36h", "90d")`);
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting for people. Exact where it can be: integers are divided as decimals, not floats.

function decimal(value: number, factor: number, places: number): string {
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  const whole = Math.floor(abs / factor);
  const rest = abs - whole * factor;
  if (places === 0) return `${sign}${whole}`;
  const fraction = String(Math.round((rest * 10 ** places) / factor)).padStart(places, '0');
  if (fraction.length > places) return `${sign}${whole + 1}.${'0'.repeat(places)}`;
  return `${sign}${whole}.${fraction}`;
}

export const formatMl = (volumeNl: number, places = 3) =>
  `${decimal(volumeNl, NL_PER_ML, places)} mL`;
export const formatMg = (doseNg: number, places = 3) => `${decimal(doseNg, NG_PER_MG, places)} mg`;
export const formatUg = (doseNg: number, places = 1) => `${decimal(doseNg, NG_PER_UG, places)} µg`;
/** A dose in the unit a clinician would use for it: mg from 1 mg up, µg below. */
export const formatDoseNg = (doseNg: number) =>
  Math.abs(doseNg) >= NG_PER_MG ? formatMg(doseNg) : formatUg(doseNg);
export const formatConcentration = (c: number) =>
  c >= UG_PER_MG && c % UG_PER_MG === 0 ? `${c / UG_PER_MG} mg/mL` : `${c} µg/mL`;

/**
 * A dose in pg, exact to the picogram, in the unit `unitOfPg` would be shown in (mg from 1 mg up,
 * µg below): "20.000002 mg", "1.0000005 µg". For figures compared with a limit, so that an excess
 * of a few picograms is not hidden by rounding ("1.0 µg above 1.0 µg").
 */
export function formatDosePgExact(dosePg: number, unitOfPg = dosePg): string {
  const pgPerUnit =
    Math.abs(unitOfPg) >= NG_PER_MG * PG_PER_NG ? NG_PER_MG * PG_PER_NG : NG_PER_UG * PG_PER_NG;
  const unit = pgPerUnit === NG_PER_UG * PG_PER_NG ? 'µg' : 'mg';
  const places = pgPerUnit === NG_PER_UG * PG_PER_NG ? 6 : 9;
  const text = decimal(Math.round(dosePg), pgPerUnit, places).replace(/\.?0+$/, '');
  return `${text} ${unit}`;
}

/** "2d 08:00:00" for a time measured from a run's start. */
export function formatTimeMs(timeMs: number): string {
  const sign = timeMs < 0 ? '-' : '';
  let rest = Math.abs(timeMs);
  const d = Math.floor(rest / DAY_MS);
  rest -= d * DAY_MS;
  const h = Math.floor(rest / HOUR_MS);
  rest -= h * HOUR_MS;
  const m = Math.floor(rest / MINUTE_MS);
  rest -= m * MINUTE_MS;
  const s = Math.floor(rest / SECOND_MS);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${sign}${d}d ${pad(h)}:${pad(m)}:${pad(s)}`;
}

/**
 * A firmware field's value as a user reads it, by the unit its name ends with (`lockoutMs`: a
 * duration; `bolusDoseNg`: a dose; `doseNgPerDay`: a daily dose); other values as JSON.
 */
export function formatFieldValue(field: string, value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value) && /Ms$/.test(field))
    return value === 0 ? '0 ms' : formatDurationMs(value);
  if (typeof value === 'number' && Number.isInteger(value) && /Ng(PerDay)?$/.test(field))
    return `${value === 0 ? '0 mg' : formatDosePgExact(value * PG_PER_NG)}${/PerDay$/.test(field) ? '/day' : ''}`;
  return JSON.stringify(value) ?? 'undefined';
}

export function formatDurationMs(durationMs: number): string {
  if (durationMs % DAY_MS === 0) return `${durationMs / DAY_MS} d`;
  if (durationMs % HOUR_MS === 0) return `${durationMs / HOUR_MS} h`;
  if (durationMs % MINUTE_MS === 0) return `${durationMs / MINUTE_MS} min`;
  return `${durationMs / SECOND_MS} s`;
}

/**
 * Scenario files: a pump, its drugs, a prescription, patient-bolus settings, a timeline and a
 * patient-demand model, in the units people write ("1 mg/day", "2d 08:00"), validated by zod.
 *
 * Quantities are parsed with src/units.ts into firmware integers here, at the edge. Nothing in this
 * file decides safety: the loader refuses malformed input, and the controller core checks every
 * programming command against the drug library whatever the loader accepted.
 *
 * The drug path (docs/drug-path.md §7): `catheter` describes the implanted catheter the simulator
 * models (and, unless `recorded: false`, what the clinician recorded in the pump); the timeline
 * has a `primingBolus` action and a refill's `bridge` and `pocketFill` options. Defaults are the
 * Prometra figure (2.6 µL/cm, CONFIRMED) and placeholders marked UNCONFIRMED in the docs.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  concentrationUgPerMlMax,
  mixtureDrugsMax,
  patientBolusesPer24hMax,
} from '../src/constants.js';
import { defaultDrugLibrary } from '../src/therapy/drugLibrary.js';
import {
  drugLibrarySchema,
  type DrugLibrary,
  type Mixture,
  type Prescription,
  type PtmSettings,
  type PumpConfig,
} from '../src/therapy/schema.js';
import * as u from '../src/units.js';
import { InputError } from './inputError.js';

/**
 * A string quantity parsed by one of the unit parsers; a parse failure is a zod issue. The JSON
 * Schema says it too: a string matching `pattern` (what the parser accepts, from src/units.ts, bar
 * the negative numbers it refuses), so an editor flags "banana"; `hint` names the units.
 */
function quantity(parse: (text: string) => number, example: string, pattern: string, hint: string) {
  // YAML's .nan and .inf are numbers zod refuses with a bare "Invalid input": take them as text,
  // so they get a message of their own below.
  const nonFiniteAsText = (v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
  return z.preprocess(nonFiniteAsText, quantityText(parse, example)).meta({
    description: `a quantity such as "${example}" (${hint})`,
    type: 'string',
    pattern,
  });
}
/** A quantity of one unit table: its pattern and its list of units. */
const unitQuantity = (
  parse: (text: string) => number,
  example: string,
  units: Readonly<Record<string, number>>,
) => quantity(parse, example, u.quantityPattern(units), `units: ${Object.keys(units).join(', ')}`);

function quantityText(parse: (text: string) => number, example: string) {
  return z
    .union([z.string(), z.number()])
    .describe(`a quantity such as "${example}"`)
    .transform((value, ctx) => {
      try {
        if (value === 'NaN' || value === 'Infinity' || value === '-Infinity')
          throw new Error(`is not a number: give a quantity such as "${example}"`);
        return parse(String(value));
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    });
}

const volume = unitQuantity(u.parseVolumeNl, '20 mL', u.volumeUnits);
const mass = unitQuantity(u.parseMassNg, '0.1 mg', u.massUnits);
const dailyDose = unitQuantity(u.parseDailyDoseNg, '1 mg/day', u.dailyDoseUnits);
/** A concentration the pump can hold: a whole number of µg/mL from 1 µg/mL to 100 mg/mL. */
const concentration = unitQuantity(
  (text) => {
    const ugPerMl = u.parseConcentrationUgPerMl(text);
    if (!Number.isInteger(ugPerMl) || ugPerMl < 1 || ugPerMl > concentrationUgPerMlMax)
      throw new Error(
        `outside the concentrations the pump holds: a whole number of µg/mL from 1 µg/mL to ${concentrationUgPerMlMax / 1000} mg/mL`,
      );
    return ugPerMl;
  },
  '2 mg/mL',
  u.concentrationUnits,
);
const rate = unitQuantity(u.parseRateNlPerDay, '0.048 mL/day', u.rateUnits);
const durationHint = `units: ${Object.keys(u.durationUnits).join(', ')}; a sum such as "1h 30min"`;
const duration = quantity(u.parseDurationMs, '10 min', u.durationPattern, durationHint);
const time = quantity(
  u.parseTimeMs,
  '2d 08:00',
  u.timePattern,
  `time since the run's start: "2d 08:00" is day 2 at 08:00, day 0 being the first; or a duration, ${durationHint}`,
);
const timeOfDay = z
  .string()
  .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'a time of day "HH:MM"')
  .transform((t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3)));
/**
 * A date and time with its zone, as `setClock.to` and `startRtc` take it ("2025-06-02T08:00:00Z"):
 * ISO 8601 with seconds optional and a zone required (without one, Date.parse reads the machine's
 * local time, and the same scenario would run differently elsewhere).
 */
export const dateTimePattern = String.raw`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,3})?)?(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])$`;
/** Whether a date-time names a real day: Date.parse reads "2025-02-30" as 2 March. */
function isCalendarDay(text: string): boolean {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}
const clockTime = (example: string) =>
  z
    .string()
    .refine((t) => new RegExp(dateTimePattern).test(t) && isCalendarDay(t), {
      error: (issue) =>
        `is not a date and time with its zone such as "${example}"` +
        (/^\s*[0-9]{1,2}:[0-9]{2}/.test(String(issue.input))
          ? ' (a time of day alone does not say which day)'
          : ''),
    })
    .meta({ pattern: dateTimePattern });
/** Percent as a number or "2.4 %", returned in parts per million. */
const ppm = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const m = /^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*(%|ppm)?\s*$/.exec(String(v));
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a percentage such as "-2.4 %"` });
    return z.NEVER;
  }
  return Math.round(Number(m[1]) * (m[2] === 'ppm' ? 1 : 10_000));
});

/** A catheter length in whole cm: 100 or "100 cm". */
const lengthCm = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const m = /^\s*([0-9]+)\s*(cm)?\s*$/.exec(String(v));
  if (!m) {
    ctx.addIssue({
      code: 'custom',
      message: `"${v}" is not a length in whole cm such as "100 cm"`,
    });
    return z.NEVER;
  }
  return Number(m[1]);
});
/** A factor: 1.5, "×1.5", "1.5x" or "150 %", returned in parts per million; null turns the check off. */
const factorPpm = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const text = String(v).trim();
  const m = /^(?:×|x)?\s*([0-9]+(?:\.[0-9]+)?)\s*(×|x|%)?$/.exec(text);
  if (!m) {
    ctx.addIssue({
      code: 'custom',
      message: `"${v}" is not a factor such as 1.5, "×1.5" or "150 %"`,
    });
    return z.NEVER;
  }
  return Math.round(Number(m[1]) * (m[2] === '%' ? 10_000 : 1_000_000));
});
/** A pocket fill: the share of the injected volume ("100 %") or a volume ("5 mL") that misses the reservoir. */
const pocketFill = z.string().transform((v, ctx) => {
  if (/%\s*$/.test(v)) {
    const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*$/.exec(v);
    const percent = m ? Number(m[1]) : Number.NaN;
    if (!(percent >= 0 && percent <= 100)) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a share from 0 % to 100 %` });
      return z.NEVER;
    }
    return { sharePpm: Math.round(percent * 10_000) };
  }
  try {
    return { volumeNl: u.parseVolumeNl(v) };
  } catch (e) {
    ctx.addIssue({
      code: 'custom',
      message: `${(e as Error).message} (or a share such as "100 %")`,
    });
    return z.NEVER;
  }
});

const mixture = z
  .array(z.object({ drug: z.string(), concentration }).strict())
  .min(1, { error: 'a mixture holds at least one drug' })
  .max(mixtureDrugsMax, { error: `a mixture holds at most ${mixtureDrugsMax} drugs` })
  .superRefine((m, ctx) => {
    m.forEach((d, i) => {
      const first = m.findIndex((x) => x.drug === d.drug);
      if (first < i)
        ctx.addIssue({
          code: 'custom',
          path: [i, 'drug'],
          message: `${d.drug} is already the mixture's drug [${first}]: each drug once, with its concentration`,
        });
    });
  });
const prescription = z.discriminatedUnion(
  'mode',
  [
    z.object({ mode: z.literal('continuous'), dose: dailyDose }).strict(),
    z
      .object({
        mode: z.literal('flex'),
        steps: z
          .array(z.object({ at: timeOfDay, dose: dailyDose }).strict())
          .min(1)
          .max(24),
      })
      .strict(),
  ],
  { error: '`mode` is continuous (one daily dose) or flex (steps by time of day)' },
);
const ptm = z
  .object({
    bolusDose: mass,
    bolusDuration: duration,
    lockout: duration,
    // The range is the pump's to check (it refuses with its limit); here only a whole number.
    // The meta states the pump's range for editors only (the JSON Schema).
    maxPer24h: z
      .number({ error: 'a whole number of boluses' })
      .int({ error: 'a whole number of boluses' })
      .meta({
        description: `patient boluses allowed in any 24 hours, 1 to ${patientBolusesPer24hMax}`,
        minimum: 1,
        maximum: patientBolusesPer24hMax,
      }),
  })
  .strict();

const refill = z
  .object({
    withdrawn: z.union([z.literal('auto'), volume]).default('auto'),
    added: volume,
    mixture: mixture.optional(),
    confirm: z.boolean().default(false),
    /** Keep the old schedule until the new mixture reaches the tip (the pump's default: yes). */
    bridge: z.boolean().optional(),
    /** Part or all of the injected volume goes under the skin, not into the reservoir. */
    pocketFill: pocketFill.optional(),
  })
  .strict();
const primingBolus = z
  .object({ rate: rate.optional(), margin: volume.optional(), confirm: z.boolean().default(false) })
  .strict();
const program = z
  .object({
    prescription: prescription.optional(),
    ptm: ptm.nullable().optional(),
    confirm: z.boolean().default(false),
  })
  .strict();

const timelineEventKeys = z
  .object({
    at: time,
    press: z.object({}).strict().optional(),
    program: program.optional(),
    refill: refill.optional(),
    clinicianBolus: z
      .object({ dose: mass, duration, confirm: z.boolean().default(false) })
      .strict()
      .optional(),
    primingBolus: primingBolus.optional(),
    stop: z.object({}).strict().optional(),
    resume: z.object({}).strict().optional(),
    clearAlarms: z.object({}).strict().optional(),
    setClock: z
      .object({
        shift: duration.optional(),
        back: duration.optional(),
        to: clockTime('2025-06-02T08:00:00Z').optional(),
      })
      .strict()
      .refine((c) => [c.shift, c.back, c.to].filter((v) => v !== undefined).length === 1, {
        message:
          'needs exactly one of `shift` (forward, e.g. 1h), `back` (e.g. 30min) or `to` (a date and time, e.g. 2025-06-02T08:00:00Z)',
      })
      .optional(),
    motorStall: z.object({ for: duration }).strict().optional(),
    strokeVolumeError: ppm.optional(),
    reset: z
      .object({
        duringWrite: z.number().int().min(1).optional(),
        atByte: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
    corruptMemory: z
      .object({ record: z.enum(['prescription', 'ledger', 'reservoir', 'alarms', 'clock']) })
      .strict()
      .optional(),
  })
  .strict();
/** The timeline's actions, from the schema itself (the messages below name them). */
const timelineActions = Object.keys(timelineEventKeys.shape).filter((k) => k !== 'at');
const timelineEvent = timelineEventKeys
  .refine(
    (e) =>
      Object.keys(e).filter((k) => k !== 'at' && e[k as keyof typeof e] !== undefined).length === 1,
    {
      message: `each timeline event needs \`at\` and exactly one action (${timelineActions.join(', ')})`,
    },
  )
  // The same rule for editors (the JSON Schema): `at` plus one key, and no other keys allowed.
  .meta({
    description: `\`at\` (time since the run's start, e.g. 1d 08:00) and exactly one action: ${timelineActions.join(', ')}`,
    minProperties: 2,
    maxProperties: 2,
  });

const libraryEntry = z
  .object({
    drug: z.string(),
    maxConcentration: concentration,
    dailySoftMax: dailyDose,
    dailyHardMax: dailyDose,
    bolusSoftMax: mass,
    bolusHardMax: mass,
  })
  .strict();

export const scenarioSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    seed: z
      .number({ error: 'a whole number from 0 to 2147483647' })
      .int({ error: 'a whole number from 0 to 2147483647' })
      .min(0, { error: 'a whole number from 0 to 2147483647' })
      .max(2 ** 31 - 1, { error: 'a whole number from 0 to 2147483647' })
      .default(1),
    duration: duration.refine(
      (d) => d > 0 && d <= 10 * 365 * u.DAY_MS,
      'between 1 ms and 10 years',
    ),
    startRtc: clockTime('2025-01-06T08:00:00Z').default('2025-01-06T00:00:00Z'),
    pump: z
      .object({
        model: z.string().default('20 mL'),
        reservoirCapacity: volume.default(20 * u.NL_PER_ML),
        strokeVolume: volume.default(500),
        lowReservoir: volume.default(2 * u.NL_PER_ML),
        emptyReservoir: volume.default(u.NL_PER_ML / 2),
        safeMinimumRate: rate.default(48_000),
        stallRetry: duration.default(10 * u.MINUTE_MS),
        stallAttemptsMax: z.number().int().default(3),
        refillDiscrepancyPercentMax: z.number().int().default(20),
        /** Pump tubing, reservoir outlet to catheter port: UNCONFIRMED for every pump, 0 by default. */
        tubingVolume: volume.default(0),
        /** Refills raising a drug's dose rate by more than this need confirmation (placeholder ×1.5); null: no check. */
        doseRateIncreaseLimit: factorPpm.nullable().default(1_500_000),
        primingRate: rate.optional(),
      })
      .strict()
      .prefault({}),
    catheter: z
      .object({
        /** Implanted length: placeholder 100 cm (Prometra's 110 cm less a 10 cm trim), UNCONFIRMED. */
        length: lengthCm.default(100),
        /** Prometra: 2.6 µL/cm (IFU p.33, CONFIRMED). */
        volumePerCm: volume.default(2_600),
        /** Whether the clinician recorded the catheter in the pump (false: no bridge, no priming). */
        recorded: z.boolean().default(true),
        /** What the path holds at the start: the initial mixture (primed before the run) or saline (just implanted). */
        contents: z.enum(['drug', 'saline']).default('drug'),
        /** Priming mixing zone as a share of the dead volume (placeholder 20 %; 0 % is plug flow). */
        mixingZone: ppm.default(200_000),
        mixingZoneSegments: z.number().int().default(8),
      })
      .strict()
      .prefault({}),
    drugLibrary: z
      .object({ name: z.string(), drugs: z.array(libraryEntry).min(1) })
      .strict()
      .optional(),
    motor: z
      .object({ strokeVolumeError: ppm.default(0), strokeVolumeNoise: ppm.default(0) })
      .strict()
      .prefault({}),
    initialFill: z.object({ volume, mixture }).strict(),
    prescription,
    ptm: ptm.optional(),
    confirm: z.boolean().default(false),
    demand: z
      .object({
        episodesPerDay: z.number().min(0).max(24),
        pressesPerEpisode: z
          .tuple([z.number().int().min(1), z.number().int().min(1)])
          .refine(([least, most]) => least <= most, {
            message: 'the fewest presses an episode has come first: [fewest, most]',
          }),
        pressSpacing: duration.default(15 * u.MINUTE_MS),
      })
      .strict()
      .optional(),
    timeline: z.array(timelineEvent).default([]),
  })
  .strict();

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Scenario = z.output<typeof scenarioSchema>;
export type TimelineEvent = Scenario['timeline'][number];

export function toMixture(m: z.output<typeof mixture>): Mixture {
  return m.map((d) => ({ drug: d.drug, concentrationUgPerMl: d.concentration }));
}

export function toPrescription(p: z.output<typeof prescription>): Prescription {
  if (p.mode === 'continuous') return { mode: 'continuous', doseNgPerDay: p.dose };
  return { mode: 'flex', steps: p.steps.map((s) => ({ startMinute: s.at, doseNgPerDay: s.dose })) };
}

export function toPtm(p: z.output<typeof ptm>): PtmSettings {
  return {
    bolusDoseNg: p.bolusDose,
    bolusDurationMs: p.bolusDuration,
    lockoutMs: p.lockout,
    bolusesPer24hMax: p.maxPer24h,
  };
}

export function pumpConfigOf(s: Scenario): PumpConfig {
  const p = s.pump;
  return {
    model: p.model,
    reservoirCapacityNl: p.reservoirCapacity,
    strokeVolumeNl: p.strokeVolume,
    lowReservoirNl: p.lowReservoir,
    emptyReservoirNl: p.emptyReservoir,
    safeMinimumRateNlPerDay: p.safeMinimumRate,
    stallRetryMs: p.stallRetry,
    stallAttemptsMax: p.stallAttemptsMax,
    refillDiscrepancyPercentMax: p.refillDiscrepancyPercentMax,
    ...(s.catheter.recorded
      ? {
          pumpTubingVolumeNl: p.tubingVolume,
          catheterLengthCm: s.catheter.length,
          catheterVolumeNlPerCm: s.catheter.volumePerCm,
        }
      : {}),
    ...(p.doseRateIncreaseLimit === null
      ? {}
      : { doseRateIncreasePpmMax: p.doseRateIncreaseLimit }),
    ...(p.primingRate === undefined ? {} : { primingRateNlPerDay: p.primingRate }),
  };
}

/** The simulated drug path's volume: tubing + catheter, whether or not the pump has it recorded. */
export function drugPathGeometryOf(s: Scenario): {
  pumpTubingVolumeNl: number;
  catheterLengthCm: number;
  catheterVolumeNlPerCm: number;
} {
  return {
    pumpTubingVolumeNl: s.pump.tubingVolume,
    catheterLengthCm: s.catheter.length,
    catheterVolumeNlPerCm: s.catheter.volumePerCm,
  };
}

export function drugLibraryOf(s: Scenario): DrugLibrary {
  if (!s.drugLibrary) return defaultDrugLibrary;
  return drugLibrarySchema.parse({
    name: s.drugLibrary.name,
    drugs: s.drugLibrary.drugs.map((d) => ({
      drug: d.drug,
      concentrationUgPerMlMax: d.maxConcentration,
      dailyDoseNgSoftMax: d.dailySoftMax,
      dailyDoseNgHardMax: d.dailyHardMax,
      bolusDoseNgSoftMax: d.bolusSoftMax,
      bolusDoseNgHardMax: d.bolusHardMax,
    })),
  });
}

export { InputError };

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path) v = (v as Record<PropertyKey, unknown> | undefined)?.[key];
  return v;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return (
    path
      .map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`))
      .join('') || '(top level)'
  );
}

/** A value as the user wrote it: JSON, except YAML's .nan and .inf, which JSON has no words for. */
function shownAsWritten(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value))
    return Number.isNaN(value) ? '.nan' : value > 0 ? '.inf' : '-.inf';
  return JSON.stringify(value);
}

/** The schema found at a path of the input: through objects, arrays, optionals and refinements. */
function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  // Wrappers (optional, default, prefault, nullable, readonly) hold their schema as `innerType`;
  // a pipe (a transform) reads its input with `in`.
  const unwrap = (s: z.ZodType | undefined): z.ZodType | undefined => {
    let inner = s;
    for (;;) {
      const def = inner?._zod.def as { innerType?: z.ZodType; in?: z.ZodType } | undefined;
      const next = def?.innerType ?? def?.in;
      if (next === undefined) return inner;
      inner = next;
    }
  };
  let at = unwrap(schema);
  for (const key of path) {
    if (at instanceof z.ZodArray && typeof key === 'number') at = unwrap(at.element as z.ZodType);
    else if (at instanceof z.ZodObject && typeof key === 'string')
      at = unwrap(at.shape[key] as z.ZodType | undefined);
    else return undefined;
  }
  return at;
}

/** An unknown key, and the keys the object at that path does take (when the schema is known). */
function unknownKeysMessage(keys: readonly string[], object: z.ZodType | undefined): string {
  const named = keys.map((k) => JSON.stringify(k)).join(', ');
  const allowed = object instanceof z.ZodObject ? Object.keys(object.shape) : [];
  const word = keys.length === 1 ? 'key' : 'keys';
  return allowed.length === 0
    ? `unknown ${word} ${named}`
    : `unknown ${word} ${named}; the keys here are ${allowed.join(', ')}`;
}

/**
 * One line per problem: file, YAML path, the value as written, and what is wrong. Given the
 * schema, an unknown key lists the keys its object takes, and it alone is reported at its path
 * (a refinement of the same object, such as "exactly one action", would only repeat it).
 */
export function describeZodError(
  file: string,
  error: z.ZodError,
  input: unknown,
  schema?: z.ZodType,
): string {
  const samePath = (a: readonly PropertyKey[], b: readonly PropertyKey[]) =>
    a.length === b.length && a.every((k, i) => k === b[i]);
  const unknownAt = error.issues.filter((i) => i.code === 'unrecognized_keys').map((i) => i.path);
  return error.issues
    .filter((i) => i.code === 'unrecognized_keys' || !unknownAt.some((p) => samePath(p, i.path)))
    .slice(0, 5)
    .map((issue) => {
      const value = valueAt(input, issue.path);
      const shown = value === undefined ? 'missing' : shownAsWritten(value);
      const message =
        issue.code === 'unrecognized_keys'
          ? unknownKeysMessage(issue.keys, schema && schemaAt(schema, issue.path))
          : issue.message;
      return `${file}: ${formatPath(issue.path)}: ${shown}: ${message}`;
    })
    .join('\n');
}

export function parseScenario(text: string, file: string): Scenario {
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new InputError(
      `${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success)
    throw new InputError(describeZodError(file, parsed.error, raw, scenarioSchema));
  if (parsed.data.drugLibrary) {
    const lib = drugLibrarySchema.safeParse(drugLibraryOfRaw(parsed.data));
    if (!lib.success)
      // No schema: this one's keys are the firmware's, not the scenario's.
      throw new InputError(describeZodError(`${file} (drugLibrary)`, lib.error, raw));
  }
  return parsed.data;
}

function drugLibraryOfRaw(s: Scenario): unknown {
  return {
    name: s.drugLibrary!.name,
    drugs: s.drugLibrary!.drugs.map((d) => ({
      drug: d.drug,
      concentrationUgPerMlMax: d.maxConcentration,
      dailyDoseNgSoftMax: d.dailySoftMax,
      dailyDoseNgHardMax: d.dailyHardMax,
      bolusDoseNgSoftMax: d.bolusSoftMax,
      bolusDoseNgHardMax: d.bolusHardMax,
    })),
  };
}

export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(
      `${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return parseScenario(text, file);
}

export function scenarioJsonSchema(): unknown {
  // Draft-07: what the ajv CLI and most editors' YAML support load by default.
  return z.toJSONSchema(scenarioSchema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-7',
    // A quantity's pattern says what it takes; the string-or-number union zod reads it with would
    // only add a branch Ajv's strict mode warns about (a number is refused anyway: it has no unit).
    override: ({ jsonSchema }) => {
      if (jsonSchema.pattern !== undefined) delete jsonSchema.anyOf;
    },
  });
}

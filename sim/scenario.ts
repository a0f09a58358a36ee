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
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  concentrationUgPerMlMax,
  flexStepsMax,
  mixtureDrugsMax,
  patientBolusesPer24hMax,
} from '../src/constants.js';
import { mixingZoneSegmentCountMax } from '../src/dosing/priming.js';
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
import { InputError, readUserFile } from './inputError.js';

/**
 * Where a field's examples wait for the JSON Schema: zod drops `examples` of a field it transforms
 * (they would be the output's), and these are the input's, as the user writes them.
 */
const inputExamples = 'inputExamples';
/** What a type takes (a quantity's units), for `field` to add to the field's description. */
const typeHint = 'typeHint';

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
    description: `${hint[0]!.toUpperCase()}${hint.slice(1)}.`,
    [typeHint]: `${hint[0]!.toUpperCase()}${hint.slice(1)}.`,
    [inputExamples]: [example],
    type: 'string',
    pattern,
  });
}

/**
 * A scenario field as an editor and docs/scenarios.md show it: `text` says what it is in the
 * user's words (and its limit), then what its type takes (a quantity's units); `example` replaces
 * the type's. With `defaultValue`, the field may be left out: the default, in the user's units,
 * goes through the same parser and is said in the description.
 */
function field<T extends z.ZodType>(schema: T, text: string, example?: z.input<T>): T {
  const takes = schema.meta()?.[typeHint] as string | undefined;
  return schema.meta({
    description: takes === undefined ? text : `${text} ${takes}`,
    ...(example === undefined ? {} : { [inputExamples]: [example] }),
  });
}
function defaulted<T extends z.ZodType>(
  schema: T,
  text: string,
  defaultValue: z.input<T> & ({} | null),
  example?: z.input<T>,
) {
  const shown = typeof defaultValue === 'string' ? defaultValue : JSON.stringify(defaultValue);
  return field(schema, `${text} Default: ${shown}.`, example ?? defaultValue).prefault(
    defaultValue,
  );
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
/** A duration the loader refuses at zero: the schema's pattern refuses "0 ms" too. */
const nonZeroDuration = quantity(
  u.parseDurationMs,
  '10 min',
  u.nonZeroDurationPattern,
  durationHint,
);
/**
 * Said of a field whose upper limit no pattern can state (a sum such as "1d 2h" has no digit
 * count to bound): an editor does not flag it, `itpump validate` does.
 */
const limitNotInSchema =
  'The JSON Schema checks only the form of this field; its limits are checked by `itpump validate` and `run`.';
const time = quantity(
  u.parseTimeMs,
  '2d 08:00',
  u.timePattern,
  `time since the run's start: "2d 08:00" is day 2 at 08:00, day 0 being the first; or a duration, ${durationHint}`,
);
/** A flex step's time of day on the pump's clock. */
export const timeOfDayPattern = String.raw`^([01][0-9]|2[0-3]):[0-5][0-9]$`;
const timeOfDay = z
  .string()
  .regex(new RegExp(timeOfDayPattern), 'a time of day "HH:MM"')
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
const ppmPattern = String.raw`^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*(%|ppm)?\s*$`;
const ppm = z
  .union([z.number(), z.string().meta({ pattern: ppmPattern })])
  .meta({ title: 'percentage' })
  .transform((v, ctx) => {
    const m = new RegExp(ppmPattern).exec(String(v));
    if (!m) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a percentage such as "-2.4 %"` });
      return z.NEVER;
    }
    return Math.round(Number(m[1]) * (m[2] === 'ppm' ? 1 : 10_000));
  });

/** A catheter length in whole cm: 100 or "100 cm". */
const lengthCmPattern = String.raw`^\s*([0-9]+)\s*(cm)?\s*$`;
const lengthCm = z
  .union([z.number(), z.string().meta({ pattern: lengthCmPattern })])
  .meta({ title: 'length in cm' })
  .transform((v, ctx) => {
    const m = new RegExp(lengthCmPattern).exec(String(v));
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
const factorPattern = String.raw`^\s*(?:×|x)?\s*([0-9]+(?:\.[0-9]+)?)\s*(×|x|%)?\s*$`;
const factorPpm = z
  .union([z.number(), z.string().meta({ pattern: factorPattern })])
  .meta({ title: 'factor' })
  .transform((v, ctx) => {
    const m = new RegExp(factorPattern).exec(String(v));
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
const pocketFill = z
  .string()
  .meta({ title: 'share or volume' })
  .transform((v, ctx) => {
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

const drugName = field(
  z.string(),
  `The drug, by its name in the drug library (the default library's: ${defaultDrugLibrary.drugs.map((d) => d.drug).join(', ')}).`,
  'morphine',
);
const mixture = field(
  z
    .array(
      field(
        z
          .object({
            drug: drugName,
            concentration: field(
              concentration,
              'How much of the drug each mL of the solution holds: a whole number of µg/mL, from 1 µg/mL to the drug library maximum.',
            ),
          })
          .strict(),
        'One drug of the mixture and its concentration.',
      ),
    )
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
    }),
  `The drugs in the reservoir's solution, 1 to ${mixtureDrugsMax}, each once. The first is the prescription's drug: the doses of the others follow from their concentrations.`,
  [{ drug: 'morphine', concentration: '2 mg/mL' }],
);
const prescriptionText =
  "The basal infusion: `continuous` (one daily dose, delivered evenly) or `flex` (a daily dose for each part of the day). Doses are of the mixture's first drug; the drug library's limits apply to every drug.";
const prescription = field(
  z.discriminatedUnion(
    'mode',
    [
      field(
        z
          .object({
            mode: field(z.literal('continuous'), 'One daily dose, all day.', 'continuous'),
            dose: field(
              dailyDose,
              "The daily dose of the mixture's first drug, within its drug library limits.",
            ),
          })
          .strict(),
        'One daily dose, delivered evenly.',
      ),
      field(
        z
          .object({
            mode: field(z.literal('flex'), 'A daily dose for each part of the day.', 'flex'),
            steps: field(
              z
                .array(
                  field(
                    z
                      .object({
                        at: field(
                          timeOfDay,
                          'The time of day, on the pump\'s clock, the step starts ("HH:MM"; the first step starts at 00:00).',
                          '08:00',
                        ),
                        dose: field(
                          dailyDose,
                          "The rate from this time of day on, as a daily dose of the mixture's first drug.",
                        ),
                      })
                      .strict(),
                    'One step: from a time of day, a rate given as a daily dose.',
                  ),
                )
                .min(1)
                .max(flexStepsMax),
              `The steps, 1 to ${flexStepsMax}, in order of their time of day, the first at 00:00; each runs until the next (the last until midnight).`,
              [
                { at: '00:00', dose: '0.8 mg/day' },
                { at: '08:00', dose: '1.2 mg/day' },
              ],
            ),
          })
          .strict(),
        'A daily dose for each part of the day.',
      ),
    ],
    { error: '`mode` is continuous (one daily dose) or flex (steps by time of day)' },
  ),
  prescriptionText,
  { mode: 'continuous', dose: '1 mg/day' },
);
const ptm = field(
  z
    .object({
      bolusDose: field(
        mass,
        "The dose of the mixture's first drug one granted press gives, within the drug library's bolus limits.",
        '0.1 mg',
      ),
      bolusDuration: field(
        duration,
        'How long each patient bolus takes to deliver: 1 min to 24 h. ' + limitNotInSchema,
        '10 min',
      ),
      lockout: field(
        duration,
        'The least time from the start of one granted bolus to the start of the next: at least the bolus duration, at most 24 h. ' +
          limitNotInSchema,
        '3 h',
      ),
      // The range is the pump's to check (it refuses with its limit); here only a whole number.
      // The meta states the pump's range for editors only (the JSON Schema).
      maxPer24h: z
        .number({ error: 'a whole number of boluses' })
        .int({ error: 'a whole number of boluses' })
        .meta({
          description: `Patient boluses allowed in any 24 hours: a whole number from 1 to ${patientBolusesPer24hMax}.`,
          examples: [4],
          minimum: 1,
          maximum: patientBolusesPer24hMax,
        }),
    })
    .strict(),
  "The patient's handheld (PTM: patient therapy manager): a press asks for a bolus, granted only outside the lockout, under the count in 24 hours and within the dose limits. Left out: the patient has no boluses.",
);

const confirmText = (what: string) =>
  `true: the clinician confirms ${what} above a soft limit of the drug library (a hard limit refuses it anyway).`;
const refill = z
  .object({
    withdrawn: defaulted(
      z.union([z.literal('auto'), volume]),
      "The volume drawn out of the reservoir before the new drug goes in; `auto`: what the reservoir truly holds. A volume far from the pump's estimate is flagged (`pump.refillDiscrepancyPercentMax`).",
      'auto',
      '4.5 mL',
    ),
    added: field(
      volume,
      "The volume injected into the reservoir, up to the pump's capacity (more is refused as an overfill).",
      '20 mL',
    ),
    mixture: field(
      mixture,
      "The new solution's drugs and concentrations. Left out: the same as before. A new drug or a dose-rate increase above `pump.doseRateIncreaseLimit` needs `confirm`.",
    ).optional(),
    confirm: defaulted(z.boolean(), confirmText('a new mixture or dose rate'), false),
    bridge: field(
      z.boolean(),
      "With a new mixture: true keeps the old dose rate until the old mixture has left the catheter; false starts the new prescription at once. Left out: true (the pump's default).",
      false,
    ).optional(),
    pocketFill: field(
      pocketFill,
      'A fault to simulate: part of the injection goes under the skin, not into the reservoir, as a share ("100 %") or a volume ("5 mL"). The pump cannot sense it.',
      '100 %',
    ).optional(),
  })
  .strict();
const primingBolus = z
  .object({
    rate: field(rate, 'How fast the path is primed. Left out: `pump.primingRate`.').optional(),
    margin: field(
      volume,
      "Volume pushed beyond the drug path's own volume, so the drug surely reaches the tip. Left out: none.",
      '10 uL',
    ).optional(),
    confirm: defaulted(z.boolean(), confirmText('a priming dose'), false),
  })
  .strict();
const program = z
  .object({
    prescription: field(prescription, `The new prescription. ${prescriptionText}`).optional(),
    ptm: field(
      ptm.nullable(),
      'The new PTM settings; null: no patient boluses from now on. Left out: unchanged.',
      { bolusDose: '0.1 mg', bolusDuration: '10 min', lockout: '3 h', maxPer24h: 4 },
    ).optional(),
    confirm: defaulted(z.boolean(), confirmText('a prescription or bolus'), false),
  })
  .strict();
const noArguments = (text: string) =>
  field(z.object({}).strict(), `${text} Takes no keys: {}.`, {});

/**
 * The timeline's actions. Each description says what the action does; docs/scenarios.md shows
 * each with its keys and an example (the `examples` here).
 */
const timelineEventKeys = z
  .object({
    at: field(time, "When the event happens, counted from the run's start (not a time of day)."),
    press: noArguments(
      'The patient presses the PTM button: a bolus is granted or denied (with its reason).',
    ).optional(),
    program: field(
      program,
      'The clinician programs a new prescription, new PTM settings, or both; checked against the drug library.',
      { prescription: { mode: 'continuous', dose: '1.5 mg/day' }, confirm: true },
    ).optional(),
    refill: field(
      refill,
      'The clinician refills the reservoir: draws out what is left and injects the new volume, with the same or a new mixture.',
      { added: '20 mL', mixture: [{ drug: 'morphine', concentration: '4 mg/mL' }], confirm: true },
    ).optional(),
    clinicianBolus: field(
      z
        .object({
          dose: field(
            mass,
            "The dose of the mixture's first drug, within the drug library's bolus limits.",
            '0.2 mg',
          ),
          duration: field(
            duration,
            'How long the bolus takes to deliver: 1 min to 24 h. ' + limitNotInSchema,
            '30 min',
          ),
          confirm: defaulted(z.boolean(), confirmText('a bolus'), false),
        })
        .strict(),
      'The clinician gives a bolus; it restarts the patient lockout.',
      { dose: '0.2 mg', duration: '30 min' },
    ).optional(),
    primingBolus: field(
      primingBolus,
      'The clinician primes the drug path (after implant or a catheter revision): the pump pushes its volume, plus a margin, so drug reaches the tip.',
      { margin: '10 uL' },
    ).optional(),
    stop: noArguments(
      'The clinician stops the infusion (e.g. for an MRI); presses are denied until `resume`.',
    ).optional(),
    resume: noArguments(
      'The clinician resumes a stopped infusion; the stopped time is not caught up.',
    ).optional(),
    clearAlarms: noArguments(
      'The clinician clears the latched alarms whose cause has gone.',
    ).optional(),
    setClock: field(
      z
        .object({
          shift: field(duration, "Sets the pump's clock forward by this much.", '1 h').optional(),
          back: field(duration, "Sets the pump's clock back by this much.", '1 h').optional(),
          to: field(
            clockTime('2025-06-02T08:00:00Z'),
            "Sets the pump's clock to this date and time (ISO 8601 with its zone).",
            '2025-06-02T08:00:00Z',
          ).optional(),
        })
        .strict()
        .refine((c) => [c.shift, c.back, c.to].filter((v) => v !== undefined).length === 1, {
          message:
            'needs exactly one of `shift` (forward, e.g. 1h), `back` (e.g. 30min) or `to` (a date and time, e.g. 2025-06-02T08:00:00Z)',
        })
        .meta({ minProperties: 1, maxProperties: 1 }),
      "The pump's real-time clock is changed (a programmer setting it, a time zone): exactly one of `shift`, `back` or `to`. A flex schedule follows the new clock; lockouts and 24-hour counts do not move.",
      { back: '1 h' },
    ).optional(),
    motorStall: field(
      z
        .object({
          for: field(duration, 'How long the motor stays jammed.', '2 h'),
        })
        .strict(),
      'A fault to simulate: the motor jams. The pump retries (`pump.stallRetry`) and raises the motorStall alarm after `pump.stallAttemptsMax` attempts.',
      { for: '2 h' },
    ).optional(),
    strokeVolumeError: field(
      ppm,
      'A fault to simulate: from now on every stroke moves this much more (or, negative, less) than the pump believes, as a percentage ("-2.4 %") or in ppm. The pump cannot sense it.',
      '-2.4 %',
    ).optional(),
    reset: field(
      z
        .object({
          duringWrite: field(
            z.number().int().min(1),
            'Cut the power during the Nth memory write from now (1: the next) instead of at once: a torn write.',
            3,
          ).optional(),
          atByte: field(
            z.number().int().min(0),
            'With `duringWrite`: the byte of that write at which the power goes. Default: 0.',
            40,
          ).optional(),
        })
        .strict(),
      'A fault to simulate: the controller resets (watchdog, brown-out) and restores what it saved. {} resets at once.',
      {},
    ).optional(),
    corruptMemory: field(
      z
        .object({
          record: field(
            z.enum(['prescription', 'ledger', 'reservoir', 'alarms', 'clock']),
            'The saved record to damage.',
            'prescription',
          ),
        })
        .strict(),
      'A fault to simulate: a saved record is damaged in memory (bit rot); the pump finds it at its next reset.',
      { record: 'prescription' },
    ).optional(),
    batteryLevel: field(
      z.enum(['eri', 'eos']),
      'A fault to simulate: the cell drains at once to the elective-replacement level (`eri`: the pump warns) or to end of service (`eos`: infusion stops).',
      'eri',
    ).optional(),
  })
  .strict();
/** The timeline's actions, from the schema itself (the messages below name them). */
export const timelineActions = Object.keys(timelineEventKeys.shape).filter((k) => k !== 'at');
/**
 * One timeline event, checked as the scenario loader checks it: `itpump live` reads the page's
 * commands with it, so they meet the same limits and messages as a timeline's.
 */
export const timelineEventSchema = timelineEventKeys
  .refine(
    (e) =>
      Object.keys(e).filter((k) => k !== 'at' && e[k as keyof typeof e] !== undefined).length === 1,
    {
      message: `each timeline event needs \`at\` and exactly one action (${timelineActions.join(', ')})`,
    },
  )
  // The same rule for editors (the JSON Schema): `at` plus one key, and no other keys allowed.
  .meta({
    description: `One event: \`at\` (time since the run's start, e.g. 1d 08:00) and exactly one action: ${timelineActions.join(', ')}.`,
    minProperties: 2,
    maxProperties: 2,
  });

const libraryEntry = field(
  z
    .object({
      drug: field(z.string(), "The drug's name, as mixtures name it.", 'morphine'),
      maxConcentration: field(
        concentration,
        'The highest concentration the pump accepts.',
        '25 mg/mL',
      ),
      dailySoftMax: field(dailyDose, 'A daily dose above this needs `confirm`.', '10 mg/day'),
      dailyHardMax: field(
        dailyDose,
        'A daily dose above this is refused, confirmed or not (at least the soft maximum).',
        '20 mg/day',
      ),
      bolusSoftMax: field(mass, 'A bolus above this needs `confirm`.', '1 mg'),
      bolusHardMax: field(
        mass,
        'A bolus above this is refused, confirmed or not (at least the soft maximum).',
        '2 mg',
      ),
    })
    .strict(),
  "One drug's limits.",
);

export const scenarioSchema = z
  .object({
    name: field(
      z.string().min(1),
      "The scenario's name: outputs go to out/<name>/ unless --out says otherwise.",
      'my-case',
    ),
    description: field(
      z.string(),
      'What the scenario shows, in a sentence.',
      'A refill with a new drug, bridged.',
    ).optional(),
    seed: defaulted(
      z
        .number({ error: 'a whole number from 0 to 2147483647' })
        .int({ error: 'a whole number from 0 to 2147483647' })
        .min(0, { error: 'a whole number from 0 to 2147483647' })
        .max(2 ** 31 - 1, { error: 'a whole number from 0 to 2147483647' }),
      'The number every random choice of the run comes from (patient demand, motor noise): the same seed and scenario replay the same run. A whole number from 0 to 2147483647; `--seed` overrides it.',
      1,
    ),
    duration: field(
      nonZeroDuration.refine((d) => d > 0 && d <= 10 * 365 * u.DAY_MS, 'between 1 ms and 10 years'),
      'How long the simulated run lasts, in virtual time: from 1 ms to 10 years. The JSON Schema refuses a zero duration; the 10-year limit is checked by `itpump validate` and `run`.',
      '30d',
    ),
    startRtc: defaulted(
      clockTime('2025-01-06T08:00:00Z'),
      "The pump's clock at the run's start (ISO 8601 date and time with its zone). The flex schedule reads this clock.",
      '2025-01-06T00:00:00Z',
    ),
    pump: field(
      z
        .object({
          model: defaulted(
            z.string(),
            "The pump model's name, for the records (1 to 32 characters).",
            '20 mL',
          ),
          reservoirCapacity: defaulted(
            volume,
            'The volume the reservoir holds: up to 40 mL.',
            '20 mL',
          ),
          strokeVolume: defaulted(
            volume,
            'The volume one motor stroke moves: from 1 nL to 100 µL.',
            '0.5 uL',
          ),
          lowReservoir: defaulted(
            volume,
            'The reservoir estimate at which the low-reservoir alarm sounds: below the capacity.',
            '2 mL',
          ),
          emptyReservoir: defaulted(
            volume,
            'The reservoir estimate at which the critical empty-reservoir alarm sounds (safe minimum rate, presses denied): below `lowReservoir`.',
            '0.5 mL',
          ),
          safeMinimumRate: defaulted(
            rate,
            'The rate the pump falls back to under a critical alarm: below one stroke a second.',
            '0.048 mL/day',
          ),
          stallRetry: defaulted(
            duration,
            'How long the pump waits before retrying a stalled motor: 1 s to 24 h. ' +
              limitNotInSchema,
            '10 min',
          ),
          stallAttemptsMax: defaulted(
            z.number().int().meta({ minimum: 1, maximum: 100 }),
            'Stalled attempts in a row before the critical motorStall alarm: 1 to 100.',
            3,
          ),
          refillDiscrepancyPercentMax: defaulted(
            z.number().int().meta({ minimum: 0, maximum: 100 }),
            "A refill's withdrawn volume further than this share (in %) from the pump's estimate is flagged (placeholder): 0 to 100.",
            20,
          ),
          tubingVolume: defaulted(
            volume,
            'The volume of the tubing inside the pump, reservoir outlet to catheter port (UNCONFIRMED for every pump). With the catheter, at most 10 mL.',
            '0 mL',
          ),
          doseRateIncreaseLimit: defaulted(
            factorPpm.nullable(),
            'A refill raising any drug\'s dose rate by more than this factor (1.5, "×1.5" or "150 %", from ×1 to ×1000; a placeholder) needs `confirm`; null: no such check.',
            '×1.5',
          ),
          primingRate: field(
            rate,
            'The rate of a priming bolus that names none. Left out: 12 mL/day (placeholder).',
            '12 mL/day',
          ).optional(),
        })
        .strict(),
      'The pump model and its alarm settings. Every key has a default.',
    ).prefault({}),
    catheter: field(
      z
        .object({
          length: defaulted(
            lengthCm,
            'The implanted catheter\'s length, in whole cm (100 or "100 cm"), up to 1000 cm (placeholder: Prometra\'s 110 cm less a 10 cm trim, UNCONFIRMED).',
            '100 cm',
          ),
          volumePerCm: defaulted(
            volume,
            "The catheter's volume per cm of length (Prometra: 2.6 µL/cm, IFU p.33), up to 100 µL.",
            '2.6 uL',
          ),
          recorded: defaulted(
            z.boolean(),
            'Whether the clinician recorded the catheter in the pump; false: no bridge at a drug change, no priming bolus.',
            true,
          ),
          contents: defaulted(
            z.enum(['drug', 'saline']),
            'What the drug path holds at the start: `drug` (the initial mixture, primed before the run) or `saline` (just implanted).',
            'drug',
          ),
          mixingZone: defaulted(
            ppm,
            'How far the drug and what it pushes mix in the catheter, as a share of its volume ("20 %"; 0 % is a clean plug; placeholder).',
            '20 %',
          ),
          mixingZoneSegments: defaulted(
            z
              .number()
              .int({ error: `an even whole number from 2 to ${mixingZoneSegmentCountMax}` })
              .min(2, { error: `an even whole number from 2 to ${mixingZoneSegmentCountMax}` })
              .max(mixingZoneSegmentCountMax, {
                error: `an even whole number from 2 to ${mixingZoneSegmentCountMax}`,
              })
              .multipleOf(2, { error: 'even, so a cut falls on the interface of the two fluids' }),
            `How many pieces the simulator cuts the mixing zone into (more: smoother, slower): an even whole number from 2 to ${mixingZoneSegmentCountMax}.`,
            8,
          ),
        })
        .strict(),
      'The implanted catheter the simulator models and, unless `recorded: false`, what the pump knows of it. Every key has a default.',
    ).prefault({}),
    drugLibrary: field(
      z
        .object({
          name: field(
            z.string(),
            "The library's name, for the records (1 to 64 characters).",
            'my-library',
          ),
          drugs: field(z.array(libraryEntry).min(1), 'The drugs, 1 to 64, each once.', [
            {
              drug: 'morphine',
              maxConcentration: '25 mg/mL',
              dailySoftMax: '10 mg/day',
              dailyHardMax: '20 mg/day',
              bolusSoftMax: '1 mg',
              bolusHardMax: '2 mg',
            },
          ]),
        })
        .strict(),
      "The drug limits the pump enforces (docs/drug-library.md). Left out: the pump's default library.",
    ).optional(),
    motor: field(
      z
        .object({
          strokeVolumeError: defaulted(
            ppm,
            'A fault to simulate: every stroke moves this much more (or, negative, less) than the pump believes, as a percentage or in ppm.',
            '0 %',
            '-2.4 %',
          ),
          strokeVolumeNoise: defaulted(
            ppm,
            "A fault to simulate: the random spread of each batch's stroke volume (one standard deviation), as a percentage or in ppm.",
            '0 %',
            '1 %',
          ),
        })
        .strict(),
      "The simulated motor's faults, which the pump cannot sense. Every key has a default.",
    ).prefault({}),
    initialFill: field(
      z
        .object({
          volume: field(
            volume,
            "The volume in the reservoir at the start, up to the pump's capacity.",
            '20 mL',
          ),
          mixture,
        })
        .strict(),
      'What the reservoir holds at the start.',
    ),
    prescription,
    ptm: ptm.optional(),
    confirm: defaulted(z.boolean(), confirmText('the initial prescription or PTM settings'), false),
    demand: field(
      z
        .object({
          episodesPerDay: field(
            z.number().min(0).max(24),
            'Breakthrough-pain episodes a day on average (0 to 24), at random times from the seed.',
            1.5,
          ),
          pressesPerEpisode: field(
            z
              .tuple([z.number().int().min(1), z.number().int().min(1)])
              .refine(([least, most]) => least <= most, {
                message: 'the fewest presses an episode has come first: [fewest, most]',
              }),
            'The presses of one episode: [fewest, most], drawn evenly between them.',
            [1, 3],
          ),
          pressSpacing: defaulted(duration, 'The time between presses of one episode.', '15 min'),
        })
        .strict(),
      "A patient pressing at random, from the seed, besides the timeline's presses. Left out: only the timeline's presses.",
    ).optional(),
    timeline: defaulted(
      z.array(timelineEventSchema),
      'What happens during the run, in any order: each event an `at` and one action.',
      [],
      [{ at: '2d 08:10', press: {} }],
    ),
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
 * The object an unknown key sits in, as written: whole when it is short (a timeline event), else
 * only its unknown keys (at the top level the object is the whole file).
 */
function unknownKeysShown(object: unknown, keys: readonly string[]): string {
  const whole = shownAsWritten(object);
  if (whole.length <= 80 || typeof object !== 'object' || object === null) return whole;
  const record = object as Record<string, unknown>;
  return shownAsWritten(Object.fromEntries(keys.map((k) => [k, record[k]])));
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
      const shown =
        value === undefined
          ? 'missing'
          : issue.code === 'unrecognized_keys'
            ? unknownKeysShown(value, issue.keys)
            : shownAsWritten(value);
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
  return parseScenario(readUserFile(file), file);
}

export function scenarioJsonSchema(): unknown {
  // Draft-07: what the ajv CLI and most editors' YAML support load by default.
  const schema = z.toJSONSchema(scenarioSchema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-7',
    // A quantity's pattern says what it takes; the string-or-number union zod reads it with would
    // only add a branch Ajv's strict mode warns about (a number is refused anyway: it has no unit).
    override: ({ jsonSchema }) => {
      if (jsonSchema.pattern !== undefined) delete jsonSchema.anyOf;
      const examples = (jsonSchema as Record<string, unknown>)[inputExamples];
      if (examples !== undefined) jsonSchema.examples = examples as unknown[];
      delete (jsonSchema as Record<string, unknown>)[inputExamples];
      delete (jsonSchema as Record<string, unknown>)[typeHint];
    },
  });
  return oneTypePerBranch(schema);
}

/** `type: [number, string]` is draft-07, but Ajv's strict mode asks for one type per branch. */
function oneTypePerBranch(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(oneTypePerBranch);
  if (typeof node !== 'object' || node === null) return node;
  const { type, ...rest } = node as Record<string, unknown>;
  const values = new Set(['examples', 'default', 'const', 'enum']); // data, not schemas
  const out = Object.fromEntries(
    Object.entries(rest).map(([k, v]) => [k, values.has(k) ? v : oneTypePerBranch(v)]),
  );
  if (Array.isArray(type) && out.anyOf === undefined)
    return { ...out, anyOf: type.map((t: unknown) => ({ type: t })) };
  return type === undefined ? out : { ...out, type };
}

/**
 * The run report: `report.html` (self-contained, opens offline) plus every chart as an `.svg` file.
 *
 * Built from `RunData` (runData.ts), which comes either from a run in memory (`writeRunReport`,
 * called by `itpump run --report`) or from an earlier run's files (`itpump report DIR`); both give
 * byte-identical pages. The page has no timestamp and no wall time, so the same scenario and seed
 * give the same report on any machine.
 *
 * Sections: reservoir (estimate, truth, refills and their discrepancy flags, alarm thresholds);
 * dose per drug (cumulative and 24-h rolling true dose against the drug library's soft and hard
 * daily maxima), both with markers for boluses, refills, alarms, clock changes and stalls; the
 * timeline (therapy state and a lane of events, runEvents.ts); drug changes (time to the catheter
 * tip, under- and overdose flags); patient presses by outcome and reason; alarms; refused commands
 * with their reasons; battery; flow accuracy (trumpet curve of the simulated motor's true basal
 * delivery, runAccuracy.ts); the settings that replay the run. A section with nothing to show says
 * so in a sentence and draws no chart.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { recordCharts } from './chartManifest.js';
import { join } from 'node:path';
import { alarmCatalogue } from '../../src/alarms.js';
import {
  PG_PER_NG,
  formatConcentration,
  formatDoseNg,
  formatDurationMs,
  formatMl,
  formatTimeMs,
} from '../../src/units.js';
import type { Mixture } from '../../src/therapy/schema.js';
import { maxRollingWindowSum } from '../analysis/rolling.js';
import { formatRateMlPerDay, trumpetTable } from '../analysis/trumpet.js';
import type { RunResult } from '../runner.js';
import { formatSpanMs, transientTolerancePercent, type DrugChangeDose } from '../summary.js';
import {
  alarmChartSvg,
  batteryChartSvg,
  doseChartSvg,
  pressChartSvg,
  reservoirChartSvg,
  therapyStateLabels,
  timelineChartSvg,
  trumpetChartSvg,
} from './charts.js';
import {
  buildReportHtml,
  type ReportDocument,
  type ReportFigure,
  type ReportSection,
} from './html.js';
import { runTrumpet } from './runAccuracy.js';
import { runDataOf, type RunData } from './runData.js';
import { chartMarkersOf, refillsOf, therapyIntervalsOf, timelineEventsOf } from './runEvents.js';
import type { AlarmRecord, PressRecord } from './types.js';

const DAY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** A chart of the report: its file name and SVG. */
interface Chart {
  file: string;
  svg: string;
}

/** pg → ng for the charts' integer dose unit; rounding keeps a cumulative series non-decreasing. */
const ngOf = (pg: number) => Math.round(pg / PG_PER_NG);

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : 'n/a';
}

/** A refill's row: when, what was withdrawn against the estimate, what was added, and the flag. */
function refillRow(r: ReturnType<typeof refillsOf>[number]): string[] {
  const limit =
    r.discrepancyLimitPercent === undefined ? '' : ` (beyond ${r.discrepancyLimitPercent} %)`;
  return [
    formatTimeMs(r.atMs),
    formatMl(r.withdrawnNl),
    formatMl(r.estimateBeforeNl),
    formatMl(r.discrepancyNl),
    formatMl(r.addedNl),
    r.discrepancyFlagged ? `FLAGGED${limit}` : 'within the limit',
  ];
}

/** What the refills say: how many, and each one whose withdrawn volume was flagged. */
function refillParagraph(refills: ReturnType<typeof refillsOf>): string {
  if (refills.length === 0) return 'No refill after the initial fill.';
  const flagged = refills.filter((r) => r.discrepancyFlagged);
  const count = `${refills.length} refill${refills.length === 1 ? '' : 's'} after the initial fill.`;
  if (flagged.length === 0)
    return `${count} No refill discrepancy was flagged: each withdrawn volume was within the limit of the pump's estimate.`;
  return (
    `${count} Refill discrepancy flagged ${flagged.length === 1 ? 'once' : `${flagged.length} times`}: ` +
    flagged
      .map(
        (r) =>
          `at ${formatTimeMs(r.atMs)} ${formatMl(r.withdrawnNl)} was withdrawn where the pump estimated ${formatMl(r.estimateBeforeNl)} (${formatMl(r.discrepancyNl)} apart${r.discrepancyLimitPercent === undefined ? '' : `, beyond ${r.discrepancyLimitPercent} %`})`,
      )
      .join('; ') +
    '. The estimate may have drifted from the truth (motor wear), or the withdrawal was mismeasured.'
  );
}

async function reservoirSection(data: RunData, charts: Chart[]): Promise<ReportSection> {
  const refills = refillsOf(data.events);
  const svg = await reservoirChartSvg({
    estimate: data.trace.map((r) => ({ timeMs: r.timeMs, volumeNl: r.reservoirEstimateNl })),
    truth: data.trace.map((r) => ({ timeMs: r.timeMs, volumeNl: r.reservoirTrueNl })),
    refillTimesMs: refills.map((e) => e.atMs),
    markers: chartMarkersOf(data.events).filter((m) => m.kind !== 'refill'),
    lowReservoirNl: data.settings.pump.lowReservoirNl,
    emptyNl: data.settings.pump.emptyReservoirNl,
  });
  charts.push({ file: 'reservoir.svg', svg });
  const r = data.summary.reservoir;
  return {
    heading: 'Reservoir',
    paragraphs: [
      `The firmware's estimate falls with every stroke it commands; the true volume falls with what the simulated motor really moved. ` +
        `At the end: estimate ${formatMl(r.estimateNl)}, true ${formatMl(r.trueNl)}` +
        (r.ranDryAtMs === null
          ? '.'
          : `; the true reservoir ran dry at ${formatTimeMs(r.ranDryAtMs)}.`),
      refillParagraph(refills),
    ],
    tables:
      refills.length === 0
        ? []
        : [
            {
              caption: 'Refills',
              columns: [
                'Time',
                'Withdrawn',
                'Estimate before',
                'Discrepancy',
                'Added',
                'Discrepancy flag',
              ],
              rows: refills.map(refillRow),
            },
          ],
    figures: [
      {
        svg,
        caption:
          'Reservoir volume: firmware estimate and simulated truth, low-reservoir and empty thresholds; refills, boluses, alarms raised, clock changes and motor stalls marked.',
      },
    ],
  };
}

/** One drug's row of the dose table: programmed, delivered, the highest 24 h against its maxima. */
function doseRow(
  drug: RunData['summary']['drugs'][number],
  highest: { timeMs: number; value: number } | undefined,
  limits: RunData['drugLibrary']['drugs'][number] | undefined,
): (string | number)[] {
  const highestNg = highest?.value ?? 0;
  return [
    drug.drug,
    formatDoseNg(drug.programmedNg),
    formatDoseNg(drug.deliveredNg),
    formatDoseNg(drug.trueDeliveredNg),
    formatDoseNg(highestNg) +
      (highest && highestNg > 0 ? ` (${formatTimeMs(highest.timeMs)})` : ''),
    limits ? formatDoseNg(limits.dailyDoseNgSoftMax) : 'not in library',
    limits ? formatDoseNg(limits.dailyDoseNgHardMax) : 'not in library',
    limits ? percent(highestNg, limits.dailyDoseNgHardMax) : 'n/a',
  ];
}

async function doseSection(data: RunData, charts: Chart[]): Promise<ReportSection> {
  const rows: (string | number)[][] = [];
  const figures: ReportFigure[] = [];
  const paragraphs: string[] = [];
  const markers = chartMarkersOf(data.events);
  for (const drug of data.summary.drugs) {
    const limits = data.drugLibrary.drugs.find((d) => d.drug === drug.drug);
    const cumulative = data.trace.map((r) => ({
      timeMs: r.timeMs,
      doseNg: ngOf(r.trueDeliveredPg[drug.drug] ?? 0),
    }));
    const highest = maxRollingWindowSum(
      cumulative.map((s) => ({ timeMs: s.timeMs, value: s.doseNg })),
      DAY_WINDOW_MS,
    );
    rows.push(doseRow(drug, highest, limits));
    if (!limits || limits.dailyDoseNgHardMax <= 0) {
      paragraphs.push(
        `${drug.drug} is not in the drug library "${data.drugLibrary.name}": no limits to chart it against.`,
      );
      continue;
    }
    const svg = await doseChartSvg({
      drugName: drug.drug,
      cumulative,
      markers,
      hardDailyMaxNg: limits.dailyDoseNgHardMax,
      ...(limits.dailyDoseNgSoftMax > 0 ? { softDailyMaxNg: limits.dailyDoseNgSoftMax } : {}),
    });
    charts.push({ file: `dose-${drug.drug}.svg`, svg });
    figures.push({
      svg,
      caption: `${drug.drug}: cumulative true dose, and 24-h rolling dose against the daily maxima of "${data.drugLibrary.name}"; boluses, refills, alarms raised, clock changes and motor stalls marked.`,
    });
  }
  return {
    heading: 'Dose per drug',
    paragraphs: [
      'Programmed: basal plus every bolus granted. Delivered (pump): strokes counted by the firmware × nominal stroke volume. ' +
        'Delivered (true): what the simulated motor really moved. The highest 24-h dose is the true dose in any rolling 24 hours ' +
        '(step semantics over the trace samples, docs/reports.md), against the hard daily maximum.',
      ...paragraphs,
    ],
    tables: [
      {
        caption: 'Dose per drug',
        columns: [
          'Drug',
          'Programmed',
          'Delivered (pump)',
          'Delivered (true)',
          'Highest 24-h dose (true)',
          'Soft daily max',
          'Hard daily max',
          'Highest / hard max',
        ],
        rows,
      },
    ],
    figures,
  };
}

async function pressSection(data: RunData, charts: Chart[]): Promise<ReportSection> {
  const presses: PressRecord[] = [];
  for (const e of data.events) {
    if (e.type === 'pressGranted') presses.push({ timeMs: e.atMs, granted: true });
    else if (e.type === 'pressDenied')
      presses.push({ timeMs: e.atMs, granted: false, reason: e.reason });
  }
  const p = data.summary.presses;
  if (presses.length === 0)
    return { heading: 'Patient presses', paragraphs: ['The patient did not press the button.'] };
  const svg = await pressChartSvg({ presses, runEndMs: data.summary.simulatedMs });
  charts.push({ file: 'presses.svg', svg });
  const reasons = Object.entries(p.deniedByReason).filter(([, n]) => n > 0);
  return {
    heading: 'Patient presses',
    paragraphs: [
      `${p.requested} presses: ${p.granted} granted, ${p.denied} denied. Each denied press has exactly one reason, the first that applies in the controller's order of precedence.`,
    ],
    tables: [
      {
        caption: 'Presses by outcome',
        columns: ['Outcome', 'Presses', 'Share'],
        rows: [
          ['granted', p.granted, percent(p.granted, p.requested)],
          ...reasons.map(([reason, n]) => [`denied: ${reason}`, n, percent(n, p.requested)]),
        ],
      },
    ],
    figures: [
      { svg, caption: 'Patient presses on the run timeline, granted or denied by reason.' },
    ],
  };
}

async function alarmSection(data: RunData, charts: Chart[]): Promise<ReportSection> {
  const alarms: AlarmRecord[] = data.summary.alarms.map((a) => ({
    alarm: a.code,
    priority: a.priority,
    raisedAtMs: a.raisedAtMs,
    clearedAtMs: a.clearedAtMs,
  }));
  // Nothing to draw: the sentence says it, and no empty chart is written.
  if (alarms.length === 0) return { heading: 'Alarms', paragraphs: ['No alarm was raised.'] };
  const svg = await alarmChartSvg({ alarms, runEndMs: data.summary.simulatedMs });
  charts.push({ file: 'alarms.svg', svg });
  return {
    heading: 'Alarms',
    paragraphs: [
      `${alarms.length} alarm${alarms.length === 1 ? '' : 's'} raised. Alarms are latched until a clinician clears them.`,
    ],
    tables: [
      {
        caption: 'Alarms raised',
        columns: ['Alarm', 'Priority', 'Raised', 'Cleared', 'Meaning'],
        rows: data.summary.alarms.map((a) => [
          a.code,
          a.priority,
          formatTimeMs(a.raisedAtMs),
          a.clearedAtMs === null ? 'still active' : formatTimeMs(a.clearedAtMs),
          alarmCatalogue[a.code].description,
        ]),
      },
    ],
    figures: [{ svg, caption: 'Alarms from raised to cleared, by priority.' }],
  };
}

async function timelineSection(data: RunData, charts: Chart[]): Promise<ReportSection> {
  const runEndMs = data.summary.simulatedMs;
  const events = timelineEventsOf(data.events, data.summary.drugPath);
  const therapy = therapyIntervalsOf(data.events, runEndMs);
  const svg = await timelineChartSvg({ events, therapy, runEndMs });
  charts.push({ file: 'timeline.svg', svg });
  const rows = therapyStateLabels.flatMap(({ state, label }) => {
    const spells = therapy.filter((t) => t.state === state);
    if (spells.length === 0) return [];
    const ms = spells.reduce((sum, t) => sum + t.toMs - t.fromMs, 0);
    return [
      [
        label,
        formatSpanMs(ms),
        percent(ms, runEndMs),
        spells.length,
        formatTimeMs(spells[0]!.fromMs),
      ],
    ];
  });
  return {
    heading: 'Timeline',
    paragraphs: [
      'The therapy state over the run, from the records the controller writes as it stops, resumes, drops to its safe minimum rate or halts; ' +
        'under it, each press, bolus, refill, drug change, alarm, clock change, motor stall and refused command, on the time axis of the charts above.',
      events.length === 0
        ? 'Nothing happened on the timeline: no press, bolus, refill, alarm, clock change, motor stall or refused command.'
        : `${events.length} event${events.length === 1 ? '' : 's'} on the timeline.`,
    ],
    tables: [
      {
        caption: 'Time in each therapy state',
        columns: ['Therapy state', 'Time', 'Share of the run', 'Spells', 'First entered'],
        rows,
      },
    ],
    figures: [
      {
        svg,
        caption:
          'Therapy state over the run, and a tick per event on a row per kind, on the same time axis as the reservoir and dose charts.',
      },
    ],
  };
}

/** A change's flag for a drug, as the table shows it. */
function changeFlagText(d: DrugChangeDose): string {
  if (d.flag === 'ok') return 'ok';
  if (d.flag === 'washout')
    return `washout (old drug clearing at or below its old rate, ${formatDoseNg(d.basalOldRateNg)} over the window)`;
  return `${d.flag.toUpperCase()} (beyond ±${transientTolerancePercent} %)`;
}

const mixtureText = (m: Mixture) =>
  m.map((d) => `${d.drug} ${formatConcentration(d.concentrationUgPerMl)}`).join(' + ');

type DrugChange = NonNullable<RunData['summary']['drugPath']>['changes'][number];

/** One drug change in a sentence: when, bridged or not, when the new mixture reached the tip, flags. */
function drugChangeSentence(c: DrugChange, firstAt: ReadonlyMap<string, number>): string {
  const arrival =
    c.newMixtureAtTipMs === null
      ? 'had not reached the catheter tip by the end of the run'
      : `reached the catheter tip at ${formatTimeMs(c.newMixtureAtTipMs)}, ${formatSpanMs(c.newMixtureAtTipMs - c.atMs)} after the change`;
  const newDrugs = c.mixture.flatMap((d) => {
    const at = firstAt.get(d.drug);
    return at !== undefined && at >= c.atMs
      ? [`${d.drug} first reached the patient at ${formatTimeMs(at)}`]
      : [];
  });
  const flagged = c.drugs.filter((d) => d.flag === 'underdose' || d.flag === 'overdose');
  return (
    `Drug change at ${formatTimeMs(c.atMs)} (${c.bridged ? 'bridged: the old dose kept at the tip' : 'no bridge'}): ${mixtureText(c.mixture)} ${arrival}.` +
    (newDrugs.length > 0 ? ` ${newDrugs.join('; ')}.` : '') +
    (flagged.length === 0
      ? ' No underdose or overdose at the tip.'
      : ` ${flagged.map((d) => `${d.drug}: ${d.flag.toUpperCase()}`).join('; ')} at the tip.`)
  );
}

/** The rows of one drug change in the tip-dose table, a drug each. */
function drugChangeRows(c: DrugChange): (string | number)[][] {
  return c.drugs.map((d) => [
    formatTimeMs(c.atMs),
    c.newMixtureAtTipMs === null ? 'not by the end' : formatSpanMs(c.newMixtureAtTipMs - c.atMs),
    d.drug,
    formatDoseNg(d.basalTipNg),
    formatDoseNg(d.basalIntendedNg),
    d.bolusIntendedNg > 0 || d.bolusTipNg > 0
      ? `${formatDoseNg(d.bolusTipNg)} of ${formatDoseNg(d.bolusIntendedNg)}`
      : 'none',
    changeFlagText(d),
  ]);
}

function drugChangeSection(data: RunData): ReportSection {
  const heading = 'Drug change';
  const path = data.summary.drugPath;
  if (path === undefined)
    return {
      heading,
      paragraphs: [
        "This run's summary has no drug path (a run without the simulated catheter, such as a rig run), so there is no drug-change analysis.",
      ],
    };
  if (path.changes.length === 0)
    return {
      heading,
      paragraphs: ['No drug change in this run: every refill kept the mixture in the reservoir.'],
    };
  const firstAt = new Map(path.drugFirstAtTip.map((d) => [d.drug, d.atMs]));
  const paragraphs = [
    `The tubing and catheter hold ${formatMl(path.deadVolumeNl)}${path.recorded ? '' : ' (not recorded in the pump, so it cannot bridge)'}: ` +
      'after a change of mixture the old one keeps reaching the catheter tip until that volume has been pushed through. ' +
      `The basal dose at the tip over that window is compared with what the programme meant, and flagged beyond ±${transientTolerancePercent} % (docs/drug-path.md).`,
  ];
  const rows: (string | number)[][] = [];
  for (const c of path.changes) {
    paragraphs.push(drugChangeSentence(c, firstAt));
    rows.push(...drugChangeRows(c));
  }
  for (const f of path.pocketFills)
    paragraphs.push(
      `POCKET FILL at ${formatTimeMs(f.atMs)}: ${formatMl(f.volumeNl)} went under the skin (${f.drugs.map((d) => `${d.drug} ${formatDoseNg(d.ng)}`).join(', ')}).`,
    );
  return {
    heading,
    paragraphs,
    tables: [
      {
        caption: 'Dose at the catheter tip while the old mixture cleared',
        columns: [
          'Change at',
          'Time to the tip',
          'Drug',
          'Basal at the tip',
          'Basal meant',
          'Boluses at the tip (of meant)',
          'Flag',
        ],
        rows,
      },
    ],
  };
}

/** The timeline command a refused field belongs to: `refill` for `timeline[2].refill.added`. */
const commandOf = (field: string) => /^timeline\[\d+\]\.([A-Za-z]+)/.exec(field)?.[1] ?? field;

function refusalSection(data: RunData): ReportSection {
  const heading = 'Refused commands';
  const refused = data.summary.refusedCommands;
  const logged = data.events.filter(
    (e): e is Extract<RunData['events'][number], { type: 'refused' }> => e.type === 'refused',
  );
  if (refused.length === 0 && logged.length === 0)
    return { heading, paragraphs: ['The pump refused no command.'] };
  const rows =
    refused.length > 0
      ? refused.map((r) => [r.at, commandOf(r.field), r.field, r.value, r.limit, r.message])
      : // A summary.json from before the scenario paths were kept: the log's own words.
        logged.map((r) => [
          formatTimeMs(r.atMs),
          r.command.replace(/^cmd\./, ''),
          r.field,
          r.value,
          r.limit,
          r.message.startsWith(`${r.field}: `) ? r.message.slice(r.field.length + 2) : r.message,
        ]);
  const outside = refused.length > 0 ? logged.length - refused.length : 0;
  return {
    heading,
    paragraphs: [
      `The pump refused ${rows.length + outside} command${rows.length + outside === 1 ? '' : 's'}, each with its reason; a refusal is the pump doing its job, and the run goes on without the command.` +
        (refused.length === 0
          ? ' Fields are named as the firmware names them: this summary.json does not give their scenario paths.'
          : '') +
        (outside > 0
          ? ` ${outside} of them ${outside === 1 ? 'was' : 'were'} not a timeline command of the scenario: see the refused records in events.jsonl.`
          : ''),
    ],
    tables: [
      {
        caption: 'Refused commands',
        columns: ['Time', 'Command', 'Field', 'Value', 'Limit', 'Reason'],
        rows,
      },
    ],
  };
}

async function batterySection(data: RunData, charts: Chart[]): Promise<ReportSection> {
  const levels = data.settings.battery;
  if (data.battery === undefined || data.battery.length === 0 || levels === undefined) {
    return {
      heading: 'Battery',
      paragraphs: [
        'This run recorded no battery series (the trace has no battery_remaining_uah column).',
      ],
    };
  }
  const eriRaised = data.events.find(
    (e) =>
      (e.type === 'alarmRaised' && e.code === 'batteryEri') ||
      (e.type === 'battery' && e.level === 'eri'),
  );
  const svg = await batteryChartSvg({
    samples: data.battery,
    eosUah: levels.eosUah,
    ...(levels.eriUah === undefined ? {} : { eriUah: levels.eriUah }),
    ...(eriRaised === undefined ? {} : { eriAtMs: eriRaised.atMs }),
  });
  charts.push({ file: 'battery.svg', svg });
  const last = data.battery[data.battery.length - 1]!;
  const mAh = (uah: number) => `${(uah / 1000).toFixed(1)} mAh`;
  return {
    heading: 'Battery',
    paragraphs: [
      `Remaining charge at the end: ${mAh(last.remainingUah)}; end of service at ${mAh(levels.eosUah)}` +
        (levels.eriUah === undefined ? '' : `, ERI at ${mAh(levels.eriUah)}`) +
        (eriRaised === undefined
          ? '; the elective replacement indicator was not raised.'
          : `; the elective replacement indicator was raised at ${formatTimeMs(eriRaised.atMs)}.`),
    ],
    figures: [
      {
        svg,
        caption:
          'Remaining battery charge with the elective replacement indicator and end of service levels.',
      },
    ],
  };
}

async function accuracySection(data: RunData, charts: Chart[]): Promise<ReportSection> {
  const trumpet = runTrumpet(data.trace, data.events, data.summary.simulatedMs);
  const heading = 'Flow accuracy (trumpet curve)';
  if (!trumpet.ok)
    return { heading, paragraphs: [`No trumpet curve for this run: ${trumpet.reason}.`] };
  const { result, period, bolusesSubtracted } = trumpet;
  const endMs = result.analysisStartMs + result.analysisDurationMs;
  const svg = await trumpetChartSvg(result, {
    title: "Trumpet curve of the simulated motor's true basal delivery",
  });
  charts.push({ file: 'trumpet.svg', svg });
  return {
    heading,
    paragraphs: [
      `The IEC 60601-2-24 trumpet method applied to the simulated motor's true delivery, in the same form as the rig's accuracy test. ` +
        `Analysed: the longest period of constant basal rate (${formatRateMlPerDay(result.programmedRateNlPerDay)}), ` +
        `from ${formatTimeMs(period.startMs)} to ${formatTimeMs(period.endMs)}, after a ${formatDurationMs(24 * 3_600_000)} warm-up: ` +
        `${formatTimeMs(result.analysisStartMs)} to ${formatTimeMs(endMs)}, Δt = ${formatDurationMs(result.sampleIntervalMs)}. ` +
        `${bolusesSubtracted} bolus${bolusesSubtracted === 1 ? '' : 'es'} in that period ${bolusesSubtracted === 1 ? 'was' : 'were'} subtracted at ` +
        `their programmed volume. Windows are hours to days because an implant moves one stroke every few minutes (docs/reports.md).`,
    ],
    preformatted: [trumpetTable(result)],
    figures: [
      {
        svg,
        caption:
          'Largest and smallest flow error over each observation window, and the mean flow error.',
      },
    ],
  };
}

/** The report page and charts for a run's data. Nothing is written. */
export async function buildRunReport(data: RunData): Promise<{ html: string; charts: Chart[] }> {
  const charts: Chart[] = [];
  const s = data.summary;
  const sections = [
    await reservoirSection(data, charts),
    await doseSection(data, charts),
    await timelineSection(data, charts),
    drugChangeSection(data),
    await pressSection(data, charts),
    await alarmSection(data, charts),
    refusalSection(data),
    await batterySection(data, charts),
    await accuracySection(data, charts),
    {
      heading: 'Settings',
      paragraphs: [
        'The seed and every derived setting: `itpump run <scenario> --seed N` replays this run.',
      ],
      preformatted: [JSON.stringify(data.settings, null, 2)],
    },
  ];
  const document: ReportDocument = {
    title: `Run report: ${s.scenario}`,
    subtitle: [
      `Seed ${s.seed}; ${formatDurationMs(s.simulatedMs)} simulated; drug library "${data.drugLibrary.name}".`,
    ],
    summary: [
      { label: 'Scenario', value: s.scenario },
      { label: 'Seed', value: s.seed },
      { label: 'Simulated time', value: formatTimeMs(s.simulatedMs) },
      { label: 'Controller events', value: s.controllerEvents },
      {
        label: 'Patient presses',
        value: `${s.presses.requested} requested, ${s.presses.granted} granted, ${s.presses.denied} denied`,
      },
      { label: 'Boluses', value: `${s.boluses.patient} patient, ${s.boluses.clinician} clinician` },
      { label: 'Refills', value: s.refills },
      { label: 'Refused commands', value: s.refusals },
      { label: 'Alarms raised', value: s.alarms.length },
      {
        label: 'Reservoir at end',
        value: `estimate ${formatMl(s.reservoir.estimateNl)}, true ${formatMl(s.reservoir.trueNl)}`,
      },
      {
        label: 'True reservoir ran dry',
        value: s.reservoir.ranDryAtMs === null ? 'no' : formatTimeMs(s.reservoir.ranDryAtMs),
      },
      { label: 'Volume not delivered (motor faults)', value: formatMl(s.missedNl) },
      {
        label: 'Final state',
        value: `therapy ${s.finalState.therapy}, motor ${s.finalState.motor}, alarms ${s.finalState.alarms}`,
      },
    ],
    sections,
  };
  return { html: buildReportHtml(document), charts };
}

/** Writes report.html and the charts' SVG files into `dir`; returns the paths written. */
export async function writeRunDataReport(data: RunData, dir: string): Promise<string[]> {
  const { html, charts } = await buildRunReport(data);
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const chart of charts) {
    const file = join(dir, chart.file);
    writeFileSync(file, chart.svg);
    written.push(file);
  }
  const page = join(dir, 'report.html');
  writeFileSync(page, html);
  written.push(page);
  recordCharts(
    dir,
    charts.map((c) => c.file),
  );
  return written;
}

/** `itpump run --report`: the report of a run in memory, written next to its outputs. */
export function writeRunReport(result: RunResult, dir: string): Promise<string[]> {
  return writeRunDataReport(runDataOf(result), dir);
}

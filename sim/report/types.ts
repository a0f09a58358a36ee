/**
 * Input types of the report charts: plain arrays and objects in the firmware's integer units.
 *
 * Whoever builds a report (the run harness, `itpump report DIR`, the fleet, the rig accuracy test)
 * maps its own records onto these shapes; the charts convert to human units (mL, mg, days) only at
 * the edge, with src/units.ts. Times are milliseconds on the run's own axis (0 = start of run).
 * Nothing here knows about the controller, XState or files.
 */

/** Options every chart accepts. */
export interface ChartOptions {
  /** Overrides the chart's default title. */
  title?: string;
  /** Plot area width in px (default 640). */
  widthPx?: number;
  /** Plot area height in px (default 220). */
  heightPx?: number;
  /** Most points drawn per line series; longer series are decimated (default 1000). */
  maxPointsPerSeries?: number;
}

export interface VolumeSample {
  timeMs: number;
  volumeNl: number;
}

export interface ReservoirChartInput {
  /** What the firmware believes is left in the reservoir. */
  estimate: readonly VolumeSample[];
  /** What the simulated reservoir really holds (absent on a rig without a level sensor). */
  truth?: readonly VolumeSample[];
  /** Times of refills, drawn as vertical markers. */
  refillTimesMs?: readonly number[];
  /** Boluses, alarms, clock changes and stalls, drawn as markers on the time axis (refills: `refillTimesMs`). */
  markers?: readonly ChartMarker[];
  /** The low-reservoir alarm threshold. */
  lowReservoirNl: number;
  /** The volume at which the reservoir counts as empty. */
  emptyNl: number;
}

export interface DoseSample {
  timeMs: number;
  /** Cumulative dose delivered since the start of the run (non-decreasing). */
  doseNg: number;
}

export interface DoseChartInput {
  drugName: string;
  cumulative: readonly DoseSample[];
  /** The hard daily maximum: the firmware must never exceed it in any rolling window. */
  hardDailyMaxNg: number;
  /** The soft daily maximum (a warning level), if the drug has one. */
  softDailyMaxNg?: number;
  /** Boluses, refills, alarms, clock changes and stalls, drawn as markers on both panels. */
  markers?: readonly ChartMarker[];
  /** Rolling window length (default 24 h). */
  rollingWindowMs?: number;
}

/** A patient press: granted, or denied for a reason (the controller's reason code). */
export type PressRecord =
  | { timeMs: number; granted: true }
  | { timeMs: number; granted: false; reason: string };

export interface PressChartInput {
  presses: readonly PressRecord[];
  /** End of the run, so the time axis covers the whole run even after the last press. */
  runEndMs: number;
  /** Above this many presses the chart draws counts per time bin instead of one tick each (default 1500). */
  maxMarks?: number;
}

export interface AlarmRecord {
  /** The alarm's name as the controller raises it ("lowReservoir", "motorStall"). */
  alarm: string;
  /** Its priority ("critical", "nonCritical"); colours follow it. */
  priority: string;
  raisedAtMs: number;
  /** null while still active at the end of the run. */
  clearedAtMs: number | null;
}

export interface AlarmChartInput {
  alarms: readonly AlarmRecord[];
  /** End of the run: alarms still active are drawn up to here. */
  runEndMs: number;
  /** Above this many bars, nearby episodes of the same alarm are joined (default 500). */
  maxBars?: number;
}

export interface BatterySample {
  timeMs: number;
  /** Remaining charge as the fuel gauge estimates it (hal/battery.ts). */
  remainingUah: number;
}

export interface BatteryChartInput {
  samples: readonly BatterySample[];
  /**
   * Remaining charge at which the elective replacement indicator (ERI) is raised, for a gauge
   * with a fixed ERI level. A gauge that projects ERI from the drain (a lead time before end of
   * service) has no fixed level: give `eriAtMs` instead, or both.
   */
  eriUah?: number;
  /** When the ERI was raised in this run, drawn as a vertical marker. */
  eriAtMs?: number;
  /** Remaining charge at which the end of service (EOS) is reached. */
  eosUah: number;
}

/** How a fleet histogram's integer unit is shown: value / perDisplayUnit, labelled displayUnit. */
export interface HistogramChartInput {
  /** The metric as a person reads it: "Days to empty". */
  metric: string;
  /** Unit shown on the axis ("days", "%"). */
  displayUnit: string;
  /** How many of the sketch's integer units make one display unit (DAY_MS for ms → days). */
  perDisplayUnit: number;
}

/** What a marker on the dose and reservoir charts stands for. */
export type MarkerKind = 'bolus' | 'refill' | 'alarm' | 'clockChange' | 'motorStall';

/** A moment marked on a time chart: a bolus started, a refill, an alarm raised, a clock change, a stall. */
export interface ChartMarker {
  timeMs: number;
  kind: MarkerKind;
}

/** A row of the timeline lane. */
export type TimelineEventKind =
  | 'pressGranted'
  | 'pressDenied'
  | 'bolus'
  | 'refill'
  | 'refillDiscrepancy'
  | 'drugChange'
  | 'newMixtureAtTip'
  | 'alarmRaised'
  | 'alarmCleared'
  | 'clockChange'
  | 'motorStall'
  | 'refused';

export interface TimelineEvent {
  timeMs: number;
  kind: TimelineEventKind;
}

/**
 * The therapy region's state (docs/statechart.md): `startup` before the boot record, `stopped`,
 * `infusing` (basal and boluses), `minimumRate` (the safe minimum rate a critical alarm imposes),
 * `halted` (battery at end of service).
 */
export type TherapyState = 'startup' | 'stopped' | 'infusing' | 'minimumRate' | 'halted';

export interface TherapyInterval {
  state: TherapyState;
  fromMs: number;
  toMs: number;
}

export interface TimelineChartInput {
  /** The events of the lane, one tick each. */
  events: readonly TimelineEvent[];
  /** The therapy state over the run, drawn as a lane of its own above the events. */
  therapy: readonly TherapyInterval[];
  /** End of the run, so the axis matches the dose and reservoir charts. */
  runEndMs: number;
  /** Above this many ticks, ticks of one row less than a pixel apart are drawn as one (default 1500). */
  maxMarks?: number;
}

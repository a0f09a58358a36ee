/**
 * What `itpump fleet`'s definition (sim/report/commands.ts) hands its action (sim/report/cli.ts),
 * apart from both, so the actions import nothing of the definitions that load them.
 */
export interface FleetCliOptions {
  patients?: number;
  workers: number;
  shard?: string;
  out?: string;
  seed?: number;
  motorErrorSd?: number;
  stallsPerYear?: number;
  stallDuration?: number;
  clinicAfter?: number;
  replay?: number;
}

/** The options of `itpump live`, shared by its definition (commands.ts) and its action (cli.ts). */
export interface LiveCliOptions {
  speed: number;
  port: number;
  host: string;
  seed?: number;
  out?: string;
  paused?: boolean;
}

/**
 * Progress of a fleet run on stderr: a cli-progress bar with rate and ETA when stderr is a
 * terminal, otherwise a plain line at every tenth of the way or every 30 s (CI logs, Kubernetes
 * pods), so logs stay short and readable. stdout is left to the results.
 *
 * The wall clock is read here, in the CLI's presentation layer, never in the simulation.
 */
import { performance } from 'node:perf_hooks';
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

const PLAIN_INTERVAL_MS = 30_000;

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
}

export function createProgress(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} [{bar}] {percentage}% | {value}/{total} patients | {rate} patients/s | ETA {eta_formatted}`,
        etaBuffer: 50,
        fps: 5,
        hideCursor: null,
      },
      cliProgress.Presets.shades_classic,
    );
    const startedMs = performance.now();
    let started = false;
    return {
      update(done, total) {
        const rate = (done / Math.max(1e-3, (performance.now() - startedMs) / 1000)).toFixed(1);
        if (!started) {
          bar.start(total, done, { rate });
          started = true;
        } else bar.update(done, { rate });
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  const startedMs = performance.now();
  let lastMs = startedMs;
  let lastTenth = 0;
  return {
    update(done, total) {
      const now = performance.now();
      const tenth = Math.floor((10 * done) / total);
      if (tenth <= lastTenth && now - lastMs < PLAIN_INTERVAL_MS && done < total) return;
      if (tenth <= lastTenth && done === total && lastTenth === 10) return;
      lastTenth = tenth;
      lastMs = now;
      const elapsedS = (now - startedMs) / 1000;
      const etaS = done > 0 ? (elapsedS * (total - done)) / done : Infinity;
      stream.write(
        `${label}: ${done}/${total} patients (${Math.floor((100 * done) / total)} %), ${formatSeconds(elapsedS)} elapsed, ETA ${formatSeconds(etaS)}\n`,
      );
    },
    stop() {},
  };
}

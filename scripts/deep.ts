/**
 * `npm run test:deep`: the property and model suites on a range of seeds, in parallel, with a
 * table of property × seed at the end.
 *
 *   npm run test:deep                              # seeds 1-50, 100 runs per property
 *   FC_SEEDS=1,4,7-9 FC_NUM_RUNS=20 npm run test:deep
 *   DEEP_JOBS=1 FC_SEEDS=3 npm run test:deep
 *
 * Suites: every `*.test.ts` under tests/properties and tests/model, and every
 * `tests/**\/*.property.test.ts`, found on disk at each run. Each file reads FC_SEED and
 * FC_NUM_RUNS itself; the runner sets them per vitest process.
 *
 * Settings (environment): FC_SEEDS (default 1-50; syntax in scripts/deepSeeds.ts), FC_NUM_RUNS
 * (default 100, for every property alike), DEEP_JOBS (default os.availableParallelism()).
 *
 * Jobs: one vitest process per seed with all the files, run one file at a time
 * (`--maxWorkers=1`), DEEP_JOBS processes at once, so the machine runs one test file per core. One
 * process per seed starts vitest once per seed rather than once per file. When there are fewer
 * seeds than jobs, each seed's files are split over several processes so that no core idles.
 *
 * Output: the table and totals on stdout and in out/deep/summary.md, every cell with its failure
 * message in out/deep/results.json, each vitest process's own output in out/deep/logs/.
 * Exit status: 0 if every cell passed, 1 if any failed or did not run, 2 for a bad setting,
 * 130 on Ctrl-C (SIGINT), 143 on SIGTERM; the vitest processes are stopped first.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatSeeds, parsePositiveInt, parseSeeds } from './deepSeeds.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'out', 'deep');
const logDir = join(outDir, 'logs');
const vitestEntry = join(root, 'node_modules', 'vitest', 'vitest.mjs');
/**
 * A test's own timeout in the deep run. vitest.config.ts allows 60 s, sized for the CI run counts;
 * a model-based test at 100 runs on a loaded machine can take longer, and that is not a failure.
 */
const TEST_TIMEOUT_MS = 30 * 60_000;
/** How long the vitest processes get to stop after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 3_000;

// ---- settings -------------------------------------------------------------------------------

let seeds: number[];
let numRuns: number;
let jobCount: number;
try {
  seeds = parseSeeds(process.env.FC_SEEDS ?? '1-50');
  numRuns = parsePositiveInt('FC_NUM_RUNS', process.env.FC_NUM_RUNS, 100);
  jobCount = parsePositiveInt('DEEP_JOBS', process.env.DEEP_JOBS, availableParallelism());
} catch (error) {
  console.error(`test:deep: ${(error as Error).message}`);
  process.exit(2);
}

/** The suites: tests/properties/**, tests/model/** and tests/**\/*.property.test.ts. */
function discoverFiles(): string[] {
  const entries = readdirSync(join(root, 'tests'), { recursive: true, encoding: 'utf8' });
  return entries
    .map((entry) => `tests/${entry.split(sep).join('/')}`)
    .filter(
      (file) =>
        file.endsWith('.test.ts') &&
        (file.startsWith('tests/properties/') ||
          file.startsWith('tests/model/') ||
          file.endsWith('.property.test.ts')),
    )
    .sort();
}

const files = discoverFiles();
if (files.length === 0) {
  console.error('test:deep: no test files found under tests/');
  process.exit(2);
}

interface Job {
  id: string;
  seed: number;
  files: string[];
  label: string;
}

/** One job per seed; when seeds are fewer than job slots, each seed's files split round-robin. */
function planJobs(): Job[] {
  const parts = Math.min(files.length, Math.max(1, Math.ceil(jobCount / seeds.length)));
  return seeds.flatMap((seed) =>
    Array.from({ length: parts }, (_, part) => ({
      id: parts === 1 ? `seed-${seed}` : `seed-${seed}-part-${part + 1}`,
      seed,
      files: files.filter((_, i) => i % parts === part),
      label: parts === 1 ? `seed ${seed}` : `seed ${seed} (part ${part + 1}/${parts})`,
    })),
  );
}

// ---- vitest's JSON report -------------------------------------------------------------------

interface JsonAssertion {
  ancestorTitles: string[];
  title: string;
  status: string;
  duration?: number | null;
  failureMessages?: string[];
}
interface JsonReport {
  testResults: {
    name: string;
    status: string;
    message?: string;
    assertionResults: JsonAssertion[];
  }[];
}

type Status = 'passed' | 'failed' | 'skipped';

/** One cell: a test of a file at a seed. */
interface Cell {
  seed: number;
  file: string;
  /** describe titles and the test's title without its "(seed N, M runs)" suffix */
  path: string[];
  status: Status;
  durationMs: number | null;
  message?: string;
}

/** A file that did not run, or did not finish, at a seed: a suite error, or vitest itself failed. */
interface FileError {
  seed: number;
  file: string;
  message: string;
}

/** An error of a vitest process outside any test (an unhandled rejection, say), at a seed. */
interface RunError {
  seed: number;
  files: string[];
  message: string;
  log: string;
}

interface JobResult {
  id: string;
  seed: number;
  files: string[];
  exitCode: number | null;
  signal: string | null;
  wallMs: number;
  log: string;
  passed: number;
  failed: number;
  error?: string;
}

const suffix = /\s*\(seed -?\d+, \d+ runs?\)\s*$/;

function statusOf(status: string): Status {
  if (status === 'passed') return 'passed';
  if (status === 'failed') return 'failed';
  return 'skipped'; // skipped, pending, todo, disabled
}

const cells: Cell[] = [];
const fileErrors: FileError[] = [];
const runErrors: RunError[] = [];
const jobResults: JobResult[] = [];

/**
 * Errors vitest counted outside the tests, from the default reporter's output in the log: its
 * summary line "Errors  N error(s)" and the first error line after the "Unhandled" banner. The
 * JSON report does not list them.
 */
function unhandledErrors(log: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return undefined;
  }
  const count = /^\s*Errors\s+(\d+) errors?/m.exec(text)?.[1];
  if (!count) return undefined;
  const after = text.slice(Math.max(0, text.indexOf('Unhandled')));
  const first = /^\w*Error\b.*$/m.exec(after)?.[0];
  return `${count} error(s) outside any test${first ? `: ${first}` : ''}`;
}

/** Reads one job's report into cells and file errors; returns what it could not account for. */
function collect(
  job: Job,
  reportPath: string,
  log: string,
  exitCode: number | null,
  signal: string | null,
) {
  let report: JsonReport | undefined;
  let readError: string | undefined;
  if (existsSync(reportPath)) {
    try {
      report = JSON.parse(readFileSync(reportPath, 'utf8')) as JsonReport;
    } catch (error) {
      readError = `its JSON report could not be read: ${(error as Error).message}`;
    }
  } else readError = 'it wrote no JSON report';

  let passed = 0;
  let failed = 0;
  let fileErrorCount = 0;
  const seen = new Set<string>();
  for (const result of report?.testResults ?? []) {
    const file = relative(root, result.name).split(sep).join('/');
    seen.add(file);
    for (const a of result.assertionResults) {
      const status = statusOf(a.status);
      if (status === 'passed') passed++;
      if (status === 'failed') failed++;
      const message = a.failureMessages?.join('\n');
      cells.push({
        seed: job.seed,
        file,
        path: [...a.ancestorTitles, a.title.replace(suffix, '')],
        status,
        durationMs: a.duration ?? null,
        ...(status === 'failed' ? { message: message || '(no message)' } : {}),
      });
    }
    if (result.message) {
      fileErrors.push({ seed: job.seed, file, message: result.message });
      fileErrorCount++;
    }
  }
  const why =
    signal !== null ? `vitest was stopped by ${signal}` : `vitest exited with code ${exitCode}`;
  for (const file of job.files)
    if (!seen.has(file)) {
      fileErrors.push({
        seed: job.seed,
        file,
        message: `not in vitest's report: ${why}, and ${readError ?? 'the report does not list this file'}`,
      });
      fileErrorCount++;
    }
  // vitest fails a run for errors outside any test (an unhandled rejection, say): keep them visible.
  let error = readError ? `${why}, and ${readError}` : undefined;
  const unhandled = unhandledErrors(log);
  const runError =
    unhandled ??
    (exitCode !== 0 && failed === 0 && fileErrorCount === 0
      ? `${why} with no failing test in its report`
      : undefined);
  if (runError) {
    runErrors.push({
      seed: job.seed,
      files: job.files,
      message: runError,
      log: relative(root, log),
    });
    error ??= runError;
  }
  return { passed, failed, fileErrorCount, error };
}

// ---- running the jobs -----------------------------------------------------------------------

/** CPU time of this process's children that have exited and been waited for (Linux /proc). */
function childrenCpuMs(): { userMs: number; systemMs: number } | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // after the command name: field 3 is fields[0], so cutime (16) and cstime (17) are [13], [14]
    const tick = 1000 / clockTicks;
    return { userMs: Number(fields[13]) * tick, systemMs: Number(fields[14]) * tick };
  } catch {
    return null;
  }
}
const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

const running = new Map<number, ChildProcess>();
let stopping: { signal: string; code: number } | undefined;

function killGroups(signal: NodeJS.Signals) {
  for (const pid of running.keys())
    try {
      process.kill(-pid, signal);
    } catch {
      // the group has already gone
    }
}

function onSignal(signal: NodeJS.Signals, code: number) {
  if (stopping) {
    killGroups('SIGKILL');
    process.exit(stopping.code);
  }
  stopping = { signal, code };
  console.error(`\ntest:deep: ${signal}: stopping ${running.size} vitest process(es)`);
  killGroups('SIGTERM');
  setTimeout(() => {
    killGroups('SIGKILL');
    process.exit(code);
  }, STOP_GRACE_MS).unref();
  if (running.size === 0) process.exit(code);
}
process.on('SIGINT', () => onSignal('SIGINT', 130));
process.on('SIGTERM', () => onSignal('SIGTERM', 143));
// Whatever ends this process, its vitest process groups end with it.
process.on('exit', () => killGroups('SIGKILL'));

const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FC_NUM_RUNS: String(numRuns) };
// Each seed's run is the file's own seeded run: no replay path, no run factor, no colour codes.
for (const name of ['FC_SEED', 'FC_PATH', 'FC_REPLAY_PATH', 'FC_RUNS_FACTOR', 'FORCE_COLOR'])
  delete childEnv[name];

function runJob(job: Job, reportDir: string, done: number, total: () => number): Promise<void> {
  const reportPath = join(reportDir, `${job.id}.json`);
  const log = join(logDir, `${job.id}.log`);
  const fd = openSync(log, 'w');
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      vitestEntry,
      'run',
      ...job.files,
      // the JSON report for the table, vitest's own readable output for the log
      '--reporter=json',
      '--reporter=default',
      `--outputFile.json=${reportPath}`,
      '--pool=forks',
      '--maxWorkers=1',
      '--no-cache',
      `--testTimeout=${TEST_TIMEOUT_MS}`,
    ],
    {
      cwd: root,
      env: { ...childEnv, FC_SEED: String(job.seed) },
      stdio: ['ignore', fd, fd],
      detached: true,
    },
  );
  closeSync(fd);
  if (child.pid !== undefined) running.set(child.pid, child);
  return new Promise((resolvePromise) => {
    let settled = false;
    const finish = (exitCode: number | null, signal: string | null, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      if (child.pid !== undefined) running.delete(child.pid);
      if (stopping) {
        if (running.size === 0) process.exit(stopping.code);
        return; // the process exits once every group has stopped
      }
      const wallMs = Date.now() - started;
      const counts = collect(job, reportPath, log, exitCode, signal);
      const error = spawnError ? `vitest could not start: ${spawnError.message}` : counts.error;
      jobResults.push({
        id: job.id,
        seed: job.seed,
        files: job.files,
        exitCode,
        signal,
        wallMs,
        log: relative(root, log),
        passed: counts.passed,
        failed: counts.failed,
        ...(error ? { error } : {}),
      });
      const parts = [`${counts.passed} passed`, `${counts.failed} failed`];
      if (counts.fileErrorCount) parts.push(`${counts.fileErrorCount} file error(s)`);
      console.log(
        `[${done}/${total()}] ${job.label}: ${parts.join(', ')} in ${duration(wallMs)}` +
          (error ? ` (${error}; see ${relative(root, log)})` : ''),
      );
      resolvePromise();
    };
    child.on('error', (error) => finish(null, null, error));
    child.on('exit', (code, signal) => finish(code, signal));
  });
}

async function runPool(jobs: Job[], reportDir: string) {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < jobs.length && !stopping) {
      const job = jobs[next++]!;
      await runJob(job, reportDir, ++done, () => jobs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobCount, jobs.length) }, worker));
}

// ---- the table ------------------------------------------------------------------------------

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m${String(s % 60).padStart(2, '0')}s`;
}

const mark: Record<Status | 'error', string> = {
  passed: '.',
  failed: 'F',
  skipped: 's',
  error: 'E',
};

interface Row {
  file: string;
  /** key of the test within the file; '' for the row of file errors */
  key: string;
  path: string[];
  name: string;
  cells: Map<number, Cell | FileError | RunError>;
}

const FILE_ROW = '(the file itself: an error outside its tests)';
/** The row of errors outside any test; its `file` is not a test file. */
const RUN_ROW_FILE = 'vitest';
const RUN_ROW = 'errors outside any test';

function buildRows(): Row[] {
  const rows = new Map<string, Row>();
  const rowOf = (file: string, key: string, path: string[], name: string) => {
    const id = `${file}\0${key}`;
    let row = rows.get(id);
    if (!row) rows.set(id, (row = { file, key, path, name, cells: new Map() }));
    return row;
  };
  for (const cell of cells) {
    const key = cell.path.join(' > ');
    rowOf(cell.file, key, cell.path, cell.path.at(-1)!).cells.set(cell.seed, cell);
  }
  for (const error of fileErrors) {
    const row = rowOf(error.file, '', [], FILE_ROW);
    if (!row.cells.has(error.seed)) row.cells.set(error.seed, error);
  }
  for (const error of runErrors) {
    const row = rowOf(RUN_ROW_FILE, '', [], RUN_ROW);
    if (!row.cells.has(error.seed)) row.cells.set(error.seed, error);
  }
  const list = [...rows.values()];
  // A title shared by two describe blocks of a file is shown with its describe titles.
  const shared = list.filter(
    (row) => row.key && list.some((o) => o !== row && o.file === row.file && o.name === row.name),
  );
  for (const row of shared) row.name = row.key;
  const fileOrder = new Map([...files, RUN_ROW_FILE].map((f, i) => [f, i]));
  return list.sort(
    (a, b) =>
      (fileOrder.get(a.file) ?? 0) - (fileOrder.get(b.file) ?? 0) ||
      Number(a.key !== '') - Number(b.key !== ''),
  );
}

function markOf(row: Row, seed: number): string {
  const cell = row.cells.get(seed);
  if (!row.key) return cell ? mark.error : mark.passed;
  if (!cell || !('status' in cell)) return mark.error;
  return mark[cell.status];
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

function table(rows: Row[]): string {
  const nameWidth = Math.min(64, Math.max(8, ...rows.map((r) => r.name.length + 2)));
  const digits = Math.max(...seeds.map((s) => String(s).length));
  const lines: string[] = [];
  for (let d = 0; d < digits; d++) {
    const label = d === digits - 1 ? 'seed' : '';
    const column = seeds.map((s) => String(s).padStart(digits)[d]).join('');
    lines.push(`${label.padStart(nameWidth)} ${column}`);
  }
  let file = '';
  for (const row of rows) {
    if (row.file !== file) lines.push((file = row.file));
    const marks = seeds.map((s) => markOf(row, s)).join('');
    const failing = seeds.filter((s) => markOf(row, s) === mark.failed);
    const notRun = seeds.filter((s) => markOf(row, s) === mark.error);
    const notes = [
      ...(failing.length ? [`failed: ${formatSeeds(failing)}`] : []),
      ...(notRun.length ? [`error: ${formatSeeds(notRun)}`] : []),
    ];
    lines.push(
      `${`  ${truncate(row.name, nameWidth - 2)}`.padEnd(nameWidth)} ${marks}${notes.length ? `  ${notes.join('; ')}` : ''}`,
    );
  }
  return lines.join('\n');
}

/**
 * A shell word, in double quotes as a person would type it: a backslash is doubled only where the
 * shell would read it (before `"`, `$`, `` ` ``, `\\` or at the end). Single quotes if it holds a `!`.
 */
function quote(text: string): string {
  if (text.includes('!')) return `'${text.replace(/'/g, `'\\''`)}'`;
  return `"${text.replace(/["$`]|\\(?=["$`\\]|$)/g, '\\$&')}"`;
}
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The first line of a failure message, and for a fast-check failure the line of the error too. */
function headline(message: string): string[] {
  const lines = message.split('\n');
  const first = lines.find((l) => l.trim() !== '') ?? '(no message)';
  const got = lines.find((l) => l.startsWith('Got error: '));
  return [first, ...(got && got !== first ? [got] : [])].map((l) => truncate(l.trim(), 400));
}

function report(rows: Row[], wallMs: number, cpu: { userMs: number; systemMs: number } | null) {
  const out: string[] = [];
  out.push(
    `Results: one column per seed (${mark.passed} passed, ${mark.failed} failed, ${mark.error} error: did not run or failed outside the tests, ${mark.skipped} skipped)`,
    '',
    table(rows),
    '',
  );
  const testRows = rows.filter((r) => r.key);
  const count = (m: string) =>
    testRows.reduce((n, r) => n + seeds.filter((s) => markOf(r, s) === m).length, 0);
  const failedRows = rows.filter((r) =>
    seeds.some((s) => markOf(r, s) !== mark.passed && markOf(r, s) !== mark.skipped),
  );
  const badSeeds = seeds.filter((s) =>
    rows.some((r) => markOf(r, s) === mark.failed || markOf(r, s) === mark.error),
  );
  const fileRowErrors = rows.filter((r) => !r.key).reduce((n, r) => n + r.cells.size, 0);
  out.push(
    `Totals: ${testRows.length} tests in ${files.length} files × ${seeds.length} seeds = ${testRows.length * seeds.length} cells: ` +
      `${count(mark.passed)} passed, ${count(mark.failed)} failed, ${count(mark.error)} did not run, ${count(mark.skipped)} skipped` +
      (fileRowErrors ? `; ${fileRowErrors} errors outside the tests (file or vitest rows)` : ''),
  );
  out.push(
    failedRows.length
      ? `Not passed: ${failedRows.length} of ${rows.length} rows, on seeds ${formatSeeds(badSeeds)}`
      : 'Every cell passed.',
  );
  const cpuMs = cpu ? cpu.userMs + cpu.systemMs : null;
  out.push(
    `Time: wall ${duration(wallMs)}, CPU ${
      cpuMs === null
        ? 'not measured (no /proc/self/stat)'
        : `${duration(cpuMs)} (user ${duration(cpu!.userMs)}, system ${duration(cpu!.systemMs)}) summed over the vitest processes, ${(cpuMs / wallMs).toFixed(2)} cores busy on average`
    }; ${jobCount} jobs at a time, FC_NUM_RUNS=${numRuns}`,
  );

  const failures: string[] = [];
  for (const row of rows)
    for (const seed of seeds) {
      const cell = row.cells.get(seed);
      const m = markOf(row, seed);
      if (m === mark.passed || m === mark.skipped) continue;
      const replay = `FC_SEED=${seed} FC_NUM_RUNS=${numRuns} npx vitest run ${row.file}`;
      if (cell && 'status' in cell) {
        const pattern = escapeRegExp(row.name === row.key ? row.path.join(' ') : row.name);
        failures.push(
          `seed ${seed}  ${row.file}: ${row.name}`,
          `  ${replay} -t ${quote(pattern)}`,
          ...headline(cell.message ?? '').map((l) => `  ${l}`),
        );
      } else if (row.key) {
        const why = fileErrors.find((e) => e.seed === seed && e.file === row.file);
        failures.push(
          `seed ${seed}  ${row.file}: ${row.name}: did not run`,
          `  ${replay}`,
          `  ${why ? headline(why.message)[0] : 'not in the report of this seed'}`,
        );
      } else if (cell && 'log' in cell) {
        failures.push(
          `seed ${seed}  vitest: ${cell.message} (log: ${cell.log})`,
          `  FC_SEED=${seed} FC_NUM_RUNS=${numRuns} npx vitest run ${cell.files.join(' ')}`,
        );
      } else if (cell) {
        const log = jobResults.find((j) => j.seed === seed && j.files.includes(row.file))?.log;
        failures.push(
          `seed ${seed}  ${row.file}: an error outside its tests${log ? ` (log: ${log})` : ''}`,
          `  ${replay}`,
          ...headline(cell.message).map((l) => `  ${l}`),
        );
      }
    }
  if (failures.length)
    out.push(
      '',
      'Failures, each with the command that replays it:',
      ...failures.map((l) => `  ${l}`),
    );
  return out.join('\n');
}

// ---- main -----------------------------------------------------------------------------------

async function main(): Promise<number> {
  const jobs = planJobs();
  mkdirSync(logDir, { recursive: true });
  for (const old of readdirSync(logDir)) if (old.endsWith('.log')) rmSync(join(logDir, old));
  const reportDir = mkdtempSync(join(tmpdir(), 'itpump-deep-'));
  const startedAt = new Date();
  const cpuBefore = childrenCpuMs();
  console.log(
    `test:deep: ${files.length} files × seeds ${formatSeeds(seeds)} (${seeds.length}) at FC_NUM_RUNS=${numRuns}: ` +
      `${jobs.length} vitest processes, ${Math.min(jobCount, jobs.length)} at a time; logs in ${relative(root, logDir)}/`,
  );
  try {
    await runPool(jobs, reportDir);
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
  const wallMs = Date.now() - startedAt.getTime();
  const cpuAfter = childrenCpuMs();
  const cpu =
    cpuBefore && cpuAfter
      ? {
          userMs: cpuAfter.userMs - cpuBefore.userMs,
          systemMs: cpuAfter.systemMs - cpuBefore.systemMs,
        }
      : null;

  const rows = buildRows();
  const text = report(rows, wallMs, cpu);
  console.log(`\n${text}`);
  const ok = rows.every((r) =>
    seeds.every((s) => [mark.passed, mark.skipped].includes(markOf(r, s))),
  );
  const exitCode = ok ? 0 : 1;

  writeFileSync(
    join(outDir, 'summary.md'),
    [
      '# test:deep',
      '',
      `${startedAt.toISOString()}: ${files.length} files, seeds \`${formatSeeds(seeds)}\`, FC_NUM_RUNS=${numRuns}, ${jobCount} jobs at a time. Exit status ${exitCode}.`,
      '',
      '```text',
      text,
      '```',
      '',
    ].join('\n'),
  );
  const own = process.cpuUsage();
  writeFileSync(
    join(outDir, 'results.json'),
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        seeds,
        numRuns,
        jobs: jobCount,
        files,
        wallMs,
        cpu: cpu ? { ...cpu, of: 'vitest processes, summed' } : null,
        runnerCpu: { userMs: own.user / 1000, systemMs: own.system / 1000 },
        exitCode,
        runs: jobResults.sort((a, b) => a.seed - b.seed || a.id.localeCompare(b.id)),
        fileErrors,
        runErrors,
        results: cells.map((c) => ({ ...c, test: c.path.at(-1) })),
      },
      null,
      2,
    )}\n`,
  );
  console.log(
    `\nWritten: ${relative(root, join(outDir, 'summary.md'))}, ${relative(root, join(outDir, 'results.json'))}`,
  );
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('test:deep:', error);
    process.exit(1);
  },
);

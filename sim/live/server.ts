/**
 * The live session's web server: plain `node:http`, the page's state pushed with Server-Sent
 * Events, the page's commands sent with `fetch` POSTs.
 *
 * Security (docs/live.md): the server listens on 127.0.0.1 unless told otherwise, and every
 * request, page, stream, command and download alike, must carry the session's random token in
 * its URL (`?token=`); without it the answer is 403 and one line. Another local user, or a web
 * page open in the same browser, cannot learn the token (the same-origin policy keeps the page's
 * URL from other sites), so it cannot read the pump or send it a command. Commands are read with
 * the scenario loader's schema and go to the pump as timeline commands do: bad input gets one line
 * naming the field, the value and the limit, or the pump's refusal; never a crash.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LiveSession } from './session.js';
import { chartRegions } from './statechart.js';
import { LiveDownloads, downloadNames, type DownloadName } from './downloads.js';

/** The largest request body taken (a command or a control), bytes. */
const bodyBytesMax = 64 * 1024;
/** How often virtual time is paced and the pages updated, wall ms. */
export const tickMs = 100;

export interface LiveServerOptions {
  host: string;
  port: number;
  /** The scenario file's text and name, for the replay scenario. */
  sourceText: string;
  /** Called once when the run ends (at its duration, or when a page ends it). */
  onEnded?: () => void;
}

type Sink = ServerResponse;

export class LiveServer {
  readonly token = randomBytes(24).toString('base64url');
  private readonly server: Server;
  private readonly clients = new Set<Sink>();
  private timer: NodeJS.Timeout | undefined;
  private eventCursor = 0;
  private traceCursor = 0;
  private endedNotified = false;
  readonly downloads: LiveDownloads;

  constructor(
    readonly session: LiveSession,
    private readonly options: LiveServerOptions,
  ) {
    this.downloads = new LiveDownloads(session, options.sourceText);
    this.server = createServer((req, res) => this.handle(req, res));
  }

  /** Listen, start pacing; resolves with the page's URL (token included). */
  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => resolve());
    });
    this.timer = setInterval(() => this.tick(), tickMs);
    return this.url();
  }

  url(): string {
    const address = this.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}/?token=${this.token}`;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const c of this.clients) c.end();
    this.clients.clear();
    this.server.closeAllConnections();
    this.downloads.dispose();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Pace virtual time and push what changed to every page. */
  tick(): void {
    this.guard(() => this.session.tick());
    this.broadcast();
  }

  private guard(run: () => void): void {
    try {
      run();
    } catch (e) {
      // Our bug, not the page's: stop pacing so the state stays as the error left it, and say so.
      this.session.setPaused(true);
      process.stderr.write(`itpump live: internal error, the run is paused: ${String(e)}\n`);
    }
  }

  private broadcast(): void {
    const sim = this.session.sim;
    const update = {
      view: this.session.view(),
      events: sim.events.slice(this.eventCursor),
      trace: sim.trace.slice(this.traceCursor).map(slimRow),
      recorded: this.session.recorded.length,
    };
    this.eventCursor = sim.events.length;
    this.traceCursor = sim.trace.length;
    const text = `event: update\ndata: ${JSON.stringify(update)}\n\n`;
    for (const c of this.clients) c.write(text);
    if (this.session.ended && !this.endedNotified) {
      this.endedNotified = true;
      this.options.onEnded?.();
    }
  }

  private authorised(url: URL): boolean {
    const given = Buffer.from(url.searchParams.get('token') ?? '');
    const token = Buffer.from(this.token);
    return given.length === token.length && timingSafeEqual(given, token);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!this.authorised(url))
      return plain(res, 403, 'itpump live: refused: the request lacks the session token');
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /') return this.page(res);
    if (route === 'GET /events') return this.stream(req, res);
    if (route === 'POST /command') return void this.post(req, res, (b) => this.command(b));
    if (route === 'POST /control') return void this.post(req, res, (b) => this.control(b));
    if (route === 'POST /snapshot') return void this.snapshot(res);
    const download = /^GET \/download\/([0-9]+)\/(.+)$/.exec(route);
    if (download && (downloadNames as readonly string[]).includes(download[2]!))
      return this.download(res, Number(download[1]), download[2] as DownloadName);
    plain(res, 404, `itpump live: no such page: ${req.method} ${url.pathname}`);
  }

  private page(res: ServerResponse): void {
    const dir = new URL('./page/', import.meta.url);
    const html = readFileSync(new URL('index.html', dir), 'utf8')
      .replace('/*STYLE*/', () => readFileSync(new URL('live.css', dir), 'utf8'))
      .replace('/*SCRIPT*/', () => readFileSync(new URL('live.js', dir), 'utf8'));
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // Nothing from elsewhere: the page works offline and cannot be made to load another site.
      'content-security-policy':
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; media-src 'none'",
      'referrer-policy': 'no-referrer',
    });
    res.end(html);
  }

  private stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    const sim = this.session.sim;
    const hello = {
      scenario: this.session.scenario.name,
      seed: this.session.seed,
      statechart: chartRegions(),
      view: this.session.view(),
      events: sim.events.slice(0, this.eventCursor),
      trace: sim.trace.slice(0, this.traceCursor).map(slimRow),
      recorded: this.session.recorded.length,
    };
    res.write(`retry: 1000\nevent: hello\ndata: ${JSON.stringify(hello)}\n\n`);
    this.clients.add(res);
    // Closing the page only drops its stream: the run goes on.
    req.on('close', () => this.clients.delete(res));
  }

  private async post(
    req: IncomingMessage,
    res: ServerResponse,
    handle: (body: unknown) => { status: number; body: unknown },
  ): Promise<void> {
    const text = await readBody(req);
    if (text === undefined)
      return json(res, 413, { kind: 'invalid', lines: [`request: over ${bodyBytesMax} bytes`] });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      return json(res, 400, {
        kind: 'invalid',
        lines: [`request: not JSON: ${(e as Error).message.split('\n')[0]}`],
      });
    }
    let answer: { status: number; body: unknown } = { status: 500, body: undefined };
    this.guard(() => (answer = handle(body)));
    if (answer.body === undefined)
      return json(res, 500, { kind: 'error', lines: ['internal error: see the server output'] });
    json(res, answer.status, answer.body);
    this.broadcast(); // every tab sees the command at once
  }

  private command(body: unknown): { status: number; body: unknown } {
    const action = (body as { action?: unknown } | null)?.action;
    const outcome = this.session.command(action);
    return { status: outcome.kind === 'invalid' ? 400 : 200, body: outcome };
  }

  private control(body: unknown): { status: number; body: unknown } {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const bad = controlProblem(b);
    if (bad) return { status: 400, body: { kind: 'invalid', lines: [bad] } };
    if (typeof b['speed'] === 'number') this.session.setSpeed(b['speed']);
    if (typeof b['paused'] === 'boolean') this.session.setPaused(b['paused']);
    if (b['step'] === true) this.session.step();
    if (b['end'] === true) this.session.end();
    return { status: 200, body: { kind: 'ok', view: this.session.view() } };
  }

  private async snapshot(res: ServerResponse): Promise<void> {
    try {
      json(res, 200, await this.downloads.take());
    } catch (e) {
      process.stderr.write(`itpump live: taking the outputs failed: ${String(e)}\n`);
      json(res, 500, { kind: 'error', lines: [`the outputs could not be made: ${String(e)}`] });
    }
    this.broadcast();
  }

  private download(res: ServerResponse, id: number, name: DownloadName): void {
    const bytes = this.downloads.file(id, name);
    if (bytes === undefined)
      return plain(res, 404, `itpump live: no outputs taken as number ${id}`);
    res.writeHead(200, {
      'content-type': contentTypes[name.slice(name.lastIndexOf('.'))] ?? 'text/plain',
      'content-disposition': `attachment; filename="${name}"`,
      'cache-control': 'no-store',
    });
    res.end(bytes);
  }
}

const contentTypes: Record<string, string> = {
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/x-ndjson; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.yaml': 'application/yaml; charset=utf-8',
};

/** What is wrong with a control request, in one line, or undefined. */
export function controlProblem(b: Record<string, unknown>): string | undefined {
  const known = ['speed', 'paused', 'step', 'end'];
  const unknown = Object.keys(b).filter((k) => !known.includes(k));
  if (unknown.length > 0)
    return `control: unknown key ${JSON.stringify(unknown[0])}; the keys are ${known.join(', ')}`;
  const s = b['speed'];
  if (s !== undefined && (typeof s !== 'number' || !Number.isFinite(s) || s < 1 || s > 100_000))
    return `control.speed: ${JSON.stringify(s)}: the speed is from 1 to 100000 (times the wall clock)`;
  for (const k of ['paused', 'step', 'end'])
    if (b[k] !== undefined && typeof b[k] !== 'boolean')
      return `control.${k}: ${JSON.stringify(b[k])}: true or false`;
  return undefined;
}

function slimRow(r: LiveSession['sim']['trace'][number]) {
  return {
    timeMs: r.timeMs,
    estimateNl: r.reservoirEstimateNl,
    trueNl: r.reservoirTrueNl,
    deliveredPg: r.deliveredPg,
  };
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= bodyBytesMax) chunks.push(c);
    });
    req.on('end', () =>
      resolve(size > bodyBytesMax ? undefined : Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', () => resolve(undefined));
  });
}

function plain(res: ServerResponse, status: number, line: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${line}\n`);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

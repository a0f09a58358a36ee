/**
 * `itpump live`: load the scenario, start the session and its server, print the URL, and on
 * Ctrl-C (or SIGTERM) end the run, write its outputs and the replay scenario, and exit: 130 when
 * the run was cut short, as `run` does, 0 when it had reached its end. A run that reaches its end
 * writes its outputs at once; the page stays up until Ctrl-C.
 */
import { readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { Interrupted, interruptOnSignals } from '../cliRun.js';
import { InputError } from '../inputError.js';
import type { LiveCliOptions } from './cliOptions.js';

export async function liveAction(file: string, opts: LiveCliOptions): Promise<void> {
  const { loadScenario } = await import('../scenario.js');
  const { LiveSession } = await import('./session.js');
  const { LiveServer } = await import('./server.js');
  const { writeLiveOutputs } = await import('./downloads.js');
  const { formatTimeMs } = await import('../../src/units.js');
  const scenario = loadScenario(file);
  const sourceText = readFileSync(file, 'utf8');
  const seed = opts.seed ?? scenario.seed;
  const interrupt = interruptOnSignals('the live run');
  try {
    let session;
    try {
      session = new LiveSession(scenario, seed, {
        speed: opts.speed,
        paused: opts.paused === true,
      });
    } catch (e) {
      if (e instanceof InputError && !e.message.startsWith(file))
        throw new InputError(`${file}: ${e.message}`);
      throw e;
    }
    const out = opts.out ?? join('out', `${basename(file, extname(file))}-live`);
    let written: Promise<string[]> | undefined;
    const write = () => {
      const result = session.end();
      const text = server.downloads.scenarioText(session.replayDurationMs());
      written ??= writeLiveOutputs(result, text, out);
      return written;
    };
    const server = new LiveServer(session, {
      host: opts.host,
      port: opts.port,
      sourceText,
      onEnded: () =>
        void write().then((files) =>
          process.stdout.write(`the run reached its end; wrote ${files.join(', ')}\n`),
        ),
    });
    const url = await server.listen();
    process.stdout.write(
      `itpump live ${file} --seed ${seed} --speed ${opts.speed}\n${url}\nCtrl-C ends the run and writes the outputs to ${out}\n`,
    );
    await new Promise<void>((resolve) =>
      interrupt.signal.addEventListener('abort', () => resolve()),
    );
    const cutShort = !session.ended;
    const files = await write();
    await server.close();
    process.stdout.write(
      `wrote ${files.join(', ')}\nreplay: itpump run ${join(out, 'scenario.yaml')}\n`,
    );
    if (cutShort)
      throw new Interrupted(
        `the live run was ended at ${formatTimeMs(session.sim.scenario.duration)} of the scenario; outputs written to ${out}`,
      );
  } finally {
    interrupt.dispose();
  }
}

/**
 * A fleet worker thread: runs the patients it is handed, one at a time, and posts each patient's
 * outcome back. It keeps nothing between patients, so its memory does not grow with the fleet.
 *
 * Protocol (runFleet.ts is the other end): the worker gets `{ scenario, options }` as workerData;
 * the main thread posts `{ type: 'run', from, to }` (patient indices) or `{ type: 'stop' }`; the
 * worker answers `{ type: 'outcome', outcome }` per patient, `{ type: 'idle' }` when the range is
 * done, or `{ type: 'error', message, input }` if a patient cannot run (then it stops).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InputError, type Scenario } from '../scenario.js';
import { runPatient, type PatientRunOptions } from './patient.js';

export interface WorkerData {
  scenario: Scenario;
  baseSeed: number;
  options: PatientRunOptions;
}

export type ToWorker = { type: 'run'; from: number; to: number } | { type: 'stop' };

const port = parentPort;
if (port === null) throw new Error('sim/fleet/worker.ts runs as a worker thread');
const data = workerData as WorkerData;

port.on('message', (message: ToWorker) => {
  if (message.type === 'stop') {
    port.close();
    return;
  }
  try {
    for (let index = message.from; index < message.to; index++) {
      port.postMessage({
        type: 'outcome',
        outcome: runPatient(data.scenario, index, data.baseSeed + index, data.options),
      });
    }
    port.postMessage({ type: 'idle' });
  } catch (e) {
    port.postMessage({
      type: 'error',
      message: (e as Error).message,
      input: e instanceof InputError,
    });
  }
});

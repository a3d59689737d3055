/**
 * Worker-thread entry: builds the system once from the init message, then computes trajectory
 * ranges on request and posts the arrays back (transferred, not copied).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { getSystem } from '../../systems/index.js';
import { PhysodeError } from '../util/errors.js';
import { computeTrajectories } from './trajectories.js';
import type { WorkerInit, WorkerReply, WorkerTask } from './pool.js';

const init = workerData as WorkerInit;
const system = getSystem(init.system).create(init.options);
const times = Float64Array.from(init.times);

parentPort?.on('message', (task: WorkerTask) => {
  let reply: WorkerReply;
  try {
    const chunk = computeTrajectories(system, times, task.start, task.end, init.settings);
    reply = { id: task.id, chunk };
  } catch (err) {
    reply = { id: task.id, error: { message: err instanceof Error ? err.message : String(err), hint: err instanceof PhysodeError ? err.hint : undefined } };
  }
  const c = 'chunk' in reply ? reply.chunk : undefined;
  const transfer = c ? [c.y, c.params, c.energy, c.index, c.maxRelEnergyError, c.dydt, c.yClean].filter((a) => a !== undefined).map((a) => a.buffer as ArrayBuffer) : [];
  parentPort?.postMessage(reply, transfer);
});

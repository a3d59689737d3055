/**
 * Worker-thread entry: builds the system once from workerData, then computes trajectory ranges on
 * request (src/util/worker-rpc.ts) and posts the arrays back (transferred, not copied).
 */
import { workerData } from 'node:worker_threads';
import { getSystem } from '../../systems/index.js';
import { serveRpc } from '../util/worker-rpc.js';
import { computeTrajectories, type TrajectoryChunk } from './trajectories.js';
import type { WorkerInit, WorkerTask } from './pool.js';

const init = workerData as WorkerInit;
const system = getSystem(init.system).create(init.options);
const times = Float64Array.from(init.times);

serveRpc<WorkerTask, TrajectoryChunk>(
  (task) => computeTrajectories(system, times, task.start, task.end, init.settings),
  (c) => [c.y, c.params, c.energy, c.index, c.maxRelEnergyError, c.dydt, c.yClean].filter((a) => a !== undefined).map((a) => a.buffer as ArrayBuffer),
);

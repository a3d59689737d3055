/**
 * One replica of a data-parallel training step (worker thread of data-parallel-model.ts): a
 * NeuralODE of the same configuration, on its own TF.js backend, that takes the main model's state
 * and a shard of the batch, and returns its share of the loss and of the gradients. Solvers and
 * batch normalisation sum over the replicas through the shared collective.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { NeuralOdeConfig } from '../model/config.js';
import type { BackendPreference } from '../backend/backend.js';
import { SharedCollective, type CollectiveMemory } from './collective.js';
import type { ReplicaJob, ReplicaReply } from './protocol.js';

export interface ReplicaInit {
  readonly config: NeuralOdeConfig;
  readonly trainMaxSteps?: number;
  readonly backend: BackendPreference;
  readonly collective: CollectiveMemory;
  readonly rank: number;
  /** Replies go here (the main thread reads them synchronously with receiveMessageOnPort). */
  readonly replies: MessagePort;
  /** Int32 [1]: replies written so far in this step; the main thread waits on it. */
  readonly done: SharedArrayBuffer;
}

const init = workerData as ReplicaInit;
const { initBackend } = await import('../backend/backend.js');
const { NeuralODE } = await import('../model/neural-ode.js');
const { NeuralOdePort } = await import('../train/neural-ode-port.js');
const { SolverError } = await import('../ode/errors.js');
const tf = await import('@tensorflow/tfjs-core');

await initBackend(init.backend);
const collective = new SharedCollective(init.collective, init.rank);
const replica = new NeuralOdePort(new NeuralODE(init.config), init.trainMaxSteps, collective);
const done = new Int32Array(init.done);

function run(job: ReplicaJob): ReplicaReply {
  replica.setState(job.state);
  const r = replica.lossAndGradients(job.y0, job.batch, job.ts, job.target, job.mode, job.lossScale);
  const grads: { name: string; shape: readonly number[]; data: Float32Array }[] = [];
  for (const [name, g] of r.grads) grads.push({ name, shape: g.shape, data: g.dataSync() as Float32Array });
  tf.dispose([...r.grads.values()]);
  // Running statistics changed identically on every replica: the first one reports them.
  const buffers = init.rank === 0 ? replica.getState().filter((t) => !replica.variables.some((v) => v.name === t.name)) : [];
  return { ok: true, loss: r.loss, nfe: r.nfe, grads, buffers };
}

parentPort!.on('message', (job: ReplicaJob) => {
  let reply: ReplicaReply;
  try {
    reply = run(job);
  } catch (err) {
    collective.abort(); // the others may be waiting for this replica inside a collective call
    const e = err instanceof Error ? err : new Error(String(err));
    const solver = err instanceof SolverError ? { reason: err.reason, t: err.t, h: err.h, nfe: err.nfe } : undefined;
    reply = { ok: false, error: { name: e.name, message: e.message, hint: (e as { hint?: string }).hint, solver } };
  }
  init.replies.postMessage(reply);
  Atomics.add(done, 0, 1);
  Atomics.notify(done, 0);
});
parentPort!.postMessage('ready');

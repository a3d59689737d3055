/**
 * Data-parallel training steps over worker threads, as PyTorch's DistributedDataParallel with
 * SyncBatchNorm does over processes: each replica (replica-worker.ts) solves a shard of the
 * batch's rows with the main model's weights; the replicas take the same adaptive steps (error
 * norms summed over all of them) and the same batch statistics (moments summed), so that the
 * summed losses and gradients are those of the whole batch, up to float32 rounding. Everything but
 * the training step (prediction, recalibration, state, saving) runs on the main model.
 *
 * The step is synchronous, as DynamicsModel requires: the main thread posts the shards, sleeps on
 * a shared counter (Atomics.wait) until every replica has replied, and reads the replies with
 * receiveMessageOnPort.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { currentBackend, type BackendPreference } from '../backend/backend.js';
import type { DynamicsModel, ModelFactory, Prediction, RunningStats, SolverOverride, StepResult } from '../train/model-port.js';
import type { NamedTensor } from '../train/checkpoint.js';
import type { TrainableVariable } from '../train/optimizer.js';
import { NeuralOdePort, neuralOdeFactory } from '../train/neural-ode-port.js';
import { SolverError } from '../ode/errors.js';
import { InvalidArgumentError, PhysodeError } from '../util/errors.js';
import { startModuleWorker } from '../util/worker.js';
import { collectiveMemory, resetCollective, type CollectiveMemory } from './collective.js';
import type { ReplicaInit } from './replica-worker.js';
import type { ReplicaJob, ReplicaReply } from './protocol.js';

/** How long a step may take before the main thread gives up on the replicas. */
const STEP_TIMEOUT_MS = 600_000;

interface Replica {
  readonly worker: Worker;
  readonly replies: MessagePort;
}

/** Rows of a batch of `batch` rows given to each of `n` replicas (the first ones get one more). */
export function shardRows(batch: number, n: number): number[] {
  const base = Math.floor(batch / n);
  return Array.from({ length: n }, (_, i) => base + (i < batch % n ? 1 : 0));
}

export class DataParallelModel implements DynamicsModel {
  private constructor(
    private readonly inner: NeuralOdePort,
    private readonly replicas: readonly Replica[],
    private readonly collective: CollectiveMemory,
    private readonly done: Int32Array,
  ) {}

  /**
   * Starts `workers` replicas of `inner` (each loads TF.js with the backend this process uses, one
   * thread each). `trainMaxSteps`: the step limit of training solves, as NeuralOdePort's.
   */
  static async create(inner: NeuralOdePort, workers: number, trainMaxSteps?: number): Promise<DataParallelModel> {
    if (!(Number.isInteger(workers) && workers >= 2 && workers <= 64)) {
      throw new InvalidArgumentError(`data-parallel training needs 2 to 64 workers, got ${workers}`);
    }
    const backend = ((await currentBackend())?.name ?? 'auto') as BackendPreference;
    // Batch statistics + per-feature sums of γ and β gradients: 1 + 3F values per call at most.
    const widest = Math.max(inner.model.config.width, inner.model.config.dim);
    const collective = collectiveMemory(workers, 1 + 3 * widest);
    const done = new SharedArrayBuffer(4);
    const replicas: Replica[] = [];
    try {
      for (let rank = 0; rank < workers; rank++) {
        const { port1, port2 } = new MessageChannel();
        const init: ReplicaInit = { config: inner.model.config, trainMaxSteps, backend, collective, rank, replies: port2, done };
        const worker = startModuleWorker(import.meta.url, 'replica-worker', {
          workerData: init,
          transferList: [port2],
        });
        replicas.push({ worker, replies: port1 });
        await new Promise<void>((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', (err) => reject(new PhysodeError(`data-parallel replica ${rank} failed to start: ${err.message}`)));
          worker.once('exit', (code) => reject(new PhysodeError(`data-parallel replica ${rank} exited (${code}) while starting`)));
        });
        worker.removeAllListeners('exit');
        worker.unref();
      }
    } catch (err) {
      for (const r of replicas) void r.worker.terminate();
      throw err;
    }
    return new DataParallelModel(inner, replicas, collective, new Int32Array(done));
  }

  get variables(): readonly TrainableVariable[] {
    return this.inner.variables;
  }

  lossAndGradients(y0: Float32Array, batch: number, ts: Float64Array, target: Float32Array, mode: 'train' | 'eval' = 'train'): StepResult {
    const n = this.replicas.length;
    // Fewer rows than replicas: one replica per row would leave some without work; run here.
    if (batch < n) return this.inner.lossAndGradients(y0, batch, ts, target, mode);
    const dim = y0.length / batch;
    const perRowTarget = target.length / batch;
    const state = this.inner.getState();
    resetCollective(this.collective);
    Atomics.store(this.done, 0, 0);
    let row = 0;
    shardRows(batch, n).forEach((rows, i) => {
      const job: ReplicaJob = {
        state,
        y0: y0.slice(row * dim, (row + rows) * dim),
        batch: rows,
        ts,
        target: target.slice(row * perRowTarget, (row + rows) * perRowTarget),
        mode,
        lossScale: rows / batch,
      };
      this.replicas[i].worker.postMessage(job);
      row += rows;
    });
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    for (let got = Atomics.load(this.done, 0); got < n; got = Atomics.load(this.done, 0)) {
      if (Date.now() > deadline) throw new PhysodeError(`data-parallel step: ${n - got} of ${n} replicas did not answer in ${STEP_TIMEOUT_MS / 1000} s`);
      Atomics.wait(this.done, 0, got, 1000);
    }
    const replies = this.replicas.map((r, i) => {
      const m = receiveMessageOnPort(r.replies);
      if (!m) throw new PhysodeError(`data-parallel replica ${i} counted its reply but none arrived`);
      return m.message as ReplicaReply;
    });
    const failed = replies.filter((r) => !r.ok).map((r) => (r as Extract<ReplicaReply, { ok: false }>).error);
    if (failed.length > 0) {
      // The replica that failed first; the others only report being aborted.
      const e = failed.find((x) => x.name !== 'CollectiveAbortedError') ?? failed[0];
      if (e.solver) throw new SolverError(e.solver.reason, e.solver, e.hint ?? '');
      const err = new PhysodeError(e.message, e.hint);
      err.name = e.name;
      throw err;
    }
    return this.combine(replies as Extract<ReplicaReply, { ok: true }>[], state);
  }

  private combine(replies: readonly Extract<ReplicaReply, { ok: true }>[], state: readonly NamedTensor[]): StepResult {
    let loss = 0;
    for (const r of replies) loss += r.loss;
    const sums = new Map<string, { shape: readonly number[]; data: Float32Array }>();
    for (const r of replies) {
      for (const g of r.grads) {
        const s = sums.get(g.name);
        if (!s) sums.set(g.name, { shape: g.shape, data: Float32Array.from(g.data) });
        else for (let i = 0; i < g.data.length; i++) s.data[i] += g.data[i];
      }
    }
    const grads = new Map<string, tf.Tensor>();
    for (const [name, s] of sums) grads.set(name, tf.tensor(s.data, [...s.shape]));
    const buffers = replies[0].buffers;
    if (buffers.length > 0) {
      const updated = new Map(buffers.map((b) => [b.name, b]));
      this.inner.setState(state.map((t) => updated.get(t.name) ?? t));
    }
    return { loss, grads, nfe: replies[0].nfe };
  }

  predict(y0: Float32Array, batch: number, ts: Float64Array, solver?: SolverOverride): Promise<Prediction> {
    return this.inner.predict(y0, batch, ts, solver);
  }

  recalibrate(batches: Iterable<{ readonly y0: Float32Array; readonly batch: number; readonly ts: Float64Array }>): number {
    return this.inner.recalibrate(batches);
  }

  getState(): NamedTensor[] {
    return this.inner.getState();
  }

  setState(tensors: readonly NamedTensor[]): void {
    this.inner.setState(tensors);
  }

  save(dir: string): Promise<void> {
    return this.inner.save(dir);
  }

  runningStats(): RunningStats | null {
    return this.inner.runningStats();
  }

  dispose(): void {
    for (const r of this.replicas) {
      r.replies.close();
      void r.worker.terminate();
    }
    this.inner.dispose();
  }
}

/**
 * The project's NeuralODE with data-parallel training steps over `workers` worker threads
 * (`physode train --workers N`). Loading a saved model needs no replicas: it loads as usual.
 */
export function dataParallelFactory(workers: number): ModelFactory {
  return {
    create: async (bp) => {
      const inner = await neuralOdeFactory.create(bp);
      if (!(inner instanceof NeuralOdePort)) throw new PhysodeError('data-parallel training wraps the NeuralODE port');
      return DataParallelModel.create(inner, workers, inner.trainStepLimit);
    },
    load: neuralOdeFactory.load,
  };
}

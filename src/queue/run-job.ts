/**
 * What a queue job does, apart from BullMQ: the computation of one shard, one training task, or
 * the finalizing step, in the shared output folder. The heavy work runs off this thread (generator
 * worker threads; physode child processes for trainings) so that the caller's event loop stays
 * free to renew the job's lock. Returns the job's small JSON result and, when this job finished the
 * last piece of its dataset or sweep, the finalizing job to add.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pathExists } from '../util/fs.js';
import { finalizeDataset, generateShare, planShards, resolveOptions, type RunnerCache } from '../generate/index.js';
import { CliExecutor } from '../reproduce/cli-executor.js';
import { staticEnvironment } from '../reproduce/environment.js';
import { physodeCommand, type ChildCommand } from '../reproduce/physode-command.js';
import { PROFILES } from '../reproduce/profiles.js';
import { mergeShares, pendingTasks, reproduceShare, type SweepSpec } from '../reproduce/sharded-sweep.js';
import type { ExperimentId } from '../reproduce/types.js';
import type { GenerateJobOptions, JobResult, JobSpec, SweepJobSpec } from './jobs.js';

export interface JobOutcome {
  readonly result: JobResult;
  /** A job to add after this one (deterministic id: added once however many workers ask). */
  readonly next?: JobSpec;
}

async function missingShardFiles(options: GenerateJobOptions): Promise<number> {
  const r = resolveOptions(options);
  let missing = 0;
  for (const p of planShards(r.count, r.split, r.shardSize)) if (!(await pathExists(join(r.out, p.file)))) missing++;
  return missing;
}

function sweepSpec(s: SweepJobSpec): SweepSpec {
  return { out: s.out, profile: PROFILES[s.profile], systems: s.systems, seeds: s.seeds, experiments: s.experiments as ExperimentId[] | undefined };
}

/** physode children that exit when the worker that started them dies (orphan-guard.ts). */
function guardedCommand(): ChildCommand {
  const base = physodeCommand();
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const guard = fileURLToPath(new URL(`./orphan-guard.${ext}`, import.meta.url));
  return { file: base.file, args: [...base.args.slice(0, -1), '--import', guard, ...base.args.slice(-1)] };
}

function executor(s: SweepJobSpec, signal?: AbortSignal): CliExecutor {
  return new CliExecutor({ profile: PROFILES[s.profile], backend: s.backend, signal, command: guardedCommand(), env: { PHYSODE_KERNEL_THREADS: process.env.PHYSODE_KERNEL_THREADS || '1' } });
}

export async function runJob(spec: JobSpec, signal?: AbortSignal, runners?: RunnerCache): Promise<JobOutcome> {
  switch (spec.kind) {
    case 'generate-shard': {
      const part = await generateShare({ ...spec.options, workers: 1 }, { positions: [spec.shard] }, { offMainThread: true, signal, runners });
      const entry = part.shards[0];
      const result: JobResult = { kind: 'generate-shard', file: entry.file, sha256: entry.sha256, trajectories: entry.count, computed: part.generatedShards > 0 };
      return { result, next: (await missingShardFiles(spec.options)) === 0 ? { kind: 'generate-finalize', options: spec.options } : undefined };
    }
    case 'generate-finalize': {
      const done = await finalizeDataset(spec.options);
      return { result: { kind: 'generate-finalize', dir: done.dir, shards: done.manifest.shards.length, maxRelEnergyError: done.manifest.stats.maxRelEnergyError } };
    }
    case 'reproduce-task': {
      const s = sweepSpec(spec.sweep);
      const part = await reproduceShare({ ...s, selection: { tasks: [spec.task] }, executor: executor(spec.sweep, signal), concurrency: 1 });
      const result: JobResult = { kind: 'reproduce-task', task: spec.task, runs: part.results.length, failed: part.results.filter((r) => r.status === 'failed').length, computed: part.ranNow > 0 };
      return { result, next: (await pendingTasks(s)).length === 0 ? { kind: 'reproduce-merge', sweep: spec.sweep, commandLine: `physode submit reproduce (queue) --out ${spec.sweep.out}` } : undefined };
    }
    case 'reproduce-merge': {
      const merged = await mergeShares({ ...sweepSpec(spec.sweep), commandLine: spec.commandLine, commands: executor(spec.sweep).describe(), environment: { ...staticEnvironment(), ...(spec.sweep.backend ? { backend: spec.sweep.backend } : {}) } });
      return { result: { kind: 'reproduce-merge', report: merged.reportFile, runs: merged.results.length, failed: merged.failed } };
    }
  }
}

/**
 * `npm run bench -- --only scale`: dataset generation on the BullMQ queue with 1, 2 and 4 local
 * `physode worker` processes against `physode generate --workers W` on the same machine, and the
 * queue's overhead per shard: (queue wall time - local wall time at the same parallelism) / shards.
 * Workers are started (and connected) before the clock starts, as long-running workers are; the
 * local runs include one process start, whose cost is printed on its own. Needs redis-server.
 * Options: --quick (fewer trajectories).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { physodeCommand } from '../src/reproduce/physode-command.js';
import { runChild } from '../src/reproduce/child-process.js';
import { parseRedisUrl } from '../src/queue/connection.js';
import { queueStatus } from '../src/queue/status.js';
import { freePort } from '../test/queue/redis-server.js';
import { planShards } from '../src/generate/plan.js';

const cmd = physodeCommand();
const env = { ...process.env, PHYSODE_KERNEL_THREADS: '1' };

async function physode(args: readonly string[]): Promise<number> {
  const start = performance.now();
  const r = await runChild(cmd.file, [...cmd.args, ...args], { env, timeoutSeconds: 1800 });
  if (r.code !== 0) throw new Error(`physode ${args.join(' ')} failed: ${r.stderr.slice(-500)}`);
  return (performance.now() - start) / 1000;
}

function startWorker(url: string, queue: string): Promise<ChildProcess> {
  const proc = spawn(cmd.file, [...cmd.args, 'worker', '--redis', url, '--queue', queue], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    proc.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('taking jobs')) resolve(proc);
    });
    proc.once('exit', () => reject(new Error(`worker exited: ${log}`)));
  });
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

export async function run(args: readonly string[]): Promise<void> {
  if (spawnSync('redis-server', ['--version']).error) {
    console.log('skipped: redis-server is not installed (apt-get install redis-server)');
    return;
  }
  const quick = args.includes('--quick');
  const root = mkdtempSync(join(tmpdir(), 'physode-bench-scale-'));
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', root], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const count = quick ? 480 : 1920;
  const shardSize = quick ? 30 : 60;
  const dataset = ['pendulum', '--count', String(count), '--samples', '200', '--t-end', '40', '--shard-size', String(shardSize)];
  const shards = planShards(count, [0.8, 0.1, 0.1], shardSize).length;
  try {
    await new Promise((r) => setTimeout(r, 300));
    const startup = await physode(['--version']);
    console.log(`pendulum, ${count} trajectories x 200 samples, t-end 40, ${shards} shards of up to ${shardSize}; one physode process start: ${startup.toFixed(2)} s`);
    console.log('(shared machine: other jobs may run at the same time; parallelism above the core count only adds contention)');
    console.log('parallelism  generate --workers W (traj/s)  queue, W workers (traj/s)  queue overhead per shard');
    for (const w of [1, 2, 4]) {
      const local = await physode(['generate', ...dataset, '--out', join(root, `local-${w}`), '--workers', String(w), '--quiet']);
      rmSync(join(root, `local-${w}`), { recursive: true, force: true });
      const queue = `bench-${w}`;
      const workers = await Promise.all(Array.from({ length: w }, () => startWorker(url, queue)));
      const target = { redis: parseRedisUrl(url), queue };
      const start = performance.now();
      await physode(['submit', 'generate', ...dataset, '--out', join(root, `queue-${w}`), '--redis', url, '--queue', queue]);
      while ((await queueStatus(target)).kinds['generate-finalize'].done < 1) await new Promise((r) => setTimeout(r, 50));
      const queued = (performance.now() - start) / 1000;
      await Promise.all(workers.map(stop));
      rmSync(join(root, `queue-${w}`), { recursive: true, force: true });
      const overheadMs = ((queued - local) / shards) * 1000;
      console.log(`${String(w).padStart(11)}  ${`${(count / local).toFixed(1)} (${local.toFixed(2)} s)`.padStart(29)}  ${`${(count / queued).toFixed(1)} (${queued.toFixed(2)} s)`.padStart(26)}  ${overheadMs.toFixed(0).padStart(20)} ms`);
    }
  } finally {
    redis.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
}

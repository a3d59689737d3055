/**
 * `npm run bench -- --only load [--requests N] [--count C] [--cache DIR] [--fresh] [--kinds trajectory,rollout]`: the viewer
 * server under load, on 127.0.0.1 only. A 20,000-trajectory pendulum dataset and a small trained
 * run are made once (reused from the cache folder, default $TMPDIR/physode-bench-load); the server
 * runs in its own process; N concurrent trajectory requests and N concurrent rollout requests
 * (default 100 each, distinct trajectories) are fired at once at a cold server, then again at a
 * warm one, while /api/health is polled. Prints the server's peak RSS, p50/p99 latency per kind
 * and the worst health latency. Targets (issue 12): peak RSS under 400 MB, health under 50 ms.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const REPO = new URL('..', import.meta.url).pathname;
const CLI = join(REPO, 'src', 'cli', 'run.ts');
/** Longest the whole load (both bursts) may take before the bench gives up. */
const LOAD_LIMIT_MS = 300_000;
/** Wait after the server listens before the first burst. */
const SETTLE_MS = 3000;

interface Timed {
  readonly status: number;
  readonly ms: number;
  readonly bytes: number;
}

/** One GET; the body is counted, not parsed, so that this process stays light while it measures. */
function timedGet(port: number, path: string, agent: Agent, timeoutMs = 150_000): Promise<Timed> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent, timeout: timeoutMs }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, bytes }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started, bytes: 0 }));
    req.end();
  });
}

/** "in N shards, M MB" for a dataset folder. */
function shardsText(dir: string): string {
  const shards = readdirSync(dir).filter((f) => f.endsWith('.npz'));
  const bytes = shards.reduce((a, f) => a + statSync(join(dir, f)).size, 0);
  return `in ${shards.length} shards, ${(bytes / 1e6).toFixed(1)} MB`;
}

function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/** VmRSS and VmHWM (peak) of a process in MiB, from /proc (Linux). */
function memoryOf(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

function physode(args: string[]): void {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`physode ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
}

/** The dataset and run, made once per cache folder. */
async function ensureFixtures(cache: string, count: number, fresh: boolean): Promise<{ datasets: string; runs: string }> {
  const datasets = join(cache, 'datasets');
  const runs = join(cache, 'runs');
  const data = join(datasets, `pendulum-${count}`);
  const run = join(runs, `pendulum-${count}-small`);
  if (fresh) await rm(cache, { recursive: true, force: true });
  await mkdir(datasets, { recursive: true });
  await mkdir(runs, { recursive: true });
  if (!existsSync(join(data, 'manifest.json'))) {
    const started = performance.now();
    physode(['generate', 'pendulum', '--count', String(count), '--out', data, '--workers', '2', '--force']);
    console.log(`made ${count}-trajectory pendulum dataset in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  if (!existsSync(join(run, 'summary.json'))) {
    await rm(run, { recursive: true, force: true });
    const started = performance.now();
    physode(['train', '--data', data, '--out', run, '--steps', '20', '--val-every', '20', '--checkpoint-every', '20', '--width', '16', '--depth', '1', '--batch-size', '32', '--bn-recalibration', '0', '--val-trajectories', '64', '--quiet']);
    console.log(`trained a small run (20 steps) in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  return { datasets, runs };
}

/** Starts the server in its own process (so its memory is its own) and resolves with its port. */
function startServerProcess(datasets: string, runs: string): Promise<{ child: ChildProcess; port: number; lines: string[] }> {
  const start = new URL('../src/server/start.ts', import.meta.url).href;
  // The server reports its own event-loop delay when told to stop: what a request waits in it.
  const code = `const { startServer } = await import(${JSON.stringify(start)});
const { monitorEventLoopDelay } = await import('node:perf_hooks');
const s = await startServer({ port: 0, host: '127.0.0.1', datasetsDir: ${JSON.stringify(datasets)}, runsDir: ${JSON.stringify(runs)}, serveViewer: false });
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
process.stdout.write(JSON.stringify({ port: s.port }) + '\\n');
const report = () => process.stdout.write(JSON.stringify({ delayMaxMs: delay.max / 1e6, delayP99Ms: delay.percentile(99) / 1e6 }) + '\\n');
process.on('SIGUSR2', () => (report(), delay.reset()));
process.on('SIGTERM', () => (report(), void s.close().then(() => process.exit(0))));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const parts = out.split('\n');
      out = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (lines.length === 1) resolve({ child, port: (JSON.parse(line) as { port: number }).port, lines });
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with code ${code}`)));
  });
}

interface Burst {
  readonly trajectories: Timed[];
  readonly rollouts: Timed[];
  readonly seconds: number;
}

async function burst(port: number, n: number, indices: readonly number[], run: string, dataset: string, kinds: readonly string[]): Promise<Burst> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const started = performance.now();
  const trajectories = Promise.all(kinds.includes('trajectory') ? indices.slice(0, n).map((i) => timedGet(port, `/api/datasets/${dataset}/trajectories/${i}`, agent)) : []);
  const rollouts = Promise.all(kinds.includes('rollout') ? indices.slice(n, 2 * n).map((i) => timedGet(port, `/api/runs/${run}/rollout?index=${i}`, agent)) : []);
  const [t, r] = await Promise.all([trajectories, rollouts]);
  agent.destroy();
  return { trajectories: t, rollouts: r, seconds: (performance.now() - started) / 1000 };
}

function describe(kind: string, replies: readonly Timed[]): string {
  const ok = replies.filter((r) => r.status === 200);
  const statuses = new Map<number, number>();
  for (const r of replies) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  const counts = [...statuses].map(([s, c]) => `${c}x ${s === 0 ? 'failed' : s}`).join(', ');
  const ms = replies.map((r) => r.ms);
  return `${kind.padEnd(12)} ${counts.padEnd(22)} p50 ${percentile(ms, 50).toFixed(0).padStart(6)} ms  p99 ${percentile(ms, 99).toFixed(0).padStart(6)} ms  (${ok.length ? (ok.reduce((a, r) => a + r.bytes, 0) / ok.length / 1024).toFixed(0) : '-'} KiB per answer)`;
}

export async function run(args: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    options: {
      requests: { type: 'string', default: '100' },
      count: { type: 'string', default: '20000' },
      cache: { type: 'string', default: join(os.tmpdir(), 'physode-bench-load') },
      fresh: { type: 'boolean', default: false },
      kinds: { type: 'string', default: 'trajectory,rollout' },
    },
  });
  const n = Number(values.requests);
  const count = Number(values.count);
  if (os.platform() !== 'linux') console.log('load: RSS is read from /proc: on this platform only latencies are reported');
  const { datasets, runs } = await ensureFixtures(values.cache!, count, values.fresh!);
  const dataset = `pendulum-${count}`;
  const run = `pendulum-${count}-small`;
  const loadBefore = os.loadavg()[0];
  const { child, port, lines } = await startServerProcess(datasets, runs);
  const pid = child.pid!;
  const idle = memoryOf(pid);
  const healthAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const health: number[] = [];
  let healthFailures = 0;
  let loading = true;
  let sampledPeak = 0;
  const poll = (async () => {
    while (loading) {
      const r = await timedGet(port, '/api/health', healthAgent, 10_000);
      if (r.status === 200) health.push(r.ms);
      else healthFailures++;
      sampledPeak = Math.max(sampledPeak, memoryOf(pid)?.rss ?? 0);
      await new Promise((res) => setTimeout(res, 10));
    }
  })();
  const limit = setTimeout(() => {
    console.log(`load: stopped after ${LOAD_LIMIT_MS / 1000} s`);
    child.kill('SIGKILL');
  }, LOAD_LIMIT_MS);
  try {
    // Distinct trajectories spread over the dataset (every split), none asked for twice.
    const spread = (k: number, offset: number) => Array.from({ length: 2 * k }, (_, i) => (offset + i * Math.floor(count / (2 * k))) % count);
    const kinds = values.kinds!.split(',');
    // The server as a user meets it: started and idle (its rollout worker loaded), caches empty,
    // shards not yet verified. The start-up's own event-loop delay is reported apart.
    await new Promise((res) => setTimeout(res, SETTLE_MS));
    child.kill('SIGUSR2');
    const startHealthWorst = Math.max(...health.splice(0));
    const cold = await burst(port, n, spread(n, 0), run, dataset, kinds);
    const coldHealth = health.splice(0);
    child.kill('SIGUSR2');
    const warm = await burst(port, n, spread(n, 7), run, dataset, kinds);
    loading = false;
    await poll;
    const mem = memoryOf(pid);
    const exited = new Promise((res) => child.once('exit', res));
    child.kill('SIGTERM');
    await exited;
    type Delay = { delayMaxMs: number; delayP99Ms: number };
    const [startDelay, coldDelay, warmDelay] = lines.slice(1, 4).map((l) => JSON.parse(l) as Delay);
    console.log(`server on 127.0.0.1 in its own process, ${dataset} (${count} trajectories ${shardsText(join(datasets, dataset))}), run ${run}; ${n} trajectory + ${n} rollout requests at once, twice`);
    console.log(`machine load average (1 min) at the start ${loadBefore.toFixed(2)}, at the end ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} cores (other work on the machine shows in the latencies)`);
    if (startDelay) console.log(`start-up (first ${SETTLE_MS / 1000} s: rollout worker loading, shards verified; no requests but health): server event-loop delay worst ${startDelay.delayMaxMs.toFixed(1)} ms`);
    console.log(`first burst (caches empty; the server verified the shards in its start-up): ${cold.seconds.toFixed(1)} s`);
    console.log(`  ${describe('trajectory', cold.trajectories)}`);
    console.log(`  ${describe('rollout', cold.rollouts)}`);
    console.log(`  health: ${coldHealth.length} polls, worst ${Math.max(...coldHealth).toFixed(1)} ms, p99 ${percentile(coldHealth, 99).toFixed(1)} ms`);
    if (coldDelay) console.log(`  server event-loop delay: worst ${coldDelay.delayMaxMs.toFixed(1)} ms, p99 ${coldDelay.delayP99Ms.toFixed(1)} ms`);
    console.log(`second burst (other trajectories and rollouts, nothing cached for them): ${warm.seconds.toFixed(1)} s`);
    console.log(`  ${describe('trajectory', warm.trajectories)}`);
    console.log(`  ${describe('rollout', warm.rollouts)}`);
    console.log(`  health: ${health.length} polls, worst ${Math.max(...health).toFixed(1)} ms, p99 ${percentile(health, 99).toFixed(1)} ms${healthFailures ? `, ${healthFailures} failed` : ''}`);
    if (warmDelay) console.log(`  server event-loop delay: worst ${warmDelay.delayMaxMs.toFixed(1)} ms, p99 ${warmDelay.delayP99Ms.toFixed(1)} ms`);
    if (mem && idle) {
      console.log(`server RSS: ${idle.rss.toFixed(0)} MiB idle after start, peak ${mem.peak.toFixed(0)} MiB (VmHWM; sampled peak ${sampledPeak.toFixed(0)} MiB), ${mem.rss.toFixed(0)} MiB after the load`);
    }
    const worstHealth = Math.max(...coldHealth, ...health);
    console.log(`health during start-up: worst ${startHealthWorst.toFixed(1)} ms (not counted below)`);
    console.log(`targets: peak RSS < 400 MB ${mem ? (mem.peak * 1.048576 < 400 ? 'met' : 'MISSED') : 'not measured'}; health < 50 ms ${worstHealth < 50 ? 'met' : 'MISSED'} (worst ${worstHealth.toFixed(1)} ms)`);
    console.log('  the load generator runs in this process on the same machine: latencies include its share of the CPU');
  } finally {
    clearTimeout(limit);
    loading = false;
    healthAgent.destroy();
    child.kill('SIGTERM');
  }
}

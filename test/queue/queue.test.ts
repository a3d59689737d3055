/**
 * The BullMQ queue against a real redis-server: a generation and a small sweep submitted, taken by
 * three worker processes, one of them killed with SIGKILL in the middle of a job; the results equal
 * a local run's (the dataset byte for byte, the sweep's results row for row). Submitting twice adds
 * nothing; connection errors, a bad job spec and a Redis restart are one-line messages.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { queueStatus } from '../../src/queue/status.js';
import { parseRedisUrl } from '../../src/queue/connection.js';
import { submitJobs } from '../../src/queue/producer.js';
import { jobId } from '../../src/queue/jobs.js';
import { RESULTS_HEADER } from '../../src/reproduce/results-store.js';
import { freePort, redisMissing, startRedis, type TestRedis } from './redis-server.js';
import { WorkerProcess, folderHashes, physode, waitFor } from './cluster.js';

let redis: TestRedis;
let root: string;
const workers: WorkerProcess[] = [];

async function killMidJob(pool: readonly WorkerProcess[], kind: string): Promise<{ victim: WorkerProcess; job: string }> {
  const started = new RegExp(`started\\s+${kind} (\\S+)`, 'g');
  let found: { victim: WorkerProcess; job: string } | undefined;
  await waitFor(`a worker to start a ${kind} job`, () => {
    for (const w of pool) {
      const ids = [...w.log.matchAll(started)].map((m) => m[1]);
      const running = ids.find((id) => !w.log.includes(`done      ${kind} ${id}`));
      if (running) {
        found = { victim: w, job: running };
        return true;
      }
    }
    return false;
  }, 120_000, 10);
  await found!.victim.stop('SIGKILL');
  assert.ok(!found!.victim.log.includes(`done      ${kind} ${found!.job}`), 'killed before its job finished');
  return found!;
}

/** results.csv without the wall-clock columns, which differ between any two runs. */
function resultsWithoutTimes(file: string): string[] {
  const drop = new Set(['train_seconds', 'eval_seconds'].map((c) => RESULTS_HEADER.indexOf(c as (typeof RESULTS_HEADER)[number])));
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(',').filter((_, i) => !drop.has(i)).join(','));
}

describe('physode submit / worker / status on Redis', { skip: redisMissing, timeout: 600_000 }, () => {
  before(async () => {
    redis = await startRedis();
    root = mkdtempSync(join(tmpdir(), 'physode-queue-'));
  });
  after(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await redis?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('a generation on 3 workers, one killed mid-shard, equals the local dataset byte for byte', async () => {
    const queue = 'gen';
    const out = join(root, 'queued');
    const args = ['pendulum', '--count', '120', '--samples', '200', '--t-end', '200', '--shard-size', '20', '--seed', '5'];
    const first = await physode(['submit', 'generate', ...args, '--out', out, '--redis', redis.url, '--queue', queue]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /generate: 7 job\(s\) added to queue 'gen'/);
    const again = await physode(['submit', 'generate', ...args, '--out', out, '--redis', redis.url, '--queue', queue]);
    assert.match(again.stdout, /generate: 0 job\(s\) added .*7 already there/);

    const pool = [0, 1, 2].map(() => new WorkerProcess(['--redis', redis.url, '--queue', queue, '--lock-duration', '1000']));
    workers.push(...pool);
    const { victim, job } = await killMidJob(pool, 'generate-shard');
    const target = { redis: parseRedisUrl(redis.url), queue };
    await waitFor('the finalizing job', async () => (await queueStatus(target)).kinds['generate-finalize'].done === 1, 180_000, 250);
    const status = await queueStatus(target);
    assert.deepEqual(status.kinds['generate-shard'], { waiting: 0, active: 0, done: 7, failed: 0 });
    // The killed worker's shard was redone by another worker.
    assert.ok(pool.some((w) => w !== victim && w.log.includes(`started   generate-shard ${job}`)), pool.map((w) => w.log).join('\n---\n'));

    const local = join(root, 'local');
    const g = await physode(['generate', ...args, '--out', local, '--workers', '2', '--quiet']);
    assert.equal(g.code, 0, g.stderr);
    assert.deepEqual(folderHashes(out), folderHashes(local), 'same files, same SHA-256');
    assert.equal(readdirSync(out).length, 8, '7 shards and the manifest, no temporary files');
    const inspect = await physode(['inspect', out]);
    assert.match(inspect.stdout, /valid\s+yes/);

    const shown = await physode(['status', '--redis', redis.url, '--queue', queue]);
    assert.match(shown.stdout, /generate-shard\s*:? .*7\/7 jobs \(100%\).*failed 0/);
    for (const w of pool) await w.stop();
  });

  test('a small sweep on 3 workers, one killed mid-training, gives the results of a local run', async () => {
    const queue = 'sweep';
    const out = join(root, 'sweep-queued');
    const sweep = ['--profile', 'smoke', '--systems', 'pendulum', '--experiments', 'outliers,solvers'];
    const s = await physode(['submit', 'reproduce', ...sweep, '--out', out, '--redis', redis.url, '--queue', queue]);
    assert.equal(s.code, 0, s.stderr);
    const jobs = Number(/reproduce: (\d+) job/.exec(s.stdout)?.[1]);
    assert.ok(jobs >= 3, s.stdout);
    const pool = [0, 1, 2].map(() => new WorkerProcess(['--redis', redis.url, '--queue', queue, '--lock-duration', '1000']));
    workers.push(...pool);
    await killMidJob(pool, 'reproduce-task');
    const target = { redis: parseRedisUrl(redis.url), queue };
    await waitFor('the report', async () => (await queueStatus(target)).kinds['reproduce-merge'].done === 1, 400_000, 500);
    assert.deepEqual((await queueStatus(target)).kinds['reproduce-task'], { waiting: 0, active: 0, done: jobs, failed: 0 });
    for (const w of pool) await w.stop();

    const local = join(root, 'sweep-local');
    const l = await physode(['reproduce', ...sweep, '--out', local, '--jobs', '1'], 400);
    assert.equal(l.code, 0, l.stderr);
    assert.deepEqual(resultsWithoutTimes(join(out, 'results.csv')), resultsWithoutTimes(join(local, 'results.csv')));
    assert.ok(resultsWithoutTimes(join(out, 'results.csv')).slice(1).every((row) => row.includes(',ok,')), 'every run succeeded');
    assert.equal(readFileSync(join(out, 'verdicts.json'), 'utf8'), readFileSync(join(local, 'verdicts.json'), 'utf8'));
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /## 2\. Outliers/);
  });

  test('submitting again puts a job that failed all its tries back to waiting, with its tries counted afresh, and leaves waiting jobs alone', async () => {
    const target = { redis: parseRedisUrl(redis.url), queue: 'resubmit' };
    const spec = { kind: 'generate-shard' as const, options: { system: 'pendulum', out: join(root, 'resubmit'), count: 4 }, shard: 0 };
    assert.deepEqual({ ...(await submitJobs(target, [spec], { attempts: 2 })), ids: [] }, { added: 1, retried: 0, alreadyQueued: 0, ids: [] });
    // A worker that fails every try (as a full disk would), then goes away.
    const failing = new Worker('resubmit', async () => {
      throw new Error('disk full');
    }, { connection: { url: redis.url } });
    const q = new Queue('resubmit', { connection: { url: redis.url } });
    const id = jobId(spec);
    await waitFor('the job to fail both tries', async () => (await q.getJobState(id)) === 'failed', 30_000, 50);
    await failing.close();
    assert.equal((await q.getJob(id))?.attemptsMade, 2);
    assert.deepEqual({ ...(await submitJobs(target, [spec], { attempts: 2 })), ids: [] }, { added: 0, retried: 1, alreadyQueued: 0, ids: [] });
    assert.equal(await q.getJobState(id), 'waiting');
    assert.equal((await q.getJob(id))?.attemptsMade, 0);
    assert.deepEqual({ ...(await submitJobs(target, [spec], { attempts: 2 })), ids: [] }, { added: 0, retried: 0, alreadyQueued: 1, ids: [] });
    await q.obliterate({ force: true });
    await q.close();
  });

  test('a wrong URL, an unreachable server, a bad job spec and a Redis restart each get a clear one-line message', async () => {
    const bad = await physode(['submit', 'generate', 'pendulum', '--out', join(root, 'x'), '--redis', 'http://127.0.0.1:1']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--redis 'http:\/\/127\.0\.0\.1:1' is not a Redis URL/);
    const port = await freePort();
    const down = await physode(['status', '--redis', `redis://127.0.0.1:${port}`]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, new RegExp(`cannot reach Redis at 127\\.0\\.0\\.1:${port}: connection refused[\\s;]+hint: start redis-server`));
    const noWorker = await physode(['worker', '--redis', `redis://127.0.0.1:${port}`]);
    assert.match(noWorker.stderr, /cannot reach Redis .* connection refused/);

    const queueName = 'errors';
    const worker = new WorkerProcess(['--redis', redis.url, '--queue', queueName, '--lock-duration', '1000']);
    workers.push(worker);
    await waitFor('the worker to start', () => worker.log.includes('taking jobs'), 30_000);
    const q = new Queue(queueName, { connection: { url: redis.url } });
    await q.add('generate-shard', { kind: 'generate-shard', options: { system: 'pendulum', out: join(root, 'never') }, shard: -1 }, { jobId: 'bad-spec', attempts: 3 });
    await q.add('generate-shard', { kind: 'generate-shard', options: { system: 'pendulum', out: join(root, 'refused'), count: 0 }, shard: 0 }, { jobId: 'refused-options', attempts: 3 });
    await q.close();
    await waitFor('both jobs to fail', () => /failed\s+generate-shard bad-spec/.test(worker.log) && /failed\s+generate-shard refused-options/.test(worker.log), 30_000);
    assert.match(worker.log, /failed\s+generate-shard bad-spec: invalid job spec: shard: .*\n/);
    assert.match(worker.log, /failed\s+generate-shard refused-options: --count must be a positive integer/);
    assert.doesNotMatch(worker.log, /will retry/, 'an invalid spec is not retried');
    assert.ok(!existsSync(join(root, 'refused')), 'nothing written for a refused job');
    const shown = await physode(['status', '--redis', redis.url, '--queue', queueName]);
    assert.match(shown.stdout, /failed bad-spec: invalid job spec/);

    await redis.stop();
    await waitFor('the worker to notice', () => /Redis at 127\.0\.0\.1:\d+.*; waiting for it to come back/.test(worker.log), 30_000);
    await redis.start();
    await waitFor('the worker to reconnect', () => worker.log.includes('Redis is back; carrying on'), 30_000);
    // It works again: a fresh submission is done by the same worker.
    const out = join(root, 'after-restart');
    const s = await physode(['submit', 'generate', 'pendulum', '--count', '8', '--samples', '10', '--shard-size', '4', '--out', out, '--redis', redis.url, '--queue', queueName]);
    assert.equal(s.code, 0, s.stderr);
    await waitFor('the dataset', () => existsSync(join(out, 'manifest.json')) && JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).complete === true, 60_000, 200);
    assert.equal(worker.log.trim().split('\n').filter((l) => /waiting for it to come back/.test(l)).length, 1, 'one line per outage');
    await worker.stop();
  });
});

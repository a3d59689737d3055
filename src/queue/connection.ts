/**
 * Where the queue lives: a Redis URL checked before use, and one-line errors for the ways reaching
 * it goes wrong (a malformed URL, nothing listening, a wrong password, a timeout).
 */
import { Redis, type RedisOptions } from 'ioredis';
import { PhysodeError } from '../util/errors.js';

export const DEFAULT_QUEUE = 'physode';

export class QueueConnectionError extends PhysodeError {}

export interface RedisTarget {
  readonly url: string;
  /** host:port for messages (no password). */
  readonly where: string;
}

export function parseRedisUrl(text: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new QueueConnectionError(`--redis '${text}' is not a URL`, 'e.g. --redis redis://127.0.0.1:6379 (rediss:// for TLS; redis://:password@host:port/db)');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new QueueConnectionError(`--redis '${text}' is not a Redis URL (scheme ${u.protocol})`, 'e.g. --redis redis://127.0.0.1:6379');
  }
  if (u.pathname.length > 1 && !/^\/\d+$/.test(u.pathname)) {
    throw new QueueConnectionError(`--redis '${text}': the path must be a database number, got '${u.pathname}'`, 'e.g. redis://127.0.0.1:6379/0');
  }
  return { url: text, where: `${u.hostname || '127.0.0.1'}:${u.port || '6379'}` };
}

/**
 * ioredis options for the short-lived clients (submit, status): a command fails after two
 * reconnection attempts instead of waiting for Redis forever. (Workers wait: see worker.ts.)
 */
export function bullConnection(target: RedisTarget): RedisOptions & { url: string } {
  return { url: target.url, maxRetriesPerRequest: 2, connectTimeout: 5000 };
}

/** Turns a connection failure into one line naming the server and the likely fix. */
export function describeConnectionError(target: RedisTarget, err: unknown): QueueConnectionError {
  const e = err as NodeJS.ErrnoException;
  const text = e?.message ?? String(err);
  if (e?.code === 'ECONNREFUSED') return new QueueConnectionError(`cannot reach Redis at ${target.where}: connection refused`, 'start redis-server there, or fix --redis');
  if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN') return new QueueConnectionError(`cannot reach Redis at ${target.where}: unknown host`, 'fix the host name in --redis');
  if (/NOAUTH|WRONGPASS|invalid password|invalid username/i.test(text)) return new QueueConnectionError(`Redis at ${target.where} refused the credentials: ${text}`, 'give the password in the URL: redis://:password@host:port');
  if (/ETIMEDOUT|timed? ?out/i.test(text)) return new QueueConnectionError(`cannot reach Redis at ${target.where}: timed out`, 'check the address and that a firewall lets the port through');
  return new QueueConnectionError(`cannot use Redis at ${target.where}: ${text}`, 'check --redis and that the server is running');
}

/** Connects once, without retrying, and pings: fails fast with a one-line error instead of waiting forever. */
export async function probeRedis(target: RedisTarget, timeoutMs = 3000): Promise<void> {
  const client = new Redis(target.url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // connect() rejects with a generic "Connection is closed"; the cause comes as an 'error' event.
  let cause: unknown;
  client.on('error', (err) => (cause ??= err));
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw describeConnectionError(target, cause ?? err);
  } finally {
    client.disconnect();
  }
}

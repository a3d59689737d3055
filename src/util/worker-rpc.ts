/**
 * The one request/reply protocol between this process and its worker threads. The main side
 * sends `{ id, request }`; the worker answers `{ id, ok: true, result }` or `{ id, ok: false,
 * error }` with the error serialised (message, hint, and whether it was a PhysodeError), and
 * handles requests one at a time, in order. Large typed arrays travel as transfers, not copies.
 */
import { parentPort, type Transferable, type Worker, type WorkerOptions } from 'node:worker_threads';
import { PhysodeError } from './errors.js';
import { startModuleWorker } from './worker.js';

export interface RpcErrorInfo {
  readonly message: string;
  readonly hint?: string;
  /** The worker threw a PhysodeError (an expected failure with a hint), not a bug. */
  readonly physode: boolean;
}

type Reply<Res> = { readonly id: number; readonly ok: true; readonly result: Res } | { readonly id: number; readonly ok: false; readonly error: RpcErrorInfo };

/** The failure a worker reported, or the worker's own death; `remote` says which. */
export class WorkerCallError extends PhysodeError {
  constructor(
    message: string,
    hint: string | undefined,
    /** What the worker threw; absent when the worker failed or exited. */
    readonly remote?: RpcErrorInfo,
  ) {
    super(message, hint);
  }
}

export interface RpcClient<Req, Res> {
  /** Sends one request; the promise settles with the worker's reply (rejects with WorkerCallError). */
  call(request: Req, transfer?: readonly Transferable[]): Promise<Res>;
  /** Requests sent and not answered yet. */
  readonly pending: number;
  readonly worker: Worker;
  /** Terminates the worker; pending calls reject. */
  close(): Promise<void>;
}

/**
 * Starts the module `name` next to `callerUrl` as a worker (see worker.ts) and returns its client.
 * `label` names the worker in messages ("a generator worker").
 */
export function startRpcWorker<Req, Res>(callerUrl: string, name: string, label: string, options: WorkerOptions = {}): RpcClient<Req, Res> {
  const worker = startModuleWorker(callerUrl, name, options);
  const waiting = new Map<number, { resolve: (r: Res) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let dead: WorkerCallError | undefined;
  const failAll = (err: WorkerCallError): void => {
    dead ??= err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  worker.on('message', (reply: Reply<Res>) => {
    const w = waiting.get(reply.id);
    if (!w) return;
    waiting.delete(reply.id);
    if (reply.ok) w.resolve(reply.result);
    else w.reject(new WorkerCallError(reply.error.message, reply.error.hint, reply.error));
  });
  worker.on('error', (err) => failAll(new WorkerCallError(`${label} failed: ${err.message}`, 'this is a bug: please report it with the command that ran')));
  worker.on('exit', (code) => failAll(new WorkerCallError(`${label} exited with code ${code}`, undefined)));
  return {
    call(request, transfer = []) {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise<Res>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, request }, [...transfer]);
      });
    },
    get pending() {
      return waiting.size;
    },
    worker,
    async close() {
      failAll(new WorkerCallError(`${label} was stopped`, undefined));
      await worker.terminate();
    },
  };
}

/** Worker side: answers each request with `handle` (one at a time, in order); `transferOf` lists a result's buffers to transfer. */
export function serveRpc<Req, Res>(handle: (request: Req) => Res | Promise<Res>, transferOf: (result: Res) => Transferable[] = () => []): void {
  const port = parentPort;
  if (!port) throw new Error('serveRpc must run in a worker thread');
  let queue = Promise.resolve();
  port.on('message', ({ id, request }: { id: number; request: Req }) => {
    queue = queue.then(async () => {
      let reply: Reply<Res>;
      let transfer: Transferable[] = [];
      try {
        const result = await handle(request);
        reply = { id, ok: true, result };
        transfer = transferOf(result);
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        reply = { id, ok: false, error: { message: e.message, hint: e instanceof PhysodeError ? e.hint : undefined, physode: e instanceof PhysodeError } };
      }
      port.postMessage(reply, transfer);
    });
  });
}

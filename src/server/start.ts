/** Starts the viewer's server: builds the viewer if needed, listens, and says where. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { PhysodeError } from '../util/errors.js';
import { createApp } from './app.js';
import { workerPredictor } from './predictor.js';
import { ensureViewerBuilt } from './viewer-build.js';
import { allowedHostsFor } from './host-check.js';
import { listDatasets } from './catalog.js';

export interface ServerOptions {
  /** Port to listen on; 0 picks a free one. Default 8787. */
  readonly port?: number;
  /**
   * Interface to bind; default 127.0.0.1 (loopback only). Requests are answered when their Host
   * header names loopback or this host (for 0.0.0.0 or ::, any address of this machine).
   */
  readonly host?: string;
  /** Default ./datasets. */
  readonly datasetsDir?: string;
  /** Default ./runs. */
  readonly runsDir?: string;
  /** Serve the page (default true); the viewer is built first if missing or stale. */
  readonly serveViewer?: boolean;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

export const DEFAULT_PORT = 8787;

/** Starts the server and resolves once it listens. */
export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const serveViewer = opts.serveViewer ?? true;
  if (serveViewer) await ensureViewerBuilt();
  const worker = workerPredictor();
  const datasetsDir = resolve(opts.datasetsDir ?? 'datasets');
  const app = createApp({
    datasetsDir,
    runsDir: resolve(opts.runsDir ?? 'runs'),
    predictor: worker.predict,
    serveViewer,
    allowedHosts: allowedHostsFor(host),
  });
  const server = await new Promise<Server>((ok, fail) => {
    const s = app.listen(opts.port ?? DEFAULT_PORT, host);
    s.once('listening', () => ok(s));
    s.once('error', (err: NodeJS.ErrnoException) => {
      void worker.close();
      if (err.code === 'EADDRINUSE') fail(new PhysodeError(`port ${opts.port ?? DEFAULT_PORT} on ${host} is already in use`, 'pick another with --port, or --port 0 for any free port'));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') fail(new PhysodeError(`cannot bind to host ${host}`, 'use --host 127.0.0.1 (loopback) or an address of this machine'));
      else fail(err);
    });
  });
  // The rollout worker starts now, not on the first rollout request (its start-up is not free for
  // the event loop, and the first request would wait for it).
  worker.prestart();
  // So are the listing's checks: manifests parsed, shards verified (streamed, once per file
  // version), in the background, so that the first page load finds them done.
  void listDatasets(datasetsDir).catch(() => undefined);
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    server,
    async close() {
      await Promise.all([
        new Promise<void>((ok) => {
          server.close(() => ok());
          server.closeAllConnections();
        }),
        worker.close(),
      ]);
    },
  };
}

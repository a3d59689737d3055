/** A raw HTTP GET for tests: sends the path exactly as given (fetch would normalise `..`). */
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The parsed JSON body, or undefined when it is not JSON. */
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test-only JSON
}

/**
 * `headers.host` replaces the Host header (127.0.0.1:port by default); `host: null` sends none.
 */
export function get(port: number, path: string, method = 'GET', headers: { host?: string | null } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const setHost = headers.host !== null;
    const extra = typeof headers.host === 'string' ? { host: headers.host } : {};
    const req = request({ host: '127.0.0.1', port, path, method, setHost, headers: extra }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Serves `app` on 127.0.0.1 at a free port; `close` ends its connections and the server. */
export async function listenOnLoopback(app: { listen(port: number, host: string): Server }): Promise<{ port: number; close: () => Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

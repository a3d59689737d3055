/** A raw HTTP GET for tests: sends the path exactly as given (fetch would normalise `..`). */
import { request } from 'node:http';

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

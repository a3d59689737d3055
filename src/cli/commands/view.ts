/** `physode view`: serve the 3D viewer and its JSON API over the datasets and runs folders. */
import { parseArgs } from 'node:util';
import { stat } from 'node:fs/promises';
import type { Command } from '../command.js';
import { InvalidArgumentError } from '../../util/errors.js';
import { DEFAULT_PORT, startServer } from '../../server/start.js';

const usage = `usage: physode view [--port P] [--host H] [--datasets DIR] [--runs DIR]

Serves the viewer (true versus predicted motion in 3D, with error and energy plots) and its JSON
API (src/server/README.md), then prints the URL. Stop it with Ctrl-C.

options:
  --port P        port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  --host H        interface to bind (default 127.0.0.1, this machine only); requests must
                  name loopback or H as their host (for 0.0.0.0, any address of this machine)
  --datasets DIR  folder of datasets (default ./datasets)
  --runs DIR      folder of training runs (default ./runs)`;

function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new InvalidArgumentError(`--port must be a whole number from 0 to 65535, got '${text}'`, 'for example --port 8787');
  }
  return Number(text);
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export const command: Command = {
  name: 'view',
  summary: 'serve the 3D viewer of true versus predicted trajectories',
  usage,
  async run(argv) {
    const { values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        datasets: { type: 'string' },
        runs: { type: 'string' },
      },
    });
    const datasetsDir = values.datasets ?? 'datasets';
    if (values.datasets !== undefined && !(await isFolder(datasetsDir))) {
      // A usage error (exit 2, like an unknown option): the folder named does not exist.
      process.stderr.write(`physode view: --datasets folder '${datasetsDir}' does not exist or is not a folder; pass an existing folder, or make one with physode generate <system> --out ${datasetsDir}/<name>\n`);
      return 2;
    }
    const running = await startServer({
      port: values.port === undefined ? DEFAULT_PORT : parsePort(values.port),
      host: values.host ?? '127.0.0.1',
      datasetsDir,
      runsDir: values.runs ?? 'runs',
    });
    process.stdout.write(`physode view: serving ${values.datasets ?? 'datasets'}/ and ${values.runs ?? 'runs'}/ at ${running.url}\n`);
    await new Promise<void>((done) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void running.close().then(done);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  },
};

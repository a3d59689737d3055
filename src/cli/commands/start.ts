/**
 * `physode start` (what `npm start` runs): the main job on an embedded default. Generates a small
 * pendulum dataset and a small three-body dataset if absent, trains a small TA-BN model on each if
 * absent (resuming one that was interrupted), then serves the viewer. Rerunning reuses what exists.
 * It only sequences the other commands, so each step prints exactly what that command prints.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';

interface Demo {
  readonly name: string;
  readonly generate: readonly string[];
  readonly train: readonly string[];
}

/** The embedded default: small enough for a couple of minutes on 2 cores. */
const DEMOS: readonly Demo[] = [
  {
    name: 'pendulum',
    generate: ['pendulum', '--count', '256', '--samples', '100', '--t-end', '10', '--seed', '1'],
    train: ['--norm', 'tabn', '--steps', '1200', '--seed', '1'],
  },
  {
    name: 'three-body',
    generate: ['nbody', '--preset', 'random', '--bodies', '3', '--count', '128', '--samples', '100', '--t-end', '2', '--seed', '1'],
    train: ['--norm', 'tabn', '--steps', '1500', '--batch-size', '64', '--width', '128', '--seed', '1'],
  },
];

const usage = `usage: physode start [--datasets DIR] [--runs DIR] [--port P] [--host H] [--no-view]

The main job on an embedded default: for a pendulum and a random three-body system, generate a
small dataset (DIR/<name>) and train a small TA-BN Neural ODE on it (RUNS/<name>-tabn) unless they
already exist, then serve the viewer and print its URL. Rerunning reuses what exists; an
interrupted training resumes from its last checkpoint.

  --datasets DIR   where datasets live (default datasets)
  --runs DIR       where runs live (default runs)
  --port P         viewer port (default 8787)
  --host H         viewer interface (default 127.0.0.1)
  --no-view        stop after training (do not start the viewer)`;

async function runCommand(name: string, argv: readonly string[]): Promise<void> {
  const { command } = (await import(`./${name}.js`)) as { command: Command };
  process.stderr.write(`\n$ physode ${name} ${argv.join(' ')}\n`);
  const code = await command.run(argv);
  if (code !== 0) throw new Error(`physode ${name} exited with code ${code}`);
}

export const command: Command = {
  name: 'start',
  summary: 'generate small datasets, train small TA-BN models, serve the viewer (npm start)',
  usage,
  async run(argv) {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        datasets: { type: 'string', default: 'datasets' },
        runs: { type: 'string', default: 'runs' },
        port: { type: 'string' },
        host: { type: 'string' },
        'no-view': { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    for (const demo of DEMOS) {
      const data = join(values.datasets, demo.name);
      const run = join(values.runs, `${demo.name}-tabn`);
      if (existsSync(join(data, 'manifest.json'))) {
        process.stderr.write(`dataset ${data}: present, reused\n`);
      } else {
        await runCommand('generate', [...demo.generate, '--out', data]);
      }
      if (existsSync(join(run, 'model', 'config.json'))) {
        process.stderr.write(`run ${run}: trained, reused\n`);
      } else {
        const resume = existsSync(join(run, 'checkpoints', 'last')) ? ['--resume'] : [];
        await runCommand('train', ['--data', data, '--out', run, ...demo.train, ...resume]);
      }
    }
    if (values['no-view']) return 0;
    const viewArgs = ['--datasets', values.datasets, '--runs', values.runs];
    if (values.port) viewArgs.push('--port', values.port);
    if (values.host) viewArgs.push('--host', values.host);
    await runCommand('view', viewArgs);
    return 0;
  },
};

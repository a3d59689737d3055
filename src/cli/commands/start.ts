/**
 * `physode start` (what `npm start` runs): the main job on an embedded default. Generates a small
 * pendulum dataset and a small double-pendulum dataset if absent, trains a small TA-BN model on
 * each unless its training finished (resuming one that was interrupted), then serves the viewer.
 * It only sequences the other commands, so each step prints exactly what that command prints.
 *
 * A run counts as trained only when `train` wrote its completion marker (run-folder.ts,
 * trained.json) after running all its steps; a model/ folder alone is the best model of an
 * unfinished training, and that training is resumed from checkpoints/last.
 */
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { PhysodeError } from '../../util/errors.js';

interface Demo {
  readonly name: string;
  readonly generate: readonly string[];
  readonly train: readonly string[];
}

/**
 * The embedded default, measured on 2 cores (README, "Set up"): the best validation MSE of the
 * pendulum reaches 0.65 % of predicting the mean in 1200 steps (27 s); that of the double pendulum,
 * over 5 s of its chaotic motion, 8.6 % in 1500 steps (36 s). The random three-body system does not
 * learn at this size (its validation MSE rises through training), so it is not a demo.
 */
const DEMOS: readonly Demo[] = [
  {
    name: 'pendulum',
    generate: ['pendulum', '--count', '256', '--samples', '100', '--t-end', '10', '--seed', '1'],
    train: ['--norm', 'tabn', '--steps', '1200', '--seed', '1'],
  },
  {
    name: 'double-pendulum',
    generate: ['double-pendulum', '--count', '256', '--samples', '100', '--t-end', '5', '--seed', '1'],
    train: ['--norm', 'tabn', '--steps', '1500', '--seed', '1'],
  },
];

/**
 * `--quick`: the same demos in miniature (seconds on 2 cores), for tests and a first look at the
 * commands; its models are too small and too briefly trained to learn the dynamics.
 */
const QUICK_DEMOS: readonly Demo[] = DEMOS.map((d) => ({
  name: d.name,
  generate: [d.generate[0], '--count', '24', '--samples', '20', '--t-end', '2', '--seed', '1'],
  train: ['--norm', 'tabn', '--steps', '300', '--batch-size', '16', '--width', '16', '--val-every', '100', '--log-every', '10', '--checkpoint-every', '10', '--seed', '1'],
}));

/** What the trainer writes into a new run folder before its first checkpoint. */
const FIRST_FILES = new Set(['config.json', 'metrics.jsonl']);

const usage = `usage: physode start [--datasets DIR] [--runs DIR] [--port P] [--host H] [--no-view] [--quick]

The main job on an embedded default: for a pendulum and a double pendulum, generate a small
dataset (DIR/<name>) and train a small TA-BN Neural ODE on it (RUNS/<name>-tabn), then serve the
viewer and print its URL. Rerunning reuses what is done: a dataset with its manifest, a run whose
training ran all its steps (RUNS/<name>-tabn/trained.json); an interrupted training (Ctrl-C, or
the process killed) resumes from its last checkpoint.

  --datasets DIR   where datasets live (default datasets)
  --runs DIR       where runs live (default runs)
  --port P         viewer port (default 8787)
  --host H         viewer interface (default 127.0.0.1)
  --no-view        stop after training (do not start the viewer)
  --quick          tiny datasets and 300-step trainings (seconds; for tests and a first look
                   at the commands: these models do not learn the dynamics)`;

/** The train command's exit code when it stopped on SIGINT or SIGTERM (with a checkpoint). */
const INTERRUPTED = 130;

async function runCommand(name: string, argv: readonly string[]): Promise<number> {
  const { command } = (await import(`./${name}.js`)) as { command: Command };
  process.stderr.write(`\n$ physode ${name} ${argv.join(' ')}\n`);
  return command.run(argv);
}

/**
 * A run folder that a killed training left before its first checkpoint holds nothing to resume and
 * nothing trained: it is cleared so that the training starts again. Anything else is left alone.
 */
/**
 * A finished run is reused only with the dataset it was trained on (config.json records its
 * manifest's SHA-256): a dataset regenerated since would pair the model with other trajectories.
 */
async function checkTrainedOn(run: string, data: string): Promise<void> {
  const recorded = await readFile(join(run, 'config.json'), 'utf8')
    .then((t) => (JSON.parse(t) as { dataset?: { manifestSha256?: unknown } }).dataset?.manifestSha256)
    .catch(() => undefined);
  const current = createHash('sha256').update(await readFile(join(data, 'manifest.json'))).digest('hex');
  if (recorded !== current) {
    throw new PhysodeError(
      `${run} was trained on another version of ${data} (its config.json records another manifest checksum)`,
      `move ${run} away to train it again on this dataset, or restore the dataset it was trained on`,
    );
  }
}

async function clearUnstartedRun(run: string): Promise<void> {
  if (!existsSync(run) || existsSync(join(run, 'checkpoints', 'last'))) return;
  const entries = (await readdir(run)).filter((e) => !e.startsWith('.'));
  if (entries.length > 0 && entries.every((e) => FIRST_FILES.has(e))) await rm(run, { recursive: true, force: true });
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
        quick: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    const { readTrainedMarker } = await import('../../train/run-folder.js');
    const { compareWithMeanPredictor, meanPredictorWarning } = await import('../../train/metrics.js');
    for (const demo of values.quick ? QUICK_DEMOS : DEMOS) {
      const data = join(values.datasets, demo.name);
      const run = join(values.runs, `${demo.name}-tabn`);
      if (existsSync(join(data, 'manifest.json'))) {
        process.stderr.write(`dataset ${data}: present, reused\n`);
      } else {
        const code = await runCommand('generate', [...demo.generate, '--out', data]);
        if (code !== 0) throw new PhysodeError(`physode generate exited with code ${code}`, 'see its message above; rerun physode start to resume the generation');
      }
      const marker = await readTrainedMarker(run);
      if (marker !== null) {
        await checkTrainedOn(run, data);
        process.stderr.write(`run ${run}: trained (${marker.steps} steps), reused\n`);
        const warning = meanPredictorWarning(compareWithMeanPredictor(marker.bestValMse ?? Number.NaN, marker.meanPredictorValMse), 'its validation MSE');
        if (warning !== null) process.stderr.write(`warning: ${warning}\n`);
        continue;
      }
      await clearUnstartedRun(run);
      const resume = existsSync(join(run, 'checkpoints', 'last')) ? ['--resume'] : [];
      const code = await runCommand('train', ['--data', data, '--out', run, ...demo.train, ...resume]);
      if (code === INTERRUPTED) {
        process.stderr.write(`physode start: interrupted; run it again (npm start) to resume the training of ${run} from its checkpoint\n`);
        return INTERRUPTED;
      }
      if (code !== 0) throw new PhysodeError(`physode train exited with code ${code}`, 'see its message above');
      if ((await readTrainedMarker(run)) === null) {
        throw new PhysodeError(`the training of ${run} stopped before its last step`, 'run physode start again to resume it');
      }
    }
    if (values['no-view']) return 0;
    const viewArgs = ['--datasets', values.datasets, '--runs', values.runs];
    if (values.port) viewArgs.push('--port', values.port);
    if (values.host) viewArgs.push('--host', values.host);
    return runCommand('view', viewArgs);
  },
};

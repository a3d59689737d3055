/** `physode rollout RUN --data DIR`: write rollouts.npz (true and predicted states) for chosen samples. */
import { dirname, resolve } from 'node:path';
import { checkWritableFolder } from '../../util/fs.js';
import type { Command } from '../command.js';
import { InvalidArgumentError } from '../../util/errors.js';
import { SPLITS, type Split } from '../../data/types.js';
import { parseChoice, parseCommandArgs, parseIndexList, parseNumber, parseSolverOverride, SOLVER_OVERRIDE_OPTIONS } from '../options.js';

const usage = `usage: physode rollout RUN --data DIR [options]

Predicts the chosen trajectories of a split with RUN's model and writes RUN/rollouts.npz (numpy):
t [T], y_true [K,T,D], y_pred [K,T,D], energy_true [K,T], energy_pred [K,T], params [K,P],
index [K] (dataset numbering), position [K] (within the split). Past the data's end y_true is NaN.

  --split train|val|test   (default test)
  --indices LIST           positions within the split, e.g. 0,1,5 or 0-3 (default 0-3)
  --horizon T              time span to predict (default: the data's span; may exceed it)
  --which best|last        (default best)
  --out FILE               (default RUN/rollouts.npz)
  --method NAME --rtol R --atol A --step H   another solver than training's
  --max-steps N                               adaptive methods: step limit of each solve (default 10000)
  --backend NAME

A next-state run (train --task next-state): --horizon is a number of steps (default 100),
predicted autoregressively from row 0 of each trajectory.`;

export const command: Command = {
  name: 'rollout',
  summary: "write a run's predicted and true trajectories to rollouts.npz",
  usage,
  async run(argv) {
    // A next-state run rolls out autoregressively (src/cli/task-commands.ts).
    const { taskRunIn, runNextStateRollout } = await import('../task-commands.js');
    if (taskRunIn(argv)) return runNextStateRollout(argv);
    const { values, positionals } = parseCommandArgs(
      'rollout',
      argv,
      {
        data: { type: 'string' },
        split: { type: 'string' },
        indices: { type: 'string' },
        horizon: { type: 'string' },
        which: { type: 'string' },
        out: { type: 'string' },
        ...SOLVER_OVERRIDE_OPTIONS,
        backend: { type: 'string' },
      },
      true,
    );
    if (positionals.length !== 1) throw new InvalidArgumentError('give exactly one run folder', 'physode rollout runs/<id> --data datasets/<name>');
    if (!values.data) throw new InvalidArgumentError('--data DIR is required');
    const runDir = resolve(positionals[0]);
    const split = parseChoice('split', values.split ?? 'test', SPLITS) as Split;
    const which = parseChoice('which', values.which ?? 'best', ['best', 'last'] as const);
    const requested = values.indices !== undefined ? parseIndexList('indices', values.indices) : null;
    const horizon = values.horizon !== undefined ? parseNumber('horizon', values.horizon, { min: 0, minOpen: true, example: '--horizon 10' }) : undefined;
    const solver = parseSolverOverride(values);

    const { initBackend, parseBackendPreference } = await import('../../backend/backend.js');
    const backend = await initBackend(parseBackendPreference(values.backend ?? 'auto'));
    const { openDataSource } = await import('../../train/dataset-source.js');
    const { prepareTrajectories } = await import('../../train/trajectories.js');
    const { loadRun } = await import('../../train/predict.js');
    const { computeRollouts, writeRolloutsNpz } = await import('../../train/rollouts.js');
    const { runPaths } = await import('../../train/run-folder.js');
    const data = await openDataSource(resolve(values.data));
    const out = resolve(values.out ?? runPaths(runDir).rollouts);
    await checkWritableFolder(dirname(out), '--out');
    const run = await loadRun(runDir, which);
    process.stderr.write(`backend: ${backend.detail}\n`); // once the inputs are known to be good
    try {
      const trajectories = prepareTrajectories(await data.loadSplit(split), run.stats);
      const positions = requested ?? Array.from({ length: Math.min(4, trajectories.n) }, (_, i) => i);
      const bad = positions.filter((p) => p >= trajectories.n);
      if (bad.length > 0) throw new InvalidArgumentError(`--indices ${bad.join(',')} out of range: the ${split} split holds ${trajectories.n} trajectories`, `use positions 0 to ${trajectories.n - 1}`);
      const r = await computeRollouts(run, trajectories, { positions, horizon, solver, physics: data.physics });
      await writeRolloutsNpz(out, r, positions);
      process.stdout.write(`wrote ${out}: ${r.count} trajectories x ${r.samples} times x ${r.dim} components (t from ${r.t[0]} to ${r.t[r.t.length - 1]})\n`);
      return 0;
    } finally {
      run.dispose();
    }
  },
};

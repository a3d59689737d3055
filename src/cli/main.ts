/**
 * The `physode` command: parse the sub-command, load it lazily, run it, turn errors into one-line
 * messages and a non-zero exit code. Sub-commands live in src/cli/commands/, one file each.
 */
import { PhysodeError } from '../util/errors.js';
import type { Command } from './command.js';

const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  generate: () => import('./commands/generate.js'),
  inspect: () => import('./commands/inspect.js'),
  train: () => import('./commands/train.js'),
  eval: () => import('./commands/eval.js'),
  rollout: () => import('./commands/rollout.js'),
  view: () => import('./commands/view.js'),
  start: () => import('./commands/start.js'),
  reproduce: () => import('./commands/reproduce.js'),
};

async function loadCommand(name: string): Promise<Command | undefined> {
  const load = COMMANDS[name];
  if (!load) return undefined;
  try {
    return (await load()).command;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String(err).includes(`/commands/${name}.`)) {
      return undefined;
    }
    throw err;
  }
}

async function help(): Promise<string> {
  const lines = ['usage: physode <command> [options]   (physode <command> --help for its options)', '', 'commands:'];
  for (const name of Object.keys(COMMANDS)) {
    const cmd = await loadCommand(name);
    if (cmd) lines.push(`  ${name.padEnd(10)} ${cmd.summary}`);
  }
  return lines.join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${await help()}\n`);
    return name ? 0 : 1;
  }
  if (name === '--version' || name === '-v') {
    const { version } = await import('../util/version.js');
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const cmd = await loadCommand(name);
  if (!cmd) {
    process.stderr.write(`physode: unknown command '${name}'. Commands: ${Object.keys(COMMANDS).join(', ')}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${cmd.usage}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof PhysodeError) {
      process.stderr.write(`physode ${name}: ${err.message}\n`);
      if (err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
      return 1;
    }
    if (err instanceof Error && (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`physode ${name}: ${err.message}\n  see: physode ${name} --help\n`);
      return 2;
    }
    throw err;
  }
}

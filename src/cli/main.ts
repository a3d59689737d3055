/**
 * The `physode` command: parse the sub-command, load it lazily, run it, turn errors into one-line
 * messages and a non-zero exit code. Sub-commands live in src/cli/commands/, one file each.
 */
import { PhysodeError } from '../util/errors.js';
import type { Command } from './command.js';

const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  generate: () => import('./commands/generate.js'),
  inspect: () => import('./commands/inspect.js'),
  import: () => import('./commands/import.js'),
  train: () => import('./commands/train.js'),
  eval: () => import('./commands/eval.js'),
  classify: () => import('./commands/classify.js'),
  rollout: () => import('./commands/rollout.js'),
  view: () => import('./commands/view.js'),
  start: () => import('./commands/start.js'),
  reproduce: () => import('./commands/reproduce.js'),
  submit: () => import('./commands/submit.js'),
  worker: () => import('./commands/worker.js'),
  status: () => import('./commands/status.js'),
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
  try {
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
      process.stderr.write(`physode: unknown command '${oneLine(name)}'; hint: commands: ${Object.keys(COMMANDS).join(', ')}\n`);
      return 2;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${cmd.usage}\n`);
      return 0;
    }
    return await cmd.run(rest);
  } catch (err) {
    const report = describeError(err);
    process.stderr.write(`physode${name ? ` ${oneLine(name)}` : ''}: ${report.line}\n`);
    if (report.unexpected && process.env.PHYSODE_DEBUG === '1' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return report.code;
  }
}

/**
 * For the `physode` process (run.ts, bin/physode.js), not for callers of main(): an error thrown
 * outside a command's own awaits (a worker's event, a stray rejection) is also one line, exit code 1.
 */
export function installFatalHandlers(): void {
  const fatal = (err: unknown): void => {
    const report = describeError(err);
    process.stderr.write(`physode: ${report.line}\n`);
    if (process.env.PHYSODE_DEBUG === '1' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}

/** Newlines and runs of blanks folded, so that a message is one line of bounded length. */
function oneLine(text: string, max = 500): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

/** File-system failures in words (errno code -> what it means for the path given). */
const FS_PROBLEMS: Record<string, [string, string]> = {
  ENOENT: ['does not exist', 'check the path'],
  ENOTDIR: ['a file stands where a folder is expected', 'give a folder, not a file'],
  EISDIR: ['is a folder where a file is expected', 'give a file, not a folder'],
  EEXIST: ['already exists (as a file where a folder is expected?)', 'choose another path or remove what is there'],
  EACCES: ['permission denied', 'choose a path you may write to'],
  EPERM: ['operation not permitted', 'choose a path you may write to'],
  EROFS: ['is on a read-only file system', 'choose a writable path'],
  ENOSPC: ['no space left on the device', 'free some space or choose another disk'],
  ENAMETOOLONG: ['the name is too long', 'choose a shorter path'],
  ELOOP: ['too many symbolic links', 'check the path'],
  EMFILE: ['too many open files', 'close other programs or raise the limit (ulimit -n)'],
};

interface ErrorReport {
  readonly line: string;
  readonly code: number;
  /** Not a PhysodeError or a known system error: a bug to report. */
  readonly unexpected: boolean;
}

/**
 * One line for any error a command throws: PhysodeError's message and hint; a file-system error as
 * the path and what went wrong; anything else as an unexpected error with a hint to report it (its
 * stack with PHYSODE_DEBUG=1).
 */
export function describeError(err: unknown): ErrorReport {
  if (err instanceof PhysodeError) {
    const code = err.name === 'UsageError' ? 2 : 1;
    return { line: oneLine(`${err.message}${err.hint ? `; hint: ${err.hint}` : ''}`), code, unexpected: false };
  }
  const e = err as NodeJS.ErrnoException & { dest?: unknown };
  if (err instanceof Error && typeof e.code === 'string') {
    if (e.code.startsWith('ERR_PARSE_ARGS_')) return { line: oneLine(`${e.message.split('\n')[0]}; hint: see --help`), code: 2, unexpected: false };
    const known = FS_PROBLEMS[e.code];
    if (known && typeof e.path === 'string') {
      const target = typeof e.dest === 'string' ? `${e.path} -> ${e.dest}` : e.path;
      return { line: oneLine(`cannot ${e.syscall ?? 'use'} ${target}: ${known[0]}; hint: ${known[1]}`), code: 1, unexpected: false };
    }
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return {
    line: oneLine(`unexpected error (${message}); hint: this is a physode bug, please report it with the command line (PHYSODE_DEBUG=1 prints the stack)`),
    code: 1,
    unexpected: true,
  };
}

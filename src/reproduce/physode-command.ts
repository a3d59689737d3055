/**
 * How to start the physode CLI as a child process, from wherever this code runs: compiled
 * (dist/src/reproduce/ → dist/src/cli/run.js) or from sources under tsx (src/reproduce/ →
 * src/cli/run.ts, with the parent's loader flags carried over through execArgv). A bare
 * `--import tsx` is resolved to tsx's absolute location, so the child loads it whatever its
 * working directory.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ChildCommand {
  /** The executable (node itself). */
  readonly file: string;
  /** Arguments before the physode sub-command. */
  readonly args: readonly string[];
}

/** tsx's ESM loader as an absolute URL, or the bare name if it cannot be resolved. */
function tsxLoader(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}

/** Node flags of the parent worth passing on (loaders such as tsx); debugger and test flags are not. */
function inheritedExecArgv(execArgv: readonly string[]): string[] {
  const kept = execArgv.filter((a) => !a.startsWith('--inspect') && !a.startsWith('--test') && !a.startsWith('--experimental-test'));
  return kept.map((a, i) => (a === 'tsx' && kept[i - 1] === '--import' ? tsxLoader() : a === '--import=tsx' ? `--import=${tsxLoader()}` : a));
}

export function physodeCommand(execArgv: readonly string[] = process.execArgv): ChildCommand {
  const compiled = fileURLToPath(new URL('../cli/run.js', import.meta.url));
  const source = fileURLToPath(new URL('../cli/run.ts', import.meta.url));
  if (import.meta.url.endsWith('.js') && existsSync(compiled)) {
    return { file: process.execPath, args: [...inheritedExecArgv(execArgv), compiled] };
  }
  const args = inheritedExecArgv(execArgv);
  // Under tsx the parent was started with `--import tsx` (or the tsx binary, which adds its
  // loader); make sure the child can load TypeScript even if the flag was spelled differently.
  const hasTsx = args.some((a) => a.includes('tsx'));
  return { file: process.execPath, args: [...(hasTsx ? args : [...args, '--import', tsxLoader()]), source] };
}

/** Runs `physode` CLI processes for the queue tests: one-shot commands and long-lived workers with their logs. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { physodeCommand } from '../../src/reproduce/physode-command.js';
import { runChild } from '../../src/reproduce/child-process.js';

const cmd = physodeCommand();

export function physode(args: readonly string[], timeoutSeconds = 120) {
  return runChild(cmd.file, [...cmd.args, ...args], { timeoutSeconds, env: { ...process.env, PHYSODE_KERNEL_THREADS: '1' } });
}

export class WorkerProcess {
  readonly proc: ChildProcess;
  log = '';
  constructor(args: readonly string[]) {
    this.proc = spawn(cmd.file, [...cmd.args, 'worker', ...args], { env: { ...process.env, PHYSODE_KERNEL_THREADS: '1' } });
    this.proc.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.proc.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
  }
  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.exited) return;
    await new Promise<void>((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill(signal);
    });
  }
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, pollMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** SHA-256 of every file in a folder (no subfolders), by name. */
export function folderHashes(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')]));
}

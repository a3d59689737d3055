/**
 * CPU seconds spent by the descendants of a process, grouped by Chromium's process type
 * (`--type=gpu-process`, `renderer`, ...; `browser` for the one without). Linux only (/proc): on
 * other systems it returns undefined. The viewer benchmark uses it to say where a frame's time
 * goes, a figure that, unlike frames per second, hardly changes with other load on the machine.
 */
import { readdirSync, readFileSync } from 'node:fs';

export type CpuByType = ReadonlyMap<string, number>;

interface Stat {
  readonly pid: number;
  readonly ppid: number;
  readonly seconds: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux architecture Node supports

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(fields[1]), seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
  } catch {
    return undefined; // the process ended while we looked
  }
}

function processType(pid: number): string {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /--type=([\w-]+)/.exec(cmdline)?.[1] ?? 'browser';
  } catch {
    return 'browser';
  }
}

/** CPU seconds of every descendant of `root`, summed by process type; undefined without /proc. */
export function descendantCpu(root: number = process.pid): CpuByType | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const stats = entries.filter((e) => /^\d+$/.test(e)).map((e) => readStat(Number(e))).filter((s): s is Stat => s !== undefined);
  const children = new Map<number, Stat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const out = new Map<string, number>();
  const stack = [...(children.get(root) ?? [])];
  while (stack.length > 0) {
    const s = stack.pop()!;
    const type = processType(s.pid);
    out.set(type, (out.get(type) ?? 0) + s.seconds);
    stack.push(...(children.get(s.pid) ?? []));
  }
  return out;
}

/** after - before, per type (types absent before count from zero). */
export function cpuDifference(before: CpuByType, after: CpuByType): Map<string, number> {
  const out = new Map<string, number>();
  for (const [type, seconds] of after) out.set(type, seconds - (before.get(type) ?? 0));
  return out;
}

/**
 * Facts about where a sweep ran, for the report: physode, Node and library versions, machine,
 * and the tensor backend the trainings reported (read from a run's config.json, issue 4).
 */
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, platform, arch } from 'node:os';
import { join } from 'node:path';
import { version } from '../util/version.js';

function packageVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export function staticEnvironment(): Record<string, string> {
  const cores = cpus();
  return {
    physode: version,
    node: process.version,
    '@tensorflow/tfjs-core': packageVersion('@tensorflow/tfjs-core'),
    odex: packageVersion('odex'),
    machine: `${platform()} ${arch()}, ${cores.length} cores (${cores[0]?.model.trim() ?? 'unknown CPU'})`,
  };
}

/** The first string value under a key named like "backend" in a JSON value. */
export function findBackend(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  for (const [k, v] of Object.entries(value)) {
    if (/backend/i.test(k)) {
      if (typeof v === 'string') return v;
      if (v && typeof v === 'object') {
        const named = (v as Record<string, unknown>).name;
        if (typeof named === 'string') return [named, (v as Record<string, unknown>).detail].filter((x) => typeof x === 'string').join(': ');
      }
    }
    const inner = findBackend(v);
    if (inner) return inner;
  }
  return undefined;
}

/** Backend named by the first training's config.json under `<out>/runs/`, if any. */
export async function detectBackend(runsDir: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = (await readdir(runsDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return undefined;
  }
  for (const name of names) {
    try {
      const found = findBackend(JSON.parse(await readFile(join(runsDir, name, 'config.json'), 'utf8')));
      if (found) return found;
    } catch {
      // no config in this run folder
    }
  }
  return undefined;
}

/** physode's own version, read from package.json (recorded in manifests and run configs). */
import { readFileSync } from 'node:fs';

function findPackageJson(): string {
  // Works from src/ (tsx) and from dist/src/ (built).
  for (const rel of ['../../package.json', '../../../package.json']) {
    const url = new URL(rel, import.meta.url);
    try {
      const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'physode' && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return '0.0.0';
}

export const version: string = findPackageJson();

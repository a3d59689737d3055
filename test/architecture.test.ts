/**
 * The README's layout table is the architecture: every folder of src/ (and systems/) is listed
 * there with the folders it may import, and the code imports nothing else; no two folders import
 * each other, directly or through others. Imports are read from the sources (relative specifiers
 * of import/export statements and dynamic imports).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** 'src/ode', 'systems', ... for a file; null for the library entry src/index.ts. */
function folderOf(file: string): string | null {
  const parts = relative(root, file).split(sep);
  if (parts[0] === 'systems') return 'systems';
  if (parts[0] === 'src') return parts.length > 2 ? `src/${parts[1]}` : null;
  return parts[0];
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'assembly') out.push(...sources(p)); // AssemblyScript: compiled to WebAssembly, imports nothing of ours
    } else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Folder → folders it imports, with one file that does it. */
function importGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  const pattern = /(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"`](\.[^'"`]+)['"`]\s*\)/g;
  for (const file of [...sources(join(root, 'src')), ...sources(join(root, 'systems'))]) {
    const from = folderOf(file);
    if (from === null) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(pattern)) {
      const to = folderOf(resolve(dirname(file), m[1] ?? m[2]));
      if (to === null || to === from) continue;
      if (!graph.has(from)) graph.set(from, new Map());
      graph.get(from)!.set(to, relative(root, file));
    }
  }
  return graph;
}

/** The README's layout rows: folder → allowed imports ('*' for any). */
function layoutTable(): Map<string, Set<string> | '*'> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Layout'), readme.indexOf('\n## ', readme.indexOf('## Layout') + 1));
  const rows = new Map<string, Set<string> | '*'>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !/^`(src\/[a-z-]+|systems)\/`$/.test(cells[1])) continue;
    const folder = cells[1].slice(1, -2);
    const allowed = cells[3];
    if (allowed === 'any folder') rows.set(folder, '*');
    else rows.set(folder, new Set([...allowed.matchAll(/`([^`]+)\/`/g)].map((m) => m[1])));
  }
  return rows;
}

test('every folder of src/ and systems/ is a row of the README layout table', () => {
  const table = layoutTable();
  const folders = readdirSync(join(root, 'src')).filter((n) => statSync(join(root, 'src', n)).isDirectory()).map((n) => `src/${n}`);
  for (const f of [...folders, 'systems']) assert.ok(table.has(f), `${f} is missing from the README's layout table`);
});

test('each folder imports only what the README layout table allows', () => {
  const table = layoutTable();
  const problems: string[] = [];
  for (const [from, targets] of importGraph()) {
    const allowed = table.get(from);
    if (allowed === '*') continue;
    for (const [to, file] of targets) if (!allowed?.has(to)) problems.push(`${file} (${from}) imports ${to}`);
  }
  assert.deepEqual(problems, [], `imports the layout table does not allow:\n${problems.join('\n')}`);
});

test('no two folders import each other, directly or through others', () => {
  const graph = importGraph();
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (node: string, path: string[]): void => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'open') {
      cycles.push([...path.slice(path.indexOf(node)), node].join(' -> '));
      return;
    }
    state.set(node, 'open');
    for (const next of graph.get(node)?.keys() ?? []) visit(next, [...path, node]);
    state.set(node, 'done');
  };
  for (const node of graph.keys()) visit(node, []);
  assert.deepEqual(cycles, []);
});

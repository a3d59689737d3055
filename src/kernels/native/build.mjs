// Builds the optional native BLAS addon (./blas.c, ./binding.gyp) into ../physode-blas.node with
// node-gyp, against this Node's own headers (nothing is downloaded), and copies it beside the
// compiled kernels in dist/ when there is one. It is optional: where it cannot be built (no C
// compiler, no Python for node-gyp, no Node headers) this prints why and exits 0, and the
// WebAssembly kernels run every product. `--force` rebuilds an up-to-date addon.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const output = join(here, '..', 'physode-blas.node');
const sources = ['blas.c', 'binding.gyp'].map((f) => join(here, f));
const shown = relative(process.cwd(), output) || output;

const dist = join(here, '..', '..', '..', 'dist', 'src', 'kernels');

/** Puts the addon at `to` by copy and rename, so that a reader never sees a half-written file. */
function place(from, to) {
  copyFileSync(from, `${to}.tmp`);
  renameSync(`${to}.tmp`, to);
}
/** The built addon also goes beside the compiled kernels, which load it from there. */
function placeInDist() {
  if (existsSync(dist)) place(output, join(dist, 'physode-blas.node'));
}

const upToDate = () => existsSync(output) && sources.every((s) => statSync(s).mtimeMs <= statSync(output).mtimeMs);
if (!process.argv.includes('--force') && upToDate()) {
  placeInDist();
  process.exit(0);
}

if (process.env.PHYSODE_BLAS === 'off') {
  console.log('native BLAS addon: not built (PHYSODE_BLAS=off)');
  process.exit(0);
}

// node-gyp: the one npm runs scripts with, else the one bundled with this Node's npm.
const prefix = dirname(dirname(process.execPath));
const nodeGyp = [process.env.npm_config_node_gyp, join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')].find((p) => p && existsSync(p));
// A failed build leaves no addon (an older one would not match the sources).
const skip = (why) => {
  for (const stale of [output, join(dist, 'physode-blas.node')]) rmSync(stale, { force: true });
  console.log(`native BLAS addon: not built (${why}); the WebAssembly kernels run every matrix product`);
  process.exit(0);
};
if (!nodeGyp) skip("node-gyp not found (it comes with npm; run this through 'npm run build:native')");

// This Node's headers, where its installation has them (Debian's and nodejs.org's do): no download.
const args = [nodeGyp, 'rebuild', '--release'];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const run = spawnSync(process.execPath, args, { cwd: here, encoding: 'utf8' });
if (run.error || run.status !== 0) {
  // The most telling line: a compiler error, else node-gyp's own ("Could not find any Python …").
  const lines = `${run.stderr ?? ''}${run.stdout ?? ''}`.split('\n');
  const why = lines.find((l) => /: (fatal )?error:/.test(l)) ?? lines.find((l) => /gyp ERR! stack Error:/.test(l))?.replace(/^gyp ERR! stack /, '') ?? lines.find((l) => /error/i.test(l));
  skip(`node-gyp failed: ${(why ?? run.error?.message ?? `exit code ${run.status}`).trim().slice(0, 300)}`);
}
const built = join(here, 'build', 'Release', 'physode_blas.node');
if (!existsSync(built)) skip(`node-gyp reported success but ${built} is missing`);
place(built, output);
placeInDist();
console.log(`native BLAS addon: built (${shown})`);

#!/usr/bin/env node
// The physode command. Runs the compiled CLI (npm install builds it via the `prepare` script).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('physode: the compiled CLI is missing (dist/). Run `npm run build` in the physode folder.\n');
  process.exit(1);
}
const { main, installFatalHandlers } = await import(entry.href);
installFatalHandlers();
const code = await main(process.argv.slice(2));
process.exitCode = code;

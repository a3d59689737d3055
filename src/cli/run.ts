/**
 * A runnable entry for the physode CLI (bin/physode.js imports main() from the compiled
 * main.js; this file lets `node [--import tsx] src/cli/run.ts <command> ...` and
 * `node dist/src/cli/run.js ...` do the same, e.g. for `physode reproduce`'s child processes).
 */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));

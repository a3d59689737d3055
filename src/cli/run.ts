/**
 * A runnable entry for the physode CLI (bin/physode.js imports main() from the compiled
 * main.js; this file lets `node [--import tsx] src/cli/run.ts <command> ...` and
 * `node dist/src/cli/run.js ...` do the same, e.g. for `physode reproduce`'s child processes).
 */
import { installFatalHandlers, main } from './main.js';

installFatalHandlers();
process.exitCode = await main(process.argv.slice(2));

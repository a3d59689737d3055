/**
 * Preloaded (`node --import`) into the physode processes a queue worker starts: when the worker is
 * killed (kill -9 leaves its children running), the child notices that it was re-parented and
 * exits, so that it cannot keep writing into a run folder that the job's retry is rewriting.
 */
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(137);
}, 500).unref();

/**
 * Runs every benchmark in turn, each in its own Node process (so one's JIT
 * state and garbage do not colour the next), passing their output through.
 * Each module is compiled to build-bench/bench/<name>.js by `npm run bench`.
 * Exits non-zero if any benchmark does.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** Add a benchmark here by its file name under bench/, without extension. */
const BENCHES: string[] = ['rules', 'ack', 'forward-latency', 'drain', 'burst'];

let failed = 0;
for (const name of BENCHES) {
  const file = path.join(__dirname, `${name}.js`);
  process.stdout.write(`\n== bench ${name} ==\n`);
  const run = spawnSync(process.execPath, [file], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed++;
    process.stderr.write(`bench ${name} failed (${run.status ?? run.signal})\n`);
  }
}
process.exit(failed ? 1 : 0);

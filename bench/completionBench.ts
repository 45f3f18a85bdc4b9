/**
 * Completion's name lookup (`banger __complete vms`, what a TAB runs): with the daemon
 * running (asked over the socket) and with it stopped (the database read read-only, no
 * daemon started), next to `node -e 0`, in the same run.
 */
import { spawnSync } from 'node:child_process';
import { formatSummary, summarize } from './stats.js';

export function completionBenchmarks(
  cli: string,
  env: NodeJS.ProcessEnv,
  sample: (argv: string[], env: NodeJS.ProcessEnv) => number[],
): void {
  const node = summarize(sample([process.execPath, '-e', '0'], env));
  const live = summarize(sample([process.execPath, cli, '__complete', 'vms'], env));
  spawnSync(process.execPath, [cli, 'daemon', 'stop'], { env, stdio: 'ignore' });
  const fromDb = summarize(sample([process.execPath, cli, '__complete', 'vms'], env));
  console.log(formatSummary('banger __complete vms (daemon running)', live));
  console.log(formatSummary('banger __complete vms (daemon down: db)', fromDb));
  console.log(`ratio __complete (db) / node -e 0 (median)     ${(fromDb.median / node.median).toFixed(2)}`);
}

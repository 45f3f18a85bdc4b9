/**
 * `npm run bench`: prints each figure as median/p90 over several runs, with ratios
 * against baselines measured in the same run (machines are noisy: compare ratios).
 *
 * Figures today:
 *   - `banger vm list` wall time, CLI start to exit, with the daemon running
 *     (target <= 150 ms median), next to bare `node -e 0` and `banger --version`;
 *   - the daemon's resident memory while idle;
 *   - VM figures (bench/vmBench.ts): cold and warm `vm run`, against a raw QEMU boot,
 *     boot-to-ssh stages, daemon RSS with two VMs. BENCH_SKIP_VMS=1 skips them;
 *   - warm starts (bench/snapshotBench.ts): `vm run` restored from a template against a cold
 *     boot (target ratio <= 0.35), warm create to ssh (target <= 2 s), four at once, template
 *     size and VMM memory;
 *   - `banger vm stats --json` with four VMs running (bench/statsBench.ts; target <= 150 ms).
 *   - port forward throughput against a direct connection (bench/forwardBench.ts).
 *   - `image pull` of a Debian image from a local registry against skopeo + umoci + mkfs.ext4,
 *     a second pull sharing the base layer, the daemon's RSS during a pull (bench/pullBench.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { completionBenchmarks } from './completionBench.js';
import { formatSummary, summarize } from './stats.js';
import { statsBench } from './statsBench.js';
import { forwardBenchmarks } from './forwardBench.js';
import { pullBench } from './pullBench.js';
import { snapshotBench } from './snapshotBench.js';
import { vmBenchmarks } from './vmBench.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'banger.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

function timeRun(argv: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function sample(argv: string[], env: NodeJS.ProcessEnv): number[] {
  timeRun(argv, env); // warm the page cache
  return Array.from({ length: RUNS }, () => timeRun(argv, env));
}

function rssMib(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const dir = mkdtempSync(join(tmpdir(), 'bgr-bench-'));
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: dir,
  XDG_RUNTIME_DIR: join(dir, 'run'),
  BANGER_MODE: 'user',
  NO_COLOR: '1',
};
mkdirSync(join(dir, 'run'), { mode: 0o700 });
try {
  timeRun([process.execPath, cli, 'vm', 'list'], env); // auto-start the daemon
  const node = summarize(sample([process.execPath, '-e', '0'], env));
  const version = summarize(sample([process.execPath, cli, '--version'], env));
  const list = summarize(sample([process.execPath, cli, 'vm', 'list'], env));
  console.log(`banger benchmarks (${RUNS} runs each, node ${process.version})`);
  console.log(formatSummary('node -e 0 (baseline)', node));
  console.log(formatSummary('banger --version (no daemon call)', version));
  console.log(formatSummary('banger vm list (daemon running)', list));
  console.log(`ratio vm list / node -e 0 (median)             ${(list.median / node.median).toFixed(2)}`);
  console.log(
    `ratio vm list / banger --version (median)      ${(list.median / version.median).toFixed(2)}   (cost of the RPC round trip)`,
  );
  console.log(`target vm list median <= 150 ms                ${list.median <= 150 ? 'met' : 'NOT met'}`);
  const pid = Number(readFileSync(join(dir, 'run', 'banger', 'bangerd.pid'), 'utf8'));
  console.log(`daemon RSS, idle, no VMs                       ${rssMib(pid).toFixed(1)} MiB`);
  completionBenchmarks(cli, env, sample);
} finally {
  spawnSync(process.execPath, [cli, 'daemon', 'stop'], { env, stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}
if (process.env.BENCH_SKIP_VMS !== '1') await vmBenchmarks();
if (process.env.BENCH_SKIP_VMS !== '1') await snapshotBench();
if (process.env.BENCH_SKIP_VMS !== '1') await statsBench();
await forwardBenchmarks();
await pullBench();

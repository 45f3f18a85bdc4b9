/**
 * `banger vm stats --json` with four running VMs (target <= 150 ms median), next to
 * `banger --version` measured in the same run: the CLI's start-up is the floor, the rest is
 * the RPC round trip and the answer (the daemon answers from its latest samples). Runs in a
 * sandbox of its own (state dir, bridge), removed at the end. Part of `npm run bench`; alone:
 * `node build/bench/statsBench.js`.
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { distCli } from '../test/integration/harness.js';
import { createE2eSandbox } from '../test/e2e/e2eSandbox.js';
import { formatSummary, summarize } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const VMS = 4;

function timeRun(argv: string[], env: NodeJS.ProcessEnv): { ms: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

/** Both commands, alternated run by run so the guests' load weighs on each alike. */
function sampleBoth(a: string[], b: string[], env: NodeJS.ProcessEnv): [number[], number[]] {
  timeRun(a, env); // warm the page cache
  timeRun(b, env);
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    ta.push(timeRun(a, env).ms);
    tb.push(timeRun(b, env).ms);
  }
  return [ta, tb];
}

export async function statsBench(): Promise<void> {
  const e = createE2eSandbox();
  try {
    const t0 = performance.now();
    for (let i = 0; i < VMS; i++)
      await e.ok(['vm', 'create', '--name', `bench-stats-${i}`, '--vcpu', '1', '--memory', '512M'], 900_000);
    console.log(`vm stats: ${VMS} VMs created and running in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    const stats = [process.execPath, distCli, 'vm', 'stats', '--json'];
    const rows = JSON.parse(timeRun(stats, e.s.env).stdout) as Array<{ name: string; guest: unknown }>;
    const withGuest = rows.filter((r) => r.guest !== null).length;
    if (rows.length !== VMS) throw new Error(`vm stats answered ${rows.length} VMs, not ${VMS}`);
    const [versionMs, statsMs] = sampleBoth([process.execPath, distCli, '--version'], stats, e.s.env);
    const version = summarize(versionMs);
    const measured = summarize(statsMs);
    console.log(formatSummary('banger --version (no daemon call)', version));
    console.log(formatSummary(`banger vm stats --json (${VMS} VMs running)`, measured));
    console.log(
      `ratio vm stats / banger --version (median)     ${(measured.median / version.median).toFixed(2)}   (${withGuest}/${VMS} with guest figures)`,
    );
    console.log(`target vm stats median <= 150 ms               ${measured.median <= 150 ? 'met' : 'NOT met'}`);
  } finally {
    await e.teardown();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await statsBench();

/**
 * Warm-start benchmarks (docs/howto/snapshots.md), in a sandbox of their own with warm
 * starts on, measured in one run so the ratios compare like with like:
 *   - `vm run --rm -- true` restored from a template against the same command booted cold
 *     (`--cold`), interleaved (target ratio <= 0.35);
 *   - warm `vm create` until ssh answers (target median <= 2.0 s under TCG);
 *   - four warm `vm run --rm -- true` at once;
 *   - the template's size on disk, and the VMM's RSS for a restored VM against a cold one.
 * `npm run bench` runs it after the VM benchmarks; `node build/bench/snapshotBench.js` alone.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Sandbox } from '../test/integration/harness.js';
import { createE2eSandbox } from '../test/e2e/e2eSandbox.js';
import { formatSummary, summarize } from './stats.js';

const RUNS = Number(process.env.BENCH_VM_RUNS ?? 3);
const MIB = 1024 * 1024;

async function timed(s: Sandbox, args: string[]): Promise<number> {
  const t0 = performance.now();
  const r = await s.banger(args, { timeoutMs: 900_000 });
  if (r.code !== 0) throw new Error(`banger ${args.join(' ')}: ${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

function rssMib(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function vmmRss(s: Sandbox, name: string): Promise<number> {
  const r = await s.banger(['vm', 'show', name, '--json']);
  const pid = (JSON.parse(r.stdout) as { runtime: { pid: number } | null }).runtime?.pid;
  return pid ? rssMib(pid) : NaN;
}

export async function snapshotBench(): Promise<void> {
  console.log(`\nwarm-start benchmarks (${RUNS} runs each; TCG unless this host has usable KVM)`);
  const e = createE2eSandbox(['warm_start = true']);
  const { s } = e;
  try {
    await timed(s, ['image', 'pull', 'debian-bookworm']);
    const build = await timed(s, ['image', 'warm', 'debian-bookworm']);
    const image = JSON.parse((await s.banger(['image', 'show', 'debian-bookworm'])).stdout) as {
      templates: Array<{ sizeBytes: number; memoryMib: number }>;
    };
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      cold.push(await timed(s, ['vm', 'run', '--rm', '--cold', '--', 'true']));
      warm.push(await timed(s, ['vm', 'run', '--rm', '--', 'true']));
    }
    const [c, w] = [summarize(cold), summarize(warm)];
    console.log(formatSummary('vm run --rm -- true, cold boot (--cold)', c, 's'));
    console.log(formatSummary('vm run --rm -- true, warm (from template)', w, 's'));
    const ratio = w.median / c.median;
    console.log(
      `ratio warm / cold vm run (median)              ${ratio.toFixed(2)}   (target <= 0.35: ${ratio <= 0.35 ? 'met' : 'NOT met'})`,
    );

    const creates: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      creates.push(await timed(s, ['vm', 'create', '--name', `warm-${i}`]));
      await timed(s, ['vm', 'delete', `warm-${i}`]);
    }
    const cr = summarize(creates);
    console.log(formatSummary('warm vm create to ssh-ready', cr, 's'));
    console.log(`target warm create median <= 2.0 s             ${cr.median <= 2.0 ? 'met' : 'NOT met'}`);

    const rounds: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      await Promise.all([0, 1, 2, 3].map(() => timed(s, ['vm', 'run', '--rm', '--', 'true'])));
      rounds.push((performance.now() - t0) / 1000);
    }
    console.log(formatSummary('four warm vm run --rm -- true at once (wall)', summarize(rounds), 's'));

    await timed(s, ['vm', 'create', '--name', 'rss-warm']);
    await timed(s, ['vm', 'create', '--cold', '--name', 'rss-cold']);
    const [rw, rc] = [await vmmRss(s, 'rss-warm'), await vmmRss(s, 'rss-cold')];
    const t = image.templates[0];
    console.log(`template build (image warm), one              ${build.toFixed(1)} s`);
    console.log(
      `template size on disk                          ${t ? (t.sizeBytes / MIB).toFixed(1) : 'none'} MiB   (guest memory ${t?.memoryMib ?? '?'} MiB)`,
    );
    console.log(
      `VMM RSS, restored VM / cold-booted VM         ${rw.toFixed(1)} MiB / ${rc.toFixed(1)} MiB   (ratio ${(rw / rc).toFixed(2)})`,
    );
  } finally {
    await e.teardown();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await snapshotBench();

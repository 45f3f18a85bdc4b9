/**
 * Workspace copy (docs/howto/workspaces.md): `banger vm workspace prepare` of a repository whose ignored
 * build output dwarfs its tracked files, next to `git ls-files | tar` streamed into the
 * same guest over ssh, in the same run (target ratio <= 1.2). The bytes sent show that the
 * copy follows the tracked content.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshArgv, type SshTarget } from '../src/guest/index.js';
import { formatSize } from '../src/model/index.js';
import { ExecHostRunner } from '../src/system/index.js';
import type { E2eSandbox } from '../test/e2e/e2eSandbox.js';
import { formatSummary, summarize } from './stats.js';

const RUNS = Number(process.env.BENCH_WS_RUNS ?? 5);

function makeRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bgr-wsbench-'));
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'b',
    GIT_AUTHOR_EMAIL: 'b@b',
    GIT_COMMITTER_NAME: 'b',
    GIT_COMMITTER_EMAIL: 'b@b',
  };
  execFileSync('git', ['init', '-q', '-b', 'main', dir]);
  // ~4 MB of tracked sources in 400 files (text that compresses like code does).
  for (let d = 0; d < 20; d++) {
    mkdirSync(join(dir, 'src', `m${d}`), { recursive: true });
    for (let f = 0; f < 20; f++) {
      const lines = Array.from(
        { length: 250 },
        (_, i) => `export const v${i} = "${randomBytes(12).toString('hex')}"; // line ${i} of module ${d}/${f}`,
      );
      writeFileSync(join(dir, 'src', `m${d}`, `f${f}.ts`), `${lines.join('\n')}\n`);
    }
  }
  writeFileSync(join(dir, '.gitignore'), 'build/\nnode_modules/\n');
  execFileSync('git', ['-C', dir, 'add', '.'], { env });
  execFileSync('git', ['-C', dir, 'commit', '-q', '-m', 'sources'], { env });
  // 200 MB of ignored build output that must not travel.
  mkdirSync(join(dir, 'build'));
  for (let i = 0; i < 4; i++) writeFileSync(join(dir, 'build', `bundle${i}.bin`), randomBytes(50 << 20));
  return dir;
}

export async function workspaceBench(e: E2eSandbox): Promise<void> {
  const repo = makeRepo();
  const runner = new ExecHostRunner();
  try {
    await e.ok(['vm', 'run', '-d', '--name', 'bench-ws', repo]);
    const vm = await e.vmJson('bench-ws');
    const target: SshTarget = {
      ip: vm.guestIp,
      alias: 'bench-ws.vm',
      keyPath: join(e.s.stateDir, 'ssh', 'id_ed25519'),
      knownHosts: join(e.s.stateDir, 'known_hosts'),
    };
    const ours: number[] = [];
    const base: number[] = [];
    let ourBytes = 0;
    let baseBytes = 0;
    for (let i = 0; i < RUNS; i++) {
      let t0 = performance.now();
      const r = await e.ok(['vm', 'workspace', 'prepare', 'bench-ws']);
      ours.push(performance.now() - t0);
      const m = /, ([\d.]+[KMG]?) in /.exec(r.stdout);
      ourBytes = m ? parseSizeLoose(m[1]!) : NaN;
      t0 = performance.now();
      const b = await runner.pipe(
        ['sh', '-c', 'git ls-files -z | tar --null -T - -c -f -'],
        sshArgv(target, [
          'sh',
          '-c',
          'rm -rf /root/baseline && mkdir -p /root/baseline && tar -x -f - -C /root/baseline',
        ]),
        { producerCwd: repo, timeoutMs: 600_000 },
      );
      base.push(performance.now() - t0);
      baseBytes = b.bytes;
    }
    const o = summarize(ours);
    const t = summarize(base);
    console.log(`workspace: 400 tracked files (~4 MB) and 200 MB of ignored build output`);
    console.log(formatSummary('vm workspace prepare (CLI, pack + overlay)', o));
    console.log(formatSummary('git ls-files | tar | ssh tar -x (baseline)', t));
    console.log(
      `bytes sent: banger ${formatSize(ourBytes)}, baseline ${formatSize(baseBytes)} (the build output is 200M)`,
    );
    console.log(`ratio workspace copy / ls-files tar (median)   ${(o.median / t.median).toFixed(2)}   (target <= 1.2)`);
  } finally {
    await e.s.banger(['vm', 'delete', 'bench-ws']);
    rmSync(repo, { recursive: true, force: true });
  }
}

function parseSizeLoose(s: string): number {
  const m = /^([\d.]+)([KMG]?)$/.exec(s);
  if (!m) return NaN;
  return Number(m[1]) * ({ '': 1, K: 1024, M: 1 << 20, G: 1 << 30 } as Record<string, number>)[m[2]!]!;
}

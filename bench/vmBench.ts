/**
 * VM benchmarks (docs/howto/vms.md), in a sandbox of their own (state dir, bridge) that is removed
 * at the end:
 *   - `vm run --rm -- true`, cold (fresh state: kernel and image obtained) and warm,
 *     against a raw qemu-system-x86_64 boot of the same kernel, initramfs and rootfs copy
 *     to a successful `ssh true`, measured in the same run;
 *   - boot to ssh with the per-stage breakdown (console markers and systemd-analyze);
 *   - agent health round trip and DNS against dnsmasq (bench/netBench.ts);
 *   - workspace copy against `git ls-files | tar` (bench/workspaceBench.ts);
 *   - daemon RSS with two VMs running.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Sandbox } from '../test/integration/harness.js';
import { createE2eSandbox, type E2eSandbox } from '../test/e2e/e2eSandbox.js';
import { agentHealthBench, dnsBench } from './netBench.js';
import { workspaceBench } from './workspaceBench.js';
import { formatSummary, summarize } from './stats.js';
import { buildQemuArgv, hostTscKhz } from '../src/qemu/index.js';
import { vmFiles, userLayout } from '../src/paths/index.js';
import { vmTapName } from '../src/model/index.js';
import { sshArgv } from '../src/guest/index.js';

const RUNS = Number(process.env.BENCH_VM_RUNS ?? 3);

function sandbox(): E2eSandbox {
  return createE2eSandbox();
}

async function timed(s: Sandbox, args: string[]): Promise<number> {
  const t0 = performance.now();
  const r = await s.banger(args, { timeoutMs: 900_000 });
  if (r.code !== 0) throw new Error(`banger ${args.join(' ')}: ${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

/** Raw QEMU: the same kernel, initramfs and image (as a qcow2 overlay), booted to `ssh true`. */
async function rawBoot(s: Sandbox, subnet: string, bridge: string, i: number): Promise<number> {
  const layout = userLayout({ home: s.dir, uid: 0, env: s.env });
  const kernelDir = join(s.stateDir, 'kernels', 'debian-bookworm-cloud');
  const image = join(s.stateDir, 'images', 'debian-bookworm');
  const id = `ee${randomBytes(3).toString('hex')}`;
  const files = vmFiles(layout, id);
  mkdirSync(files.dir, { recursive: true });
  mkdirSync(files.runtimeDir, { recursive: true });
  const tap = vmTapName(id);
  const ip = `${subnet}.${200 + i}`;
  // Disks and keys prepared outside the timing, as banger prepares them before it boots.
  execFileSync('qemu-img', [
    'create',
    '-q',
    '-f',
    'qcow2',
    '-F',
    'raw',
    '-b',
    join(image, 'rootfs.ext4'),
    files.rootfsOverlay,
  ]);
  copyFileSync(join(image, 'work-seed.ext4'), files.workDisk);
  const key = join(s.stateDir, 'ssh', 'id_ed25519');
  const cmds = join(files.dir, 'cmds');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(files.dir, 'hk')]);
  writeFileSync(
    cmds,
    `mkdir /.banger-hostkey\ncd /.ssh\nwrite ${key}.pub authorized_keys\ncd /.banger-hostkey\nwrite ${join(files.dir, 'hk')} ssh_host_ed25519_key\nwrite ${join(files.dir, 'hk')}.pub ssh_host_ed25519_key.pub\n`,
  );
  execFileSync('debugfs', ['-w', '-f', cmds, files.workDisk], { stdio: 'ignore' });
  const kh = join(files.dir, 'known_hosts');
  writeFileSync(kh, `raw ${readFileSync(join(files.dir, 'hk.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  execFileSync('ip', ['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
  execFileSync('ip', ['link', 'set', tap, 'master', bridge, 'up']);
  const argv = buildQemuArgv(
    'qemu-system-x86_64',
    {
      vmId: id,
      hostname: 'raw',
      vcpu: 2,
      memoryMib: 1024,
      kernelPath: join(kernelDir, 'vmlinuz'),
      initrdPath: join(kernelDir, 'initrd.img'),
      rootDisk: { path: files.rootfsOverlay, format: 'qcow2' },
      workDisk: files.workDisk,
      network: {
        tap,
        mac: `52:54:ee:${id.slice(2, 4)}:${id.slice(4, 6)}:${id.slice(6, 8)}`,
        addressCidr: `${ip}/24`,
        gateway: `${subnet}.1`,
        dns: `${subnet}.1`,
      },
      files,
    },
    'tcg',
    hostTscKhz(),
  );
  const t0 = performance.now();
  const qemu = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  try {
    const ssh = sshArgv({ ip, alias: 'raw', keyPath: key, knownHosts: kh }, ['true']);
    for (;;) {
      if (spawnSync(ssh[0]!, ssh.slice(1), { stdio: 'ignore', timeout: 10_000 }).status === 0) break;
      if (performance.now() - t0 > 300_000) throw new Error('raw boot did not answer ssh in 300 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    return (performance.now() - t0) / 1000;
  } finally {
    qemu.kill('SIGKILL');
    await new Promise((r) => qemu.once('exit', r));
    spawnSync('ip', ['link', 'del', tap]);
    rmSync(files.dir, { recursive: true, force: true });
    rmSync(files.runtimeDir, { recursive: true, force: true });
  }
}

function rssMib(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export async function vmBenchmarks(): Promise<void> {
  console.log(`\nVM benchmarks (${RUNS} runs each; TCG unless this host has usable KVM)`);
  const cold: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const e = sandbox();
    try {
      cold.push(await timed(e.s, ['vm', 'run', '--rm', '--', 'true']));
    } finally {
      await e.teardown();
    }
  }
  const e = sandbox();
  const { s, bridge, subnet } = e;
  try {
    await timed(s, ['image', 'pull', 'debian-bookworm']);
    const warm: number[] = [];
    const raw: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      warm.push(await timed(s, ['vm', 'run', '--rm', '--', 'true']));
      raw.push(await rawBoot(s, subnet, bridge, i));
    }
    const w = summarize(warm);
    const r = summarize(raw);
    console.log(formatSummary('vm run --rm -- true, cold (kernel+image)', summarize(cold), 's'));
    console.log(formatSummary('vm run --rm -- true, image present', w, 's'));
    console.log(formatSummary('raw qemu boot to ssh true (baseline)', r, 's'));
    console.log(
      `ratio warm vm run / raw boot (median)          ${(w.median / r.median).toFixed(2)}   (target <= 1.15)`,
    );

    // Boot to ssh with its stages, from one VM's console markers and systemd-analyze.
    await timed(s, ['vm', 'create', '--name', 'bench-a']);
    const log = (await s.banger(['vm', 'logs', 'bench-a'])).stdout;
    const marks = [...log.matchAll(/banger-boot: (\S+) at ([\d.]+)s/g)].map((m) => `${m[1]} ${m[2]}s`);
    const analyze = (await s.banger(['vm', 'ssh', 'bench-a', '--', 'systemd-analyze'])).stdout.split('\n')[0];
    const chain = (
      await s.banger(['vm', 'ssh', 'bench-a', '--', 'systemd-analyze', 'critical-chain', 'ssh.service'])
    ).stdout
      .split('\n')
      .filter((l) => /@|\+/.test(l))
      .slice(0, 6)
      .map((l) => l.trim());
    const daemonLog = readFileSync(s.daemonLog, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"vm ready"') && l.includes('bench-a'));
    const readyMs = daemonLog.length ? (JSON.parse(daemonLog.at(-1)!) as { ms: number }).ms : NaN;
    console.log(`boot to ssh (VMM start -> port 22), one boot     ${(readyMs / 1000).toFixed(1)} s   (target <= 6 s)`);
    console.log(`  initramfs stages (guest uptime)              ${marks.join(', ')}`);
    console.log(`  systemd                                      ${analyze}`);
    for (const c of chain) console.log(`    ${c}`);

    await agentHealthBench(s.socket, 'bench-a');
    const shown = JSON.parse((await s.banger(['vm', 'show', 'bench-a', '--json'])).stdout) as { guestIp: string };
    await dnsBench(s.dnsPort, 'bench-a.vm', shown.guestIp);

    await workspaceBench(e);

    await timed(s, ['vm', 'create', '--name', 'bench-b']);
    console.log(
      `daemon RSS with 2 VMs running                  ${rssMib(s.daemonPid()!).toFixed(1)} MiB   (target <= 150 MB)`,
    );
  } finally {
    await e.teardown();
  }
}

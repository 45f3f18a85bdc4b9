/**
 * The shared frame of the e2e files: a sandbox (HOME, state, daemon) with a bridge and
 * subnet of its own, the helpers every scenario uses, and a teardown that removes every
 * VM, tap (VM and pool taps on the test bridge), the bridge and the daemon, then asserts
 * that nothing is left.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createSandbox, type RunResult, type Sandbox } from '../integration/harness.js';

export interface E2eSandbox {
  s: Sandbox;
  bridge: string;
  /** First three octets of the test subnet, e.g. "10.213.57". */
  subnet: string;
  ok(args: string[], timeoutMs?: number): Promise<RunResult>;
  vmJson(name: string): Promise<VmJson>;
  bootId(name: string): Promise<string>;
  qemuPids(): number[];
  /** Names of the links attached to the test bridge. */
  bridgeTaps(): string[];
  dig(name: string): string;
  digStatus(name: string): string | undefined;
  teardown(): Promise<void>;
}

export interface VmJson {
  id: string;
  name: string;
  state: string;
  guestIp: string;
  nat: boolean;
  vmm: string;
  rootOverlay: string;
  runtime: {
    pid: number;
    status: string;
    tap: string;
    agent: { health: { boot_id: string; uptime_s: number } } | { error: string };
  } | null;
}

const links = () => execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });

/**
 * `extraConfig`: top-level config lines. Warm templates are off unless a line turns them on
 * (warm.test.ts): a background template build boots one more guest, and the other scenarios
 * keep to their own VMs (two at most on our two cores) and their own timings.
 */
export function createE2eSandbox(extraConfig: string[] = []): E2eSandbox {
  const s = createSandbox();
  const bridge = s.bridge;
  const subnet = s.bridgeIp.replace(/\.1$/, '');
  const warm = extraConfig.some((l) => l.startsWith('warm_start')) ? [] : ['warm_start = false'];
  mkdirSync(dirname(s.configFile), { recursive: true });
  writeFileSync(
    s.configFile,
    s.baseConfig +
      [...warm, ...extraConfig, '', '[vm_defaults]', 'vcpu = 2', 'memory_mib = 1024', 'disk_size = "2G"', ''].join(
        '\n',
      ),
  );

  const qemuPids = () => {
    try {
      return execFileSync('pgrep', ['-f', `qemu-system-x86_64.*${s.dir}`], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  };
  const bridgeTaps = () =>
    links()
      .split('\n')
      .filter((l) => l.includes(` master ${bridge} `))
      .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
      .filter((n): n is string => !!n);
  const ok = async (args: string[], timeoutMs = 600_000) => {
    const r = await s.banger(args, { timeoutMs });
    assert.equal(r.code, 0, `banger ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
    return r;
  };
  const digArgs = (name: string) => ['+tries=3', '+time=5', '-p', String(s.dnsPort), '@127.0.0.1', name];
  const vmsDir = () => join(s.stateDir, 'vms');

  return {
    s,
    bridge,
    subnet,
    ok,
    qemuPids,
    bridgeTaps,
    vmJson: async (name) => JSON.parse((await ok(['vm', 'show', name, '--json'])).stdout) as VmJson,
    bootId: async (name) =>
      (await ok(['vm', 'ssh', name, '--', 'cat', '/proc/sys/kernel/random/boot_id'])).stdout.trim(),
    dig: (name) => execFileSync('dig', ['+short', ...digArgs(name)], { encoding: 'utf8' }).trim(),
    digStatus: (name) => /status: (\w+)/.exec(execFileSync('dig', digArgs(name), { encoding: 'utf8' }))?.[1],
    teardown: async () => {
      try {
        await s.banger(['vm', 'prune', '-f']);
        const { stdout } = await s.banger(['vm', 'list', '--json']);
        for (const v of JSON.parse(stdout || '[]') as Array<{ name: string }>) await s.banger(['vm', 'delete', v.name]);
        await s.banger(['daemon', 'stop']);
      } finally {
        for (const pid of qemuPids()) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        // The daemon keeps its warm pool across restarts; the test removes it with the bridge.
        // Each step on its own: one that fails (a tap gone meanwhile) must not keep the rest from running;
        // what is really left is named by `leftovers` below.
        for (const link of [...bridgeTaps(), bridge]) {
          try {
            execFileSync('ip', ['link', 'del', link], { stdio: 'ignore' });
          } catch {
            /* already gone */
          }
        }
        const leftovers = {
          qemu: qemuPids(),
          taps: bridgeTaps(),
          vmDirs: existsSync(vmsDir()) ? readdirSync(vmsDir()) : [],
        };
        await s.cleanup();
        assert.deepEqual(
          leftovers,
          { qemu: [], taps: [], vmDirs: [] },
          'the suite leaves no VM process, tap or VM directory',
        );
        assert.equal(links().includes(bridge), false);
      }
    },
  };
}

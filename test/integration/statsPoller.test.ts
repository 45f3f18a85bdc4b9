/**
 * `vm.stats` and `auto_stop_stale_after` through the daemon's real pieces: the VmService over a
 * real store, the StatsPoller, the `vm.stats`/`vm.show`/`vm.ssh_target` handlers, the real
 * banger-agent binary answering each VM's agent socket, and a real host process standing in for
 * each VMM (so /proc/PID is real). The VMM driver is a stand-in: the host cannot boot guests
 * here without the lock, and the e2e test (test/e2e/autoStop.test.ts) does that. Each agent
 * reads a fixture /proc (`--proc`), so the guest's memory and its connections are set by the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { AgentEndpoint } from '../../src/agent/index.js';
import { agentBinaryPath } from '../../src/buildinfo/index.js';
import { defaultConfig } from '../../src/config/index.js';
import { ForwardService } from '../../src/daemon/forwardService.js';
import { createHandlers } from '../../src/daemon/handlers.js';
import { ImageService } from '../../src/daemon/imageService.js';
import { KernelService } from '../../src/daemon/kernelService.js';
import { NatController } from '../../src/daemon/natController.js';
import { StatsPoller } from '../../src/daemon/stats/poller.js';
import { TapPool } from '../../src/daemon/tapPool.js';
import { VmService } from '../../src/daemon/vmService.js';
import { WorkspaceService } from '../../src/daemon/workspaceService.js';
import { tapNameForVm } from '../../src/hostnat/index.js';
import { JsonLogger } from '../../src/log/index.js';
import { MIB } from '../../src/model/index.js';
import { OperationRegistry } from '../../src/opstate/index.js';
import { userLayout, vmFiles, type Layout, type VmFiles } from '../../src/paths/index.js';
import { METHODS } from '../../src/rpc/index.js';
import { Store } from '../../src/store/index.js';
import { isProcessAlive, waitForExit } from '../../src/system/index.js';
import type { VmmDriver } from '../../src/vmm/index.js';
import { FakeHostRunner } from '../fakes/fakeHostRunner.js';
import { FakePrivilegedOps } from '../fakes/fakePrivilegedOps.js';
import { sampleVm } from '../fixtures/vms.js';

/** A VMM stand-in: a host process per VM; a power-off request ends it, as a guest's poweroff would. */
class ProcessVmm implements VmmDriver {
  readonly kind = 'qemu' as const;
  readonly procs = new Map<number, ChildProcess>();
  async start(): Promise<never> {
    throw new Error('not used: the test adopts running processes');
  }
  async release(): Promise<void> {}
  async pause(): Promise<never> {
    throw new Error('not used');
  }
  async resume(): Promise<never> {
    throw new Error('not used');
  }
  async saveState(): Promise<never> {
    throw new Error('not used');
  }
  async setLink(): Promise<never> {
    throw new Error('not used');
  }
  async restore(): Promise<never> {
    throw new Error('not used');
  }
  owns(pid: number): boolean {
    return this.procs.has(pid) && isProcessAlive(pid);
  }
  async status(pid: number): Promise<string> {
    return this.owns(pid) ? 'running' : 'not running';
  }
  agentEndpoint(files: VmFiles): AgentEndpoint {
    return { kind: 'unix', path: files.agentSocket };
  }
  async requestPowerOff(pid: number): Promise<boolean> {
    this.procs.get(pid)?.kill('SIGTERM');
    return true;
  }
  async hardStop(pid: number): Promise<void> {
    this.procs.get(pid)?.kill('SIGKILL');
    await waitForExit(pid, 5_000);
  }
}

const MEMINFO = 'MemTotal:        1024000 kB\nMemFree:          10000 kB\nMemAvailable:     768000 kB\n';
const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const tcpLine = (local: string, remote: string, st: string) =>
  `   0: ${local} ${remote} ${st} 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n`;

/** A guest's /proc as its agent sees it: sshd listening, and `sshSessions` sessions into it. */
function writeGuestProc(dir: string, sshSessions: number): void {
  mkdirSync(join(dir, 'net'), { recursive: true });
  writeFileSync(join(dir, 'meminfo'), MEMINFO);
  writeFileSync(join(dir, 'uptime'), '42.00 80.00\n');
  writeFileSync(join(dir, 'loadavg'), '0.10 0.20 0.30 1/99 123\n');
  let tcp = TCP_HEADER + tcpLine('00000000:0016', '00000000:0000', '0A');
  for (let i = 0; i < sshSessions; i++) tcp += tcpLine('0F02000A:0016', `0102000A:C35${i}`, '01');
  writeFileSync(join(dir, 'net', 'tcp'), tcp);
}

/**
 * Connections to the stand-in agents. The daemon's shared agent connection (agent/hub.ts) stays
 * open after each call, so the test ends them itself: `server.close()` leaves open connections
 * (and their agent processes) running.
 */
const agentConns = new Set<Socket>();

/** The VM's agent socket: each connection gets a fresh real agent over stdio reading `procDir`. */
async function serveAgent(socketPath: string, procDir: string): Promise<Server> {
  mkdirSync(dirname(socketPath), { recursive: true });
  const server = createServer((conn) => {
    agentConns.add(conn);
    const agent = spawn(agentBinaryPath(), ['--stdio', '--proc', procDir], { stdio: ['pipe', 'pipe', 'ignore'] });
    conn.pipe(agent.stdin);
    agent.stdout.pipe(conn);
    conn.on('error', () => agent.kill());
    conn.on('close', () => agent.kill());
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  return server;
}

function services(dir: string, layout: Layout, log: JsonLogger) {
  const store = Store.open(join(dir, 'state.db'));
  const runner = new FakeHostRunner().on(['ssh'], { exitCode: 255, stderr: 'no route to host' });
  const privileged = new FakePrivilegedOps();
  const images = new ImageService({
    store,
    runner,
    layout,
    kernels: new KernelService({ store, runner, layout, defaultName: null }),
    privileged,
  });
  const nat = new NatController({
    privileged,
    runner,
    log,
    bridge: 'br-fc',
    uplink: undefined,
    stateFile: join(dir, 'nat.json'),
  });
  const vmm = new ProcessVmm();
  const vms = new VmService({
    store,
    layout,
    config: defaultConfig(layout),
    runner,
    privileged,
    drivers: { qemu: vmm, firecracker: vmm },
    hostFacts: () => ({ firecrackerBin: null, kvm: { usable: false, reason: 'test' }, deviceMapper: false }),
    images,
    nat,
    taps: new TapPool({ privileged, log, bridge: 'br-fc', size: 0 }),
    workspaces: new WorkspaceService({ runner, store, log }),
    log,
  });
  return { store, vms, vmm, privileged, images };
}

test('vm.stats samples running VMs on demand and per poll; auto-stop stops the idle one and keeps the connected one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bgr-stats-'));
  const layout = userLayout({ home: dir, uid: process.getuid!(), env: { XDG_RUNTIME_DIR: join(dir, 'run') } });
  const logged: Array<Record<string, unknown>> = [];
  const logStream = new PassThrough();
  logStream.on('data', (l: Buffer) => {
    for (const line of l.toString().split('\n').filter(Boolean)) logged.push(JSON.parse(line));
  });
  const log = new JsonLogger(logStream, 'info', {});
  const { store, vms, vmm } = services(dir, layout, log);
  const sysNet = join(dir, 'sys-class-net');
  const servers: Server[] = [];
  try {
    const made = new Map<string, { files: VmFiles; pid: number }>();
    for (const [id, name, busy] of [
      ['aa11bb22', 'idle', false],
      ['cc33dd44', 'used', true],
    ] as const) {
      const files = vmFiles(layout, id);
      mkdirSync(files.dir, { recursive: true });
      mkdirSync(files.runtimeDir, { recursive: true });
      // The "VMM": a busy loop for the connected VM (its CPU% shows), a sleep for the other.
      const child = spawn('sh', ['-c', busy ? 'while :; do :; done' : 'exec sleep 600'], { stdio: 'ignore' });
      vmm.procs.set(child.pid!, child);
      const tap = tapNameForVm(id);
      writeFileSync(
        files.handles,
        JSON.stringify({ pid: child.pid, tap, vmm: 'fake', startedAt: new Date(Date.now() - 90_000).toISOString() }),
      );
      // Disks: sparse files with 1 MiB written.
      for (const f of [files.rootfsOverlay, files.workDisk]) {
        writeFileSync(f, Buffer.alloc(MIB, 1));
        truncateSync(f, 64 * MIB);
      }
      mkdirSync(join(sysNet, tap, 'statistics'), { recursive: true });
      writeFileSync(join(sysNet, tap, 'statistics', 'rx_bytes'), '1000\n');
      writeFileSync(join(sysNet, tap, 'statistics', 'tx_bytes'), '250000\n');
      const proc = join(dir, `proc-${name}`);
      writeGuestProc(proc, busy ? 1 : 0);
      servers.push(await serveAgent(files.agentSocket, proc));
      store.vms.insert(
        sampleVm({
          id,
          name,
          dnsName: `${name}.vm`,
          state: 'running',
          guestIp: busy ? '10.99.0.3' : '10.99.0.2',
          mac: null,
        }),
      );
      store.vms.setRuntime(id, 'running', JSON.parse(JSON.stringify({ pid: child.pid, tap })));
      made.set(name, { files, pid: child.pid! });
    }
    store.vms.insert(
      sampleVm({ id: 'ee55ff66', name: 'off', dnsName: 'off.vm', state: 'stopped', guestIp: null, mac: null }),
    );

    const poller = new StatsPoller({
      vms,
      log,
      intervalMs: 1_000,
      autoStopAfterMs: 10_000,
      roots: { proc: '/proc', sysClassNet: sysNet },
    });
    const handlers = createHandlers({
      layout,
      configFile: join(dir, 'config.toml'),
      startedAt: Date.now(),
      vms,
      images: {} as never,
      kernels: {} as never,
      workspaces: {} as never,
      operations: new OperationRegistry(),
      stats: poller,
      forwards: new ForwardService({ store, log, isRunning: (vm) => vm.state === 'running' }),
      dnsStatus: async () => ({}) as never,
      requestShutdown: () => {},
    });
    const opCtx = { opId: 'op-test' } as never;

    // A first vm.stats, before any poll: both running VMs sampled on the spot, the stopped one left out.
    const first = await handlers['vm.stats']({ names: [] }, opCtx);
    assert.deepEqual(METHODS['vm.stats'].result.parse(first), first, 'the answer is what the wire schema carries');
    assert.equal(first.pollIntervalMs, 1_000);
    assert.deepEqual(first.stats.map((s) => s.name).sort(), ['idle', 'used']);
    const used0 = first.stats.find((s) => s.name === 'used')!;
    assert.equal(used0.vcpu, 2);
    assert.equal(used0.cpuPercent, null, 'no CPU share from a single sample');
    assert.ok((used0.vmmRssBytes ?? 0) > 0);
    assert.ok(used0.uptimeS !== null && used0.uptimeS >= 89);
    assert.deepEqual(used0.net, { tap: tapNameForVm('cc33dd44'), rxBytes: 250000, txBytes: 1000 });
    assert.equal(used0.disks.root?.apparentBytes, 64 * MIB);
    assert.ok(used0.disks.root!.allocatedBytes >= MIB && used0.disks.root!.allocatedBytes < 8 * MIB);
    assert.equal(used0.disks.work?.apparentBytes, 64 * MIB);
    assert.deepEqual(
      { total: used0.guest?.memTotalBytes, used: used0.guest?.memUsedBytes, conn: used0.guest?.tcpEstablishedIn },
      { total: 1024000 * 1024, used: 256000 * 1024, conn: 1 },
    );
    assert.equal(used0.autoStop.enabled, true);

    // A stopped VM named explicitly: its disks, nothing live.
    const [off] = (await handlers['vm.stats']({ names: ['off'] }, opCtx)).stats;
    assert.equal(off!.state, 'stopped');
    assert.equal(off!.guest, null);
    assert.equal(off!.vmmPid, null);
    assert.equal(off!.autoStop.stopAt, null);
    await assert.rejects(handlers['vm.stats']({ names: ['nope'] }, opCtx), /no VM named "nope"/);

    // ssh (vm.ssh_target) is a use: touched_at moves.
    store.vms.touch('aa11bb22', new Date(Date.now() - 3_600_000));
    const before = Date.parse(store.vms.find('aa11bb22')!.touchedAt);
    const target = await handlers['vm.ssh_target']({ name: 'idle' }, opCtx);
    assert.equal(target.ssh.ip, '10.99.0.2');
    assert.equal(target.vm.touchedAt, store.vms.find('aa11bb22')!.touchedAt);
    assert.ok(Date.parse(store.vms.find('aa11bb22')!.touchedAt) > before);

    // Both untouched for an hour; `vm show` says the stop is due.
    for (const id of ['aa11bb22', 'cc33dd44']) store.vms.touch(id, new Date(Date.now() - 3_600_000));
    const shown = await handlers['vm.show']({ name: 'idle' }, opCtx);
    assert.ok(Date.parse(shown.autoStop.stopAt!) < Date.now());

    // The idle stop re-checks under the lock: a use just before it keeps the VM running.
    vms.touch('idle');
    assert.equal((await vms.stopIdle('idle', 10_000, { opId: 'op-race' })).state, 'running');
    store.vms.touch('aa11bb22', new Date(Date.now() - 3_600_000));

    await new Promise((r) => setTimeout(r, 1_000));
    await poller.poll();

    const idle = store.vms.find('idle')!;
    const used = store.vms.find('used')!;
    assert.equal(idle.state, 'stopped', `idle for an hour, no connection: stopped; ${JSON.stringify(logged)}`);
    assert.ok(!isProcessAlive(made.get('idle')!.pid), 'its VMM is gone');
    assert.equal(used.state, 'running', 'an ssh session into it: kept');
    assert.ok(Date.now() - Date.parse(used.touchedAt) < 10_000, 'the connection counted as a use');
    const line = logged.find((l) => l.msg === 'auto-stop: stopping an idle VM');
    assert.ok(line, `an auto-stop log line among ${JSON.stringify(logged.map((l) => l.msg))}`);
    assert.equal(line.vm, 'idle');
    assert.match(String(line.idle), /^1h/);

    // The poll's sample: the busy loop shows as CPU, the stopped VM is gone from the default list.
    const after = await handlers['vm.stats']({ names: [] }, opCtx);
    assert.deepEqual(
      after.stats.map((s) => s.name),
      ['used'],
    );
    assert.ok((after.stats[0]!.cpuPercent ?? 0) > 5, `a busy loop's CPU%: ${after.stats[0]!.cpuPercent}`);
    await poller.stop();
  } finally {
    for (const s of servers) s.close();
    for (const c of agentConns) c.destroy();
    for (const c of vmm.procs.values()) c.kill('SIGKILL');
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

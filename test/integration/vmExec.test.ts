/**
 * `vm.exec`, `vm.ping` and `vm.health` through the daemon's real RPC server, handlers and
 * VmService, with the real banger-agent (run on the host with --stdio) as the guest: a unix
 * socket at the VM's agent path spawns one agent per connection, as QEMU's chardev joins the
 * daemon to the guest's serial port. The VMM is the fake driver (nothing boots); the stand-in
 * can drop connections or kill its agent, to show how transport failures are reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { silentLogger } from '../../src/log/index.js';
import { BangerError, commandExitStatus } from '../../src/model/index.js';
import { OperationRegistry } from '../../src/opstate/index.js';
import { userLayout, vmFiles } from '../../src/paths/index.js';
import { UnavailablePrivilegedOps } from '../../src/roothelper/index.js';
import { METHODS, RpcClient, RpcServer, type CallOptions } from '../../src/rpc/index.js';
import { Store } from '../../src/store/index.js';
import { FakeHostRunner } from '../fakes/fakeHostRunner.js';
import { FakeVmmDriver } from '../fakes/fakeVmmDriver.js';
import { sampleVm } from '../fixtures/vms.js';

/** The guest stand-in: one real agent per connection; `drop` connections are closed at once. */
class AgentStandIn {
  drop = 0;
  readonly agents: ChildProcess[] = [];
  private server: Server | undefined;

  async listen(path: string): Promise<void> {
    this.server = createServer((sock) => {
      if (this.drop > 0) {
        this.drop--;
        sock.destroy();
        return;
      }
      const agent = spawn(agentBinaryPath(), ['--stdio'], { stdio: ['pipe', 'pipe', 'ignore'] });
      this.agents.push(agent);
      sock.pipe(agent.stdin!);
      agent.stdout!.pipe(sock);
      sock.on('error', () => agent.kill('SIGKILL'));
      sock.on('close', () => agent.kill('SIGKILL'));
    });
    await new Promise<void>((r) => this.server!.listen(path, r));
  }

  close(): void {
    for (const a of this.agents) a.kill('SIGKILL');
    this.server?.close();
  }
}

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'bgr-exec-'));
  const layout = userLayout({ home: dir, uid: 1000, env: { XDG_RUNTIME_DIR: join(dir, 'run') } });
  const store = Store.open(join(dir, 'state.db'));
  const runner = new FakeHostRunner();
  const privileged = new UnavailablePrivilegedOps();
  const kernels = new KernelService({ store, runner, layout, defaultName: null });
  const images = new ImageService({ store, runner, layout, kernels, privileged });
  const driver = new FakeVmmDriver();
  const workspaces = new WorkspaceService({ runner, store, log: silentLogger });
  const vms = new VmService({
    store,
    layout,
    config: defaultConfig(layout),
    runner,
    privileged,
    drivers: { qemu: driver, firecracker: driver },
    hostFacts: () => ({ firecrackerBin: null, kvm: { usable: false, reason: 'test' }, deviceMapper: false }),
    images,
    nat: new NatController({
      privileged,
      runner,
      log: silentLogger,
      bridge: 'br-x',
      uplink: undefined,
      stateFile: join(dir, 'nat.json'),
    }),
    taps: new TapPool({ privileged, log: silentLogger, bridge: 'br-x', size: 0 }),
    workspaces,
    log: silentLogger,
  });
  // A running VM: a pid the fake driver owns, its handles, and the agent at its socket.
  const vm = sampleVm({ id: 'e1e1e1e1', name: 'ex', state: 'running', guestIp: '127.0.0.1' });
  store.vms.insert(vm);
  const pid = 4_000_000;
  driver.alive.add(pid);
  const files = vmFiles(layout, vm.id);
  mkdirSync(join(files.agentSocket, '..'), { recursive: true });
  const handles = { pid, tap: 'tap-x', vmm: 'qemu', startedAt: new Date().toISOString() };
  mkdirSync(join(files.handles, '..'), { recursive: true });
  writeFileSync(files.handles, JSON.stringify(handles));
  store.vms.setRuntime(vm.id, 'running', handles);
  store.vms.insert(
    sampleVm({
      id: 'f2f2f2f2',
      name: 'off',
      state: 'stopped',
      guestIp: '172.16.0.9',
      mac: '52:54:00:f2:f2:f2',
      dnsName: 'off.vm',
    }),
  );
  const guest = new AgentStandIn();
  await guest.listen(files.agentSocket);
  const socketPath = join(dir, 'bangerd.sock');
  const server = new RpcServer({
    socketPath,
    methods: METHODS,
    log: silentLogger,
    operations: new OperationRegistry(),
    handlers: createHandlers({
      layout,
      configFile: join(dir, 'config.toml'),
      startedAt: Date.now(),
      vms,
      images,
      kernels,
      workspaces,
      operations: new OperationRegistry(),
      stats: new StatsPoller({ vms, log: silentLogger, intervalMs: 60_000, autoStopAfterMs: 0 }),
      forwards: new ForwardService({ store, log: silentLogger, isRunning: (vm) => vm.state === 'running' }),
      dnsStatus: async () => ({ listening: [], records: [], resolved: {}, upstreams: [], recipes: '' }) as never,
      requestShutdown: () => {},
    }),
  });
  await server.listen();
  const client = new RpcClient(socketPath, METHODS);
  return {
    guest,
    client,
    async cleanup() {
      guest.close();
      await server.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** vm.exec with its output collected. */
async function exec(
  client: RpcClient<typeof METHODS>,
  params: { name: string; argv: string[]; cwd?: string; stdin?: boolean },
  onOpen?: CallOptions['onOpen'],
) {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const order: string[] = [];
  const r = await client.call('vm.exec', params, {
    onOutput: (s, d) => {
      (s === 'stdout' ? out : err).push(d);
      order.push(`${s}:${d.toString().trim()}`);
    },
    ...(onOpen && { onOpen }),
  });
  return { ...r, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), order };
}

test('vm.exec through the daemon: output in order as it comes, the exit status, stdin, signals, cwd', async () => {
  const t = await setup();
  try {
    const r = await exec(t.client, {
      name: 'ex',
      argv: ['sh', '-c', 'echo ok-1; sleep 0.2; echo warn >&2; sleep 0.2; echo done; exit 7'],
    });
    assert.deepEqual(r.order, ['stdout:ok-1', 'stderr:warn', 'stdout:done']);
    assert.equal(commandExitStatus(r), 7);
    // 3 MiB of stdin, sent in pieces, reaches the command whole.
    const data = Buffer.alloc(3 * 1024 * 1024, 'x');
    const piped = await exec(t.client, { name: 'ex', argv: ['sha256sum'], stdin: true }, (input) => {
      for (let off = 0; off < data.length; off += 64 * 1024)
        input.send({ type: 'stdin', data: data.subarray(off, off + 64 * 1024).toString('base64') });
      input.send({ type: 'stdin', eof: true });
    });
    assert.equal(piped.stdout.split(' ')[0], createHash('sha256').update(data).digest('hex'));
    // Without stdin the command reads an empty one.
    assert.equal((await exec(t.client, { name: 'ex', argv: ['wc', '-c'] })).stdout.trim(), '0');
    // INT from the client reaches the command's process group.
    const interrupted = await exec(t.client, { name: 'ex', argv: ['sh', '-c', 'sleep 20'] }, (input) =>
      setTimeout(() => input.send({ type: 'signal', signal: 'INT' }), 300),
    );
    assert.equal(interrupted.signal, 2);
    assert.equal(commandExitStatus(interrupted), 130);
    assert.equal((await exec(t.client, { name: 'ex', argv: ['pwd'], cwd: '/tmp' })).stdout, '/tmp\n');
    // A missing program is 127 with the reason on stderr, as a shell says it; a missing directory is not_found.
    const missing = await exec(t.client, { name: 'ex', argv: ['/no/such/tool'] });
    assert.equal(missing.exitCode, 127);
    assert.match(missing.stderr, /cannot run \/no\/such\/tool: No such file/);
    await assert.rejects(
      exec(t.client, { name: 'ex', argv: ['true'], cwd: '/no/such/dir' }),
      (e: BangerError) => e.code === 'not_found' && /cannot change to \/no\/such\/dir/.test(e.message),
    );
    await assert.rejects(exec(t.client, { name: 'off', argv: ['true'] }), (e: BangerError) => e.code === 'not_running');
    await assert.rejects(
      exec(t.client, { name: 'ex', argv: ['true'], cwd: 'relative' }),
      (e: BangerError) => e.code === 'bad_request' && /cwd/.test(e.message),
    );
  } finally {
    await t.cleanup();
  }
});

test('vm.exec: connections lost before the command started are retried; one lost while it runs is transport_failed', async () => {
  const t = await setup();
  try {
    t.guest.drop = 3; // the first connections fail (a guest that is not there yet)
    const r = await exec(t.client, { name: 'ex', argv: ['sh', '-c', 'echo through; exit 255'] });
    assert.equal(r.stdout, 'through\n');
    assert.equal(commandExitStatus(r), 255, "255 is the command's own status");
    // The agent dies while the command runs: banger's own error, not a status.
    let pid = 0;
    const lost = t.client.call(
      'vm.exec',
      { name: 'ex', argv: ['sh', '-c', 'echo $$; exec sleep 5'] },
      { onOutput: (_s, d) => (pid = Number(d.toString().trim())) },
    );
    while (!pid) await new Promise((r) => setTimeout(r, 20));
    for (const a of t.guest.agents) a.kill('SIGKILL');
    await assert.rejects(lost, (e: BangerError) => {
      assert.equal(e.code, 'transport_failed');
      assert.match(e.message, /lost while the command ran.*did not complete and its status is unknown/);
      return true;
    });
    process.kill(-pid, 'SIGKILL'); // the orphan the dead agent left (its own session)
  } finally {
    await t.cleanup();
  }
});

test('vm.ping and vm.health: each VM answers or says why not', async () => {
  const t = await setup();
  try {
    const { vms: pings } = await t.client.call('vm.ping', { names: ['ex', 'off'] });
    assert.equal(pings[0]!.ok, true);
    assert.ok(pings[0]!.latencyMs! >= 0 && pings[0]!.latencyMs! < 5000);
    assert.equal(pings[1]!.ok, false);
    assert.match(pings[1]!.error!, /not running/);
    const { vms: health } = await t.client.call('vm.health', { names: ['ex'] });
    assert.equal(health[0]!.ok, true);
    assert.match(health[0]!.health!.boot_id, /^[0-9a-f-]{36}$/);
    assert.equal(health[0]!.health!.transport, 'stdio');
    assert.equal(typeof health[0]!.ssh, 'boolean');
    await assert.rejects(t.client.call('vm.ping', { names: ['nope'] }), (e: BangerError) => e.code === 'not_found');
    await assert.rejects(t.client.call('vm.ping', { names: [] }), (e: BangerError) => e.code === 'bad_request');
  } finally {
    await t.cleanup();
  }
});

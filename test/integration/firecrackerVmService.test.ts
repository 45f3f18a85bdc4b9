/**
 * Firecracker VMs through the daemon's VmService (docs/howto/firecracker.md), with the real store, disks,
 * bridge and tap, the real root helper process (`bangerd --root-helper`) doing the jailer's
 * privileged steps, and the Firecracker and jailer stand-ins (the API double, a real agent
 * behind vsock). Restarting the helper or the daemon must leave the VM running and adopted.
 *
 * What stands in for the host: `hostFacts` says KVM is usable (this machine's is not), and
 * since the stand-in boots no guest, the test answers for the guest's sshd on the guest's
 * address (added to the test bridge) so the readiness wait can finish.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withAgent } from '../../src/agent/index.js';
import { defaultConfig, type Config } from '../../src/config/index.js';
import { ImageService } from '../../src/daemon/imageService.js';
import { KernelService } from '../../src/daemon/kernelService.js';
import { NatController } from '../../src/daemon/natController.js';
import { TapPool } from '../../src/daemon/tapPool.js';
import { VmService, type HostVmmFacts } from '../../src/daemon/vmService.js';
import { WorkspaceService } from '../../src/daemon/workspaceService.js';
import { FirecrackerDriver } from '../../src/firecracker/index.js';
import { silentLogger } from '../../src/log/index.js';
import { userLayout, vmFiles } from '../../src/paths/index.js';
import { QemuDriver } from '../../src/qemu/index.js';
import { RemotePrivilegedOps } from '../../src/roothelper/index.js';
import { Store } from '../../src/store/index.js';
import { acceptsConnections, ExecHostRunner, isProcessAlive, ProcessSupervisor } from '../../src/system/index.js';
import { writeFakeBzImage, writeFirecrackerStandIns } from '../fakes/firecrackerStandIns.js';
import { distRootHelper, repoRoot, waitFor } from './harness.js';

const ctx = { opId: 'op-fc-test' };
const links = () => execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });

test('Firecracker VMs through VmService and the root helper: jailed start, helper and daemon restarts keep the VM, stop and delete leave nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bgr-fcvm-'));
  const bins = writeFirecrackerStandIns(dir, join(repoRoot, 'build'));
  const layout = userLayout({ home: dir, uid: 0, env: { XDG_RUNTIME_DIR: join(dir, 'run') } });
  for (const d of [layout.stateDir, layout.vmsDir, layout.imagesDir, layout.kernelsDir, layout.runtimeDir])
    mkdirSync(d, { recursive: true, mode: 0o700 });
  const bridge = `br-fc-zf${randomBytes(2).toString('hex')}`;
  const subnet = `10.214.${randomInt(10, 250)}`;
  const config: Config = {
    ...defaultConfig(layout),
    bridge_name: bridge,
    bridge_ip: `${subnet}.1`,
    cidr: 24,
    tap_pool_size: 0,
    vmm: 'firecracker',
    firecracker_bin: bins.firecrackerBin,
    jailer_bin: bins.jailerBin,
    jailer_enabled: true,
    default_image_name: 'fc-test',
    // The stand-in guest is an agent run on this host, which refuses identity and quiesce: no templates here.
    warm_start: false,
  };
  const helperSocket = join(dir, 'helper.sock');
  let helper: ChildProcess | null = null;
  const startHelper = async () => {
    helper = spawn(
      process.execPath,
      [
        distRootHelper,
        '--socket',
        helperSocket,
        '--owner-uid',
        '0',
        '--owner-gid',
        '0',
        '--state-dir',
        layout.stateDir,
        '--root-state-dir',
        layout.rootStateDir,
        '--bridge',
        bridge,
        '--bridge-ip',
        config.bridge_ip,
        '--cidr',
        '24',
        '--jailer-bin',
        bins.jailerBin,
        '--firecracker-bin',
        bins.firecrackerBin,
      ],
      { stdio: 'ignore' },
    );
    assert.ok(await waitFor(() => acceptsConnections(helperSocket), 10_000), 'the root helper serves its socket');
  };
  const stopHelper = async (signal: NodeJS.Signals) => {
    const h = helper!;
    if (h.exitCode === null && h.signalCode === null) {
      const exited = new Promise((r) => h.once('exit', r));
      h.kill(signal);
      await exited;
    }
    rmSync(helperSocket, { force: true });
  };
  let host: HostVmmFacts = {
    firecrackerBin: bins.firecrackerBin,
    kvm: { usable: true, reason: 'KVM is usable' },
    deviceMapper: false,
  };
  const runner = new ExecHostRunner();
  const service = (store: Store) => {
    const privileged = new RemotePrivilegedOps(helperSocket);
    const supervisor = new ProcessSupervisor();
    const kernels = new KernelService({ store, runner, layout, defaultName: null });
    return new VmService({
      store,
      layout,
      config,
      runner,
      privileged,
      log: silentLogger,
      hostFacts: () => host,
      drivers: {
        qemu: new QemuDriver({
          qemuBin: config.qemu_bin,
          accelSetting: 'tcg',
          accelProbeFile: join(dir, 'accel.json'),
          supervisor,
          log: silentLogger,
        }),
        firecracker: new FirecrackerDriver({
          firecrackerBin: bins.firecrackerBin,
          runner,
          supervisor,
          privileged,
          log: silentLogger,
          jailer: { enabled: true },
        }),
      },
      images: new ImageService({ store, runner, layout, kernels, privileged }),
      nat: new NatController({
        privileged,
        runner,
        log: silentLogger,
        bridge,
        uplink: undefined,
        stateFile: join(layout.stateDir, 'nat.json'),
      }),
      taps: new TapPool({ privileged, log: silentLogger, bridge, size: 0 }),
      workspaces: new WorkspaceService({ runner, store, log: silentLogger }),
    });
  };
  let store = Store.open(layout.dbFile);
  let sshd: Server | null = null;
  const jailOf = (id: string) => join(layout.rootStateDir, 'jail', 'firecracker', id);
  try {
    // A kernel (bzImage-like: stub plus a gzip'd ELF) and a small ext4 image, registered.
    const kernelDir = join(layout.kernelsDir, 'fc-test');
    mkdirSync(kernelDir);
    writeFakeBzImage(join(kernelDir, 'vmlinuz'));
    const imageDir = join(layout.imagesDir, 'fc-test');
    mkdirSync(imageDir);
    execFileSync('truncate', ['-s', '16M', join(imageDir, 'rootfs.ext4')]);
    execFileSync('mkfs.ext4', ['-q', '-F', join(imageDir, 'rootfs.ext4')]);
    const now = new Date().toISOString();
    for (const [id, name] of [
      ['k0000001', 'fc-test-kernel'],
      ['k0000002', 'debian-bookworm-cloud'],
    ] as const) {
      store.kernels.insert({
        id,
        name,
        version: null,
        source: 'test',
        kernelPath: join(kernelDir, 'vmlinuz'),
        initrdPath: null,
        modulesDir: null,
        sha256: null,
        createdAt: now,
      });
    }
    for (const [id, name, kernelId] of [
      ['i0000001', 'fc-test', 'k0000001'],
      ['i0000002', 'qemu-only', 'k0000002'],
    ] as const) {
      store.images.insert({
        id,
        name,
        source: 'test',
        distro: null,
        arch: 'x86_64',
        rootfsPath: join(imageDir, 'rootfs.ext4'),
        workSeedPath: null,
        kernelId,
        initrdPath: null,
        sizeBytes: 16 << 20,
        createdAt: now,
        oci: null,
      });
    }
    await startHelper();
    let svc = service(store);

    // Refusals come before anything is made.
    await assert.rejects(
      svc.create({ name: 'old-kernel', image: 'qemu-only', diskSizeBytes: 256 << 20, start: false }, ctx),
      /kernel debian-bookworm-cloud cannot boot under Firecracker/,
    );
    host = { ...host, kvm: { usable: false, reason: '/dev/kvm is absent or not accessible' } };
    await assert.rejects(
      svc.create({ name: 'no-kvm', diskSizeBytes: 256 << 20, start: false }, ctx),
      /KVM cannot run guests here/,
    );
    assert.equal(
      (await svc.create({ name: 'auto-pick', vmm: 'auto', diskSizeBytes: 256 << 20, start: false }, ctx)).vmm,
      'qemu',
      'auto without usable KVM is QEMU',
    );
    assert.equal(svc.show('auto-pick').rootOverlay, 'qcow2');
    host = { ...host, kvm: { usable: true, reason: 'KVM is usable' } };
    assert.deepEqual(
      store.vms.list().map((v) => v.name),
      ['auto-pick'],
      'refused creates left no record',
    );

    // The guest's sshd, answered on the guest address (see the header).
    const created = await svc.create({ name: 'fc-one', diskSizeBytes: 256 << 20, start: false }, ctx);
    assert.equal(created.vmm, 'firecracker');
    assert.equal(created.rootOverlay, 'copy', 'no device-mapper here: a sparse copy');
    await new RemotePrivilegedOps(helperSocket).ensureBridge({}, ctx);
    execFileSync('ip', ['addr', 'add', `${created.guestIp}/32`, 'dev', bridge]);
    sshd = createServer((c) => c.end('SSH-2.0-stand-in\r\n'));
    await new Promise<void>((resolve, reject) => {
      sshd!.once('error', reject);
      sshd!.listen(22, created.guestIp!, resolve);
    });

    const running = await svc.start('fc-one', ctx);
    assert.equal(running.state, 'running');
    const first = (await svc.runtime(running))!;
    assert.equal(first.vmm, 'firecracker v1.14.1, jailed');
    assert.equal(first.status, 'running');
    assert.ok('health' in first.agent, 'the agent answers over vsock');
    assert.ok(links().includes(`${first.tap}:`), 'its tap exists');
    assert.ok(existsSync(join(jailOf(running.id), 'root', 'firecracker.pid')));

    // Restarting the helper (gracefully, then killed) never reaches the VM.
    await stopHelper('SIGTERM');
    assert.equal(isProcessAlive(first.pid), true, 'the VM survived the helper stopping');
    await startHelper();
    await stopHelper('SIGKILL');
    assert.equal(isProcessAlive(first.pid), true, 'the VM survived the helper being killed');
    await startHelper();

    // A restarted daemon (new store handle, new service and drivers) adopts it.
    store.close();
    store = Store.open(layout.dbFile);
    svc = service(store);
    const reconciled = await svc.reconcile(ctx);
    assert.deepEqual(reconciled.adopted, ['fc-one']);
    const adopted = (await svc.runtime(svc.show('fc-one')))!;
    assert.equal(adopted.pid, first.pid);
    assert.equal(
      (await withAgent(svc.driverOf(running).agentEndpoint(vmFiles(layout, running.id)), (c) => c.health())).protocol,
      1,
    );

    // Graceful stop: the host's agent refuses to power off and the stand-in sshd is no sshd,
    // so the VMM's own request (Ctrl-Alt-Del) ends it, before any hard stop.
    const stages: string[] = [];
    const stopped = await svc.stop('fc-one', {
      ...ctx,
      progress: (stage, detail) => stages.push(`${stage}: ${detail ?? ''}`),
    });
    assert.equal(stopped.state, 'stopped');
    assert.ok(stages.includes('stopping: ssh did not answer either: asked through the VMM'), stages.join('\n'));
    assert.equal(
      stages.some((x) => x.includes('hard stop')),
      false,
      'no hard stop was needed',
    );
    assert.equal(isProcessAlive(first.pid), false);
    assert.equal(existsSync(jailOf(running.id)), false, 'the jail is removed');
    assert.equal(links().includes(first.tap), false, 'the tap is deleted');
    assert.ok(statSync(vmFiles(layout, running.id).rootfsCopy).isFile());
    const again = await svc.start('fc-one', ctx);
    const second = (await svc.runtime(again))!;
    assert.notEqual(second.pid, first.pid);
    // vm kill: the stand-in ends on SIGTERM; the VM is released all the same.
    assert.equal((await svc.kill('fc-one', 'TERM', ctx)).state, 'stopped');
    assert.equal(existsSync(jailOf(running.id)), false);
    await svc.start('fc-one', ctx);
    await svc.delete('fc-one', ctx);
    await svc.delete('auto-pick', ctx);
    assert.equal(isProcessAlive(second.pid), false);
    assert.equal(existsSync(jailOf(running.id)), false);
    assert.equal(existsSync(vmFiles(layout, running.id).dir), false);
    assert.equal(links().includes(second.tap), false);
  } finally {
    sshd?.close();
    if (helper) await stopHelper('SIGTERM').catch(() => undefined);
    // Whatever a failed run left: every stand-in process names a path under the test directory.
    try {
      execFileSync('pkill', ['-KILL', '-f', dir], { stdio: 'ignore' });
    } catch {
      /* none left */
    }
    store.close();
    try {
      execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
    } catch {
      /* never made */
    }
    rmSync(dir, { recursive: true, force: true });
    assert.equal(links().includes(bridge), false, 'no test bridge left');
  }
});

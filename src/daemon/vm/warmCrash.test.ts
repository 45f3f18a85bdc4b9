/**
 * Hostile review of warm starts (docs/howto/snapshots.md): what a daemon killed mid-way, a
 * failed restore of a fork, and an interrupted template build leave behind, with the real
 * store, real files and disks, and the fake VMM driver (whose pids the test controls).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../config/index.js';
import { silentLogger } from '../../log/index.js';
import { userLayout, vmFiles, type Layout } from '../../paths/index.js';
import { UnavailablePrivilegedOps } from '../../roothelper/index.js';
import { Store } from '../../store/index.js';
import { ExecHostRunner, writePidFile } from '../../system/index.js';
import { FakeVmmDriver } from '../../../test/fakes/fakeVmmDriver.js';
import { sampleVm } from '../../../test/fixtures/vms.js';
import { ImageService } from '../imageService.js';
import { KernelService } from '../kernelService.js';
import { NatController } from '../natController.js';
import { TapPool } from '../tapPool.js';
import { WorkspaceService } from '../workspaceService.js';
import { VmEnv } from './env.js';
import { reconcileVms } from './reconcile.js';
import { shapeFileIn, writeShape } from '../../snapshots/index.js';
import { setVm } from './settings.js';
import { startVm } from './start.js';
import { resumeVm } from './suspend.js';
import { warmSource } from './warmStart.js';

const ctx = { opId: 'op-warm-review' };

async function withEnv(
  fn: (o: { env: VmEnv; store: Store; layout: Layout; driver: FakeVmmDriver; dir: string }) => Promise<void>,
) {
  const dir = mkdtempSync(join(tmpdir(), 'bgr-warmrev-'));
  const store = Store.open(join(dir, 'state.db'));
  try {
    const layout = userLayout({ home: dir, uid: 1000, env: { XDG_RUNTIME_DIR: join(dir, 'run') } });
    for (const d of [layout.stateDir, layout.vmsDir, layout.runtimeDir]) mkdirSync(d, { recursive: true });
    const runner = new ExecHostRunner();
    const privileged = new UnavailablePrivilegedOps();
    const driver = new FakeVmmDriver();
    const env = new VmEnv({
      store,
      layout,
      config: { ...defaultConfig(layout), ssh_key_path: join(dir, 'id_ed25519') },
      runner,
      privileged,
      drivers: { qemu: driver, firecracker: driver },
      hostFacts: () => ({ firecrackerBin: null, kvm: { usable: false, reason: 'test' }, deviceMapper: false }),
      images: new ImageService({
        store,
        runner,
        layout,
        kernels: new KernelService({ store, runner, layout, defaultName: null }),
        privileged,
      }),
      nat: new NatController({
        privileged,
        runner,
        log: silentLogger,
        bridge: 'br-fc',
        uplink: undefined,
        stateFile: join(dir, 'nat.json'),
      }),
      taps: new TapPool({ privileged, log: silentLogger, bridge: 'br-fc', size: 0 }),
      workspaces: new WorkspaceService({ runner, store, log: silentLogger }),
      log: silentLogger,
    });
    await fn({ env, store, layout, driver, dir });
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a saved VM whose restore a killed daemon left loading keeps its saved state at the next daemon start', async () => {
  await withEnv(async ({ env, store, layout, driver }) => {
    const vm = sampleVm({
      id: 'aaaa0001',
      name: 'saved-one',
      vmDir: join(layout.vmsDir, 'aaaa0001'),
      suspended: 'saved',
    });
    store.vms.insert(vm);
    const files = env.files(vm);
    mkdirSync(files.savedState, { recursive: true });
    writeFileSync(join(files.savedState, 'fake.vmstate'), '{}');
    // `vm start` had the restoring VMM running (its pid file written) but not yet adopted.
    const { pid } = await driver.start({ vcpu: 2, memoryMib: 2048 } as never);
    mkdirSync(files.runtimeDir, { recursive: true });
    writePidFile(files.pidFile, pid);
    await reconcileVms(env, ctx);
    assert.equal(driver.alive.has(pid), false, 'the unrecorded VMM is stopped');
    const after = env.show(vm.id);
    assert.equal(after.state, 'stopped');
    assert.equal(after.suspended, 'saved', 'the guest never ran from the saved state: it must still be resumable');
    assert.ok(existsSync(files.savedState));
  });
});

test('a fork that cannot be restored boots cold with its own host key, not its source’s', async () => {
  await withEnv(async ({ env, store, layout, dir }) => {
    const fork = sampleVm({
      id: 'bbbb0002',
      name: 'fork-one',
      vmDir: join(layout.vmsDir, 'bbbb0002'),
      suspended: 'saved',
    });
    store.vms.insert(fork);
    const files = env.files(fork);
    mkdirSync(files.dir, { recursive: true });
    // The fork's disks are clones of its source's: the source's host key is in /etc/ssh on
    // the root disk (the initramfs moved it there from /root/.banger-hostkey at the source's
    // first boot). A cold boot replaces it only with a key found in /root/.banger-hostkey.
    execFileSync('truncate', ['-s', '8M', files.workDisk]);
    execFileSync('mkfs.ext4', ['-q', '-F', files.workDisk]);
    // sshKeysInstall (keysByAgent) left the fork's own pair, pinned on the host, for the agent.
    mkdirSync(files.pendingIdentity, { recursive: true });
    writeFileSync(join(files.pendingIdentity, 'ssh_host_ed25519_key'), 'FORK PRIVATE\n');
    writeFileSync(join(files.pendingIdentity, 'ssh_host_ed25519_key.pub'), 'ssh-ed25519 FORK\n');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id_ed25519')]);
    // Its saved state is unusable (corrupt shape): discarded, the VM boots cold from its disks.
    mkdirSync(files.savedState, { recursive: true });
    writeFileSync(join(files.savedState, 'shape.json'), 'not json');
    assert.equal(await warmSource(env, env.show(fork.id), ctx), null);
    const pub = execFileSync('debugfs', ['-R', 'cat /.banger-hostkey/ssh_host_ed25519_key.pub', files.workDisk], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    assert.equal(pub.trim(), 'ssh-ed25519 FORK', 'a cold fork must not serve (and share) its source’s host key');
  });
});

test('a template build killed before it recorded its handles leaves no VMM running after tidy', async () => {
  await withEnv(async ({ env, layout, driver }) => {
    // The build had made its directory and its VM dir (named by the build's id), and its VMM
    // was up (QEMU wrote its pid file) when the daemon died, before handles.json was written.
    const id = 'cccc0003';
    const buildDir = join(layout.templatesDir, `.build-0123456789abcdef-deadbeef`);
    mkdirSync(join(buildDir, id), { recursive: true });
    const { pid } = await driver.start({ vcpu: 2, memoryMib: 2048 } as never);
    const pidFile = vmFiles(layout, id).pidFile;
    mkdirSync(vmFiles(layout, id).runtimeDir, { recursive: true });
    writePidFile(pidFile, pid);
    await env.templates.tidy(ctx);
    assert.equal(existsSync(buildDir), false, 'the scratch is removed');
    assert.equal(driver.alive.has(pid), false, 'the build’s VMM must not outlive its scratch');
  });
});

test('vm set cannot change the disks or shape of a VM whose memory state waits to be restored', async () => {
  await withEnv(async ({ env, store, layout }) => {
    const vm = sampleVm({
      id: 'dddd0004',
      name: 'saved-set',
      vmDir: join(layout.vmsDir, 'dddd0004'),
      suspended: 'saved',
    });
    store.vms.insert(vm);
    const files = env.files(vm);
    mkdirSync(files.savedState, { recursive: true });
    // The saved guest has this ext4 mounted at /root, in the memory the next start restores.
    execFileSync('truncate', ['-s', `${vm.spec.diskSizeBytes}`, files.workDisk]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=1', files.workDisk]);
    await assert.rejects(
      setVm(env, vm.name, { diskSizeBytes: vm.spec.diskSizeBytes + (1 << 30) }, ctx),
      /saved|restor/,
      'resize2fs under a mounted (saved) filesystem corrupts it at the restore',
    );
    await assert.rejects(
      setVm(env, vm.name, { vcpu: 4 }, ctx),
      /saved|restor/,
      'the restore would run the saved shape',
    );
  });
});

test('a VM a killed daemon left paused mid-fork (or mid stop --save) is shown paused and can be resumed', async () => {
  await withEnv(async ({ env, store, layout, driver }) => {
    const vm = sampleVm({ id: 'eeee0005', name: 'fork-src', vmDir: join(layout.vmsDir, 'eeee0005'), state: 'running' });
    store.vms.insert(vm);
    const { pid } = await driver.start({ vcpu: 2, memoryMib: 2048 } as never);
    store.vms.setRuntime(vm.id, 'running', { pid, tap: 'tap-x', vmm: 'fake', startedAt: vm.createdAt });
    // snapshotInto paused the source and was saving it when the daemon died.
    await driver.pause(pid);
    await reconcileVms(env, ctx);
    assert.equal(env.show(vm.id).suspended, 'paused', 'its guest is frozen: the record must say so');
    await resumeVm(env, vm.name, ctx);
    assert.equal(driver.paused.has(pid), false);
  });
});

test('a saved VM whose start fails before any restore (no tap, say) keeps its saved memory state', async () => {
  await withEnv(async ({ env, store, layout, driver }) => {
    const vm = sampleVm({
      id: 'ffff0006',
      name: 'saved-net',
      vmDir: join(layout.vmsDir, 'ffff0006'),
      suspended: 'saved',
      imageId: 'i0000001',
      imageName: 'img',
    });
    store.kernels.insert({
      id: 'k0000001',
      name: 'k',
      version: null,
      source: 'test',
      kernelPath: '/k/vmlinuz',
      initrdPath: null,
      modulesDir: null,
      sha256: null,
      createdAt: vm.createdAt,
    });
    store.images.insert({
      id: 'i0000001',
      name: 'img',
      source: 'test',
      distro: null,
      arch: 'x86_64',
      rootfsPath: join(layout.imagesDir, 'rootfs.ext4'),
      workSeedPath: null,
      kernelId: 'k0000001',
      initrdPath: null,
      sizeBytes: 1,
      createdAt: vm.createdAt,
      oci: null,
    });
    const files = env.files(vm);
    mkdirSync(files.savedState, { recursive: true });
    writeShape(shapeFileIn(files.savedState), {
      vmm: 'qemu',
      hostname: vm.name,
      mac: vm.mac!,
      addressCidr: `${vm.guestIp}/24`,
      gateway: '172.16.0.1',
      dns: '172.16.0.1',
      kernelPath: '/k/vmlinuz',
      initrdPath: null,
      vcpu: 2,
      memoryMib: 2048,
      rootFormat: 'qcow2',
    });
    writeFileSync(join(files.savedState, 'fake.vmstate'), JSON.stringify({ vcpu: 2, memoryMib: 2048 }));
    store.vms.insert(vm);
    // The host cannot make the VM's tap (the root helper is down): nothing was restored.
    await assert.rejects(startVm(env, vm.name, ctx));
    assert.equal(driver.restored.length, 0, 'no restore was tried');
    assert.equal(
      env.show(vm.id).suspended,
      'saved',
      'the saved memory (unsynced writes) must survive a host-side failure',
    );
    assert.ok(existsSync(join(files.savedState, 'fake.vmstate')));
  });
});

/**
 * Firecracker snapshots through the driver, against the double (stand-in `firecracker` and
 * `jailer`, the API validated against the official definition, a real banger-agent behind
 * the vsock socket), plain and jailed (the real privileged operations, as root): pause and
 * resume with status, saveState of a paused VM, restore into another VM's directory with
 * its own disks and tap, and a state directory that cannot be restored failing clearly with
 * nothing left running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { withAgent } from '../../src/agent/index.js';
import { FirecrackerApi, FirecrackerDriver, STATE_FILES } from '../../src/firecracker/index.js';
import { silentLogger } from '../../src/log/index.js';
import { vmFiles } from '../../src/paths/index.js';
import { validatingOps } from '../../src/privops/index.js';
import { InProcessPrivilegedOps, UnavailablePrivilegedOps } from '../../src/roothelper/index.js';
import { ExecHostRunner, isProcessAlive, ProcessSupervisor } from '../../src/system/index.js';
import type { BootSpec } from '../../src/vmm/index.js';
import { standInHost } from '../fakes/firecrackerStandIns.js';
import { repoRoot } from './harness.js';

const ctx = { opId: 'op-snap' };
const TEMPLATE = 'abcd1234';
const CLONE = 'abcd5678';

function setup(jailed: boolean) {
  const { dir, bins, layout, kernel } = standInHost('banger-fcsnap-', join(repoRoot, 'build'));
  const specOf = (vmId: string): BootSpec => {
    const files = vmFiles(layout, vmId);
    mkdirSync(files.dir, { recursive: true });
    writeFileSync(files.rootfsCopy, `root of ${vmId}`);
    writeFileSync(files.workDisk, `work of ${vmId}`);
    return {
      vmId,
      hostname: `vm-${vmId}`,
      vcpu: 1,
      memoryMib: 256,
      kernelPath: kernel,
      initrdPath: null,
      rootDisk: { path: files.rootfsCopy, format: 'raw' },
      workDisk: files.workDisk,
      network: { tap: `tap-fc-${vmId}`, mac: '52:54:ab:cd:12:34', addressCidr: null, gateway: 'g', dns: 'd' },
      files,
    };
  };
  const scope = {
    ownerUid: process.getuid!(),
    ownerGid: process.getgid!(),
    ownerStateDir: layout.stateDir,
    rootStateDir: join(dir, 'root'),
    network: { bridgeName: 'br-fc', bridgeIp: '172.16.0.1', cidr: 24 },
  };
  const driver = new FirecrackerDriver({
    firecrackerBin: bins.firecrackerBin,
    runner: new ExecHostRunner(),
    supervisor: new ProcessSupervisor(),
    log: silentLogger,
    privileged: jailed
      ? validatingOps(
          new InProcessPrivilegedOps({ runner: new ExecHostRunner(), log: silentLogger, scope, jail: bins }),
        )
      : new UnavailablePrivilegedOps(),
    jailer: { enabled: jailed },
  });
  // The state directory is the owner's (root links its files into a clone's jail from there).
  const stateDir = join(layout.stateDir, 'templates', 't1');
  mkdirSync(stateDir, { recursive: true });
  const jailOf = (vmId: string) => join(scope.rootStateDir, 'jail', 'firecracker', vmId, 'root');
  return { dir, driver, stateDir, template: specOf(TEMPLATE), clone: specOf(CLONE), jailOf };
}

/** Live stand-in Firecrackers of VM `vmId` (jailed: `--id=<id>`; plain: `--id <id>`). */
function vmmsOf(vmId: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return argv.some((a) => a.endsWith('firecracker')) && (argv.includes(`--id=${vmId}`) || argv.includes(vmId));
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function cleanup(s: ReturnType<typeof setup>): Promise<void> {
  for (const spec of [s.template, s.clone]) {
    for (const pid of vmmsOf(spec.vmId)) await s.driver.hardStop(pid, spec.files, ctx);
    await s.driver.release(spec.files, ctx).catch(() => undefined);
  }
  rmSync(s.dir, { recursive: true, force: true });
}

for (const jailed of [false, true]) {
  const how = jailed ? 'jailed' : 'plain';
  test(`${how}: pause and resume show in status; a paused VM is saved and restored as another VM with its own disks, tap and agent`, async () => {
    const s = setup(jailed);
    try {
      const d = s.driver;
      const t = await d.start(s.template, ctx);
      await assert.rejects(d.saveState(t.pid, s.template.files, s.stateDir, ctx), /must be paused/);
      await d.pause(t.pid, s.template.files, ctx);
      assert.equal(await d.status(t.pid, s.template.files), 'paused');
      await d.resume(t.pid, s.template.files, ctx);
      assert.equal(await d.status(t.pid, s.template.files), 'running');
      await d.pause(t.pid, s.template.files, ctx);
      await d.saveState(t.pid, s.template.files, s.stateDir, ctx);
      assert.equal(await d.status(t.pid, s.template.files), 'paused', 'the template stays paused');
      assert.deepEqual(readdirSync(s.stateDir).sort(), Object.values(STATE_FILES).sort());
      if (jailed)
        assert.deepEqual(
          readdirSync(join(s.jailOf(TEMPLATE), 'run')).filter((n) => n.startsWith('snapshot')),
          [],
        );

      const c = await d.restore(s.clone, s.stateDir, ctx);
      assert.equal(c.detail, `firecracker v1.14.1${jailed ? ', jailed' : ''}`);
      assert.equal(d.owns(c.pid, s.clone.files), true);
      assert.equal(await d.status(c.pid, s.clone.files), 'paused', 'loaded paused; the caller resumes');
      const cfg = (await new FirecrackerApi(s.clone.files.firecrackerApiSocket).vmConfig()) as {
        'network-interfaces': Array<{ host_dev_name: string }>;
        drives: Array<{ drive_id: string; path_on_host: string }>;
      };
      assert.equal(cfg['network-interfaces'][0]!.host_dev_name, `tap-fc-${CLONE}`, 'the clone is on its own tap');
      const rootOf = (p: string) => (jailed ? join(s.jailOf(CLONE), p) : join(s.clone.files.runtimeDir, p));
      for (const drive of cfg.drives) {
        const own = drive.drive_id === 'root' ? s.clone.rootDisk.path : s.clone.workDisk;
        if (jailed)
          assert.equal(statSync(rootOf(drive.path_on_host)).ino, statSync(own).ino, `${drive.drive_id} is the clone's`);
        else assert.equal(readlinkSync(rootOf(drive.path_on_host)), own, `${drive.drive_id} leads to the clone's disk`);
      }
      if (jailed)
        assert.equal(
          statSync(join(s.jailOf(CLONE), 'snapshot.mem')).ino,
          statSync(join(s.stateDir, 'snapshot.mem')).ino,
        );
      await assert.rejects(
        new FirecrackerApi(s.clone.files.firecrackerApiSocket).call('PUT', '/machine-config', {
          vcpu_count: 1,
          mem_size_mib: 128,
        }),
        /not supported after starting the microVM/,
      );
      await d.resume(c.pid, s.clone.files, ctx);
      assert.equal(await d.status(c.pid, s.clone.files), 'running');
      assert.equal((await withAgent(d.agentEndpoint(s.clone.files), (a) => a.health())).protocol, 1);
      assert.equal(await d.status(t.pid, s.template.files), 'paused', 'the template is untouched');
      await d.hardStop(c.pid, s.clone.files, ctx);
      await d.release(s.clone.files, ctx);
      assert.equal(existsSync(join(s.clone.files.runtimeDir, 'rootfs')), false, 'the disk links went');
      // A second clone of the same state, as the template's paused self keeps running.
      const again = await d.restore(s.clone, s.stateDir, ctx);
      assert.equal(await d.status(again.pid, s.clone.files), 'paused');
    } finally {
      await cleanup(s);
    }
  });

  test(`${how}: a state directory that cannot be restored fails with a clear error and leaves nothing running`, async () => {
    const s = setup(jailed);
    try {
      const d = s.driver;
      await assert.rejects(d.pause(process.pid, s.template.files, ctx), /not this VM's running Firecracker/);
      await assert.rejects(
        d.restore(s.clone, s.stateDir, ctx),
        /cannot be restored as VM vm-abcd5678: it has no firecracker\.json/,
      );
      const t = await d.start(s.template, ctx);
      await d.pause(t.pid, s.template.files, ctx);
      await d.saveState(t.pid, s.template.files, s.stateDir, ctx);
      await assert.rejects(
        d.restore({ ...s.clone, memoryMib: 512 }, s.stateDir, ctx),
        /it has 1 vCPUs and 256 MiB, this VM 1 and 512 MiB/,
      );
      writeFileSync(join(s.stateDir, 'snapshot.vmstate'), randomBytes(64));
      await assert.rejects(
        d.restore(s.clone, s.stateDir, ctx),
        /Firecracker refused PUT \/snapshot\/load: Load snapshot error: .*invalid data/,
      );
      assert.deepEqual(vmmsOf(CLONE), [], 'no VMM left');
      assert.equal(existsSync(s.clone.files.firecrackerApiSocket), false, 'no API socket left');
      if (jailed) assert.equal(existsSync(s.jailOf(CLONE)), false, 'no jail left');
      rmSync(join(s.stateDir, 'snapshot.mem'));
      await assert.rejects(d.restore(s.clone, s.stateDir, ctx), /snapshot\.mem is missing/);
      assert.equal(isProcessAlive(t.pid), true, 'the template still runs');
    } finally {
      await cleanup(s);
    }
  });
}

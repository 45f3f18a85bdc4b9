/**
 * The Firecracker driver through whole lifecycles against the double (stand-in `firecracker`
 * and `jailer` executables; the API validated against the official definition, with a real
 * banger-agent behind the vsock socket): version check, configure, start, agent connect,
 * status, graceful stop, hard stop, adoption by a fresh driver, and a refused configuration
 * that leaves nothing behind; jailed, through the real privileged operations (as root).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { withAgent } from '../../src/agent/index.js';
import { FirecrackerApi, FirecrackerDriver, UNIX_PATH_MAX } from '../../src/firecracker/index.js';
import { silentLogger } from '../../src/log/index.js';
import { vmFiles } from '../../src/paths/index.js';
import { validatingOps } from '../../src/privops/index.js';
import { InProcessPrivilegedOps, UnavailablePrivilegedOps, type HelperScope } from '../../src/roothelper/index.js';
import { ExecHostRunner, isProcessAlive, ProcessSupervisor } from '../../src/system/index.js';
import type { BootSpec } from '../../src/vmm/index.js';
import { standInHost } from '../fakes/firecrackerStandIns.js';
import { repoRoot, waitFor } from './harness.js';

const ctx = { opId: 'op-test' };

function setup(o: { deepJail?: boolean } = {}) {
  const { dir, bins, layout, kernel } = standInHost('banger-fcd-', join(repoRoot, 'build'));
  const files = vmFiles(layout, 'abcd1234');
  mkdirSync(files.dir, { recursive: true });
  writeFileSync(files.rootfsCopy, 'root');
  writeFileSync(files.workDisk, 'work');
  const spec: BootSpec = {
    vmId: 'abcd1234',
    hostname: 'dev',
    vcpu: 1,
    memoryMib: 256,
    kernelPath: kernel,
    initrdPath: null,
    rootDisk: { path: files.rootfsCopy, format: 'raw' },
    workDisk: files.workDisk,
    network: {
      tap: 'tap-fc-abcd1234',
      mac: '52:54:ab:cd:12:34',
      addressCidr: '172.16.0.2/24',
      gateway: '172.16.0.1',
      dns: '172.16.0.1',
    },
    files,
  };
  // A deep root directory puts the jail's sockets past the unix socket path limit (108 bytes).
  const scope: HelperScope = {
    ownerUid: process.getuid!(),
    ownerGid: process.getgid!(),
    ownerStateDir: layout.stateDir,
    rootStateDir: o.deepJail ? join(dir, `root-${'d'.repeat(80)}`) : join(dir, 'root'),
    network: { bridgeName: 'br-fc', bridgeIp: '172.16.0.1', cidr: 24 },
  };
  const chrootBase = join(scope.rootStateDir, 'jail');
  const privileged = validatingOps(
    new InProcessPrivilegedOps({ runner: new ExecHostRunner(), log: silentLogger, scope, jail: bins }),
  );
  const driver = (jailed = false) =>
    new FirecrackerDriver({
      firecrackerBin: bins.firecrackerBin,
      runner: new ExecHostRunner(),
      supervisor: new ProcessSupervisor(),
      log: silentLogger,
      privileged: jailed ? privileged : new UnavailablePrivilegedOps(),
      jailer: { enabled: jailed },
    });
  return { dir, files, spec, driver, kernel, layout, chrootBase, privileged, scope, bins };
}

const parentOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);

test('lifecycle against the double: configure and start, agent over vsock, status, adoption, graceful and hard stop', async () => {
  const s = setup();
  try {
    const d = s.driver();
    const vmm = await d.start(s.spec, ctx);
    assert.equal(vmm.detail, 'firecracker v1.14.1');
    assert.ok(existsSync(join(s.layout.kernelsDir, 'vmlinux')), 'vmlinux extracted and cached beside the kernel');
    assert.match(
      readFileSync(s.files.consoleLog, 'utf8'),
      /API up/,
      "Firecracker's stdout (the serial console) is the console log",
    );
    assert.equal(d.owns(vmm.pid, s.files), true);
    assert.equal(await d.status(vmm.pid, s.files), 'running');
    const health = await withAgent(d.agentEndpoint(s.files), (c) => c.health());
    assert.equal(health.protocol, 1);
    // A fresh driver (a restarted daemon) adopts the running VMM by pid and command line.
    const again = s.driver();
    assert.equal(again.owns(vmm.pid, s.files), true);
    assert.equal(again.owns(process.pid, s.files), false, 'another process is never taken for it');
    // Graceful: the guest powers off on Ctrl-Alt-Del and the VMM exits.
    await new FirecrackerApi(s.files.firecrackerApiSocket).ctrlAltDel();
    assert.ok(await waitFor(() => !isProcessAlive(vmm.pid), 5000), 'the VMM exited after the guest powered off');
    // Hard stop of a second boot.
    const second = await d.start(s.spec, ctx);
    await d.hardStop(second.pid, s.files, ctx);
    assert.equal(isProcessAlive(second.pid), false);
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('a refused configuration quotes the fault and leaves no VMM behind', async () => {
  const s = setup();
  try {
    const d = s.driver();
    // A drive Firecracker would take, with a body the definition refuses: the MAC is not a string.
    const { execFileSync } = await import('node:child_process');
    const leftovers = () => {
      try {
        return execFileSync('pgrep', ['-f', s.files.firecrackerApiSocket], { encoding: 'utf8' });
      } catch {
        return '';
      }
    };
    const bad = { ...s.spec, network: { ...s.spec.network, mac: 7 as unknown as string } };
    await assert.rejects(
      d.start(bad, ctx),
      /Firecracker refused PUT \/network-interfaces\/eth0: .*guest_mac: expected string/,
    );
    assert.equal(leftovers(), '', 'no VMM process left');
    // A 400 on boot-source (a file Firecracker cannot open) is quoted and leaves nothing either.
    await assert.rejects(
      d.start({ ...s.spec, initrdPath: join(s.dir, 'no-such-initrd.img') }, ctx),
      /Firecracker refused PUT \/boot-source: Cannot open initrd file .*no-such-initrd\.img: No such file or directory/,
    );
    assert.equal(leftovers(), '', 'no VMM process left');
    assert.equal(existsSync(s.files.firecrackerApiSocket), false, 'no API socket left');
    await assert.rejects(
      d.start({ ...s.spec, rootDisk: { path: 'x', format: 'qcow2' } }, ctx),
      /Firecracker boots raw disks only/,
    );
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test("jailed: the helper prepares the chroot and runs the jailer; the VM is nobody's child, reached through short symlinks, and its jail goes without following links", async () => {
  const s = setup({ deepJail: true });
  const outside = join(s.dir, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'keep'), 'precious');
  try {
    const d = s.driver(true);
    const vmm = await d.start(s.spec, ctx);
    assert.equal(vmm.detail, 'firecracker v1.14.1, jailed');
    const root = join(s.chrootBase, 'firecracker', 'abcd1234', 'root');
    assert.equal(
      readFileSync(join(root, 'firecracker.pid'), 'utf8').trim(),
      String(vmm.pid),
      "the pid comes from the jailer's pid file",
    );
    assert.equal(
      readFileSync(`/proc/${vmm.pid}/cmdline`, 'utf8').split('\0')[1],
      join(root, 'firecracker'),
      "it runs the jail's own copy of the exec file",
    );
    assert.notEqual(parentOf(vmm.pid), process.pid, 'no banger process is its parent');
    assert.equal(
      statSync(join(root, 'vmlinux')).ino,
      statSync(join(s.layout.kernelsDir, 'vmlinux')).ino,
      'the kernel is hard-linked in',
    );
    assert.equal(statSync(join(root, 'work.ext4')).ino, statSync(s.files.workDisk).ino);
    assert.equal(statSync(join(root, 'rootfs')).ino, statSync(s.files.rootfsCopy).ino);
    assert.ok(join(root, 'run', 'firecracker.socket').length > UNIX_PATH_MAX, 'the socket itself is too deep to dial');
    assert.ok(
      lstatSync(s.files.firecrackerApiSocket).isSymbolicLink(),
      'the API socket is dialled through a symlink in the runtime dir',
    );
    assert.equal(d.owns(vmm.pid, s.files), true);
    assert.equal(s.driver(true).owns(vmm.pid, s.files), true, 'a restarted daemon adopts it');
    assert.equal(await d.status(vmm.pid, s.files), 'running');
    assert.equal((await withAgent(d.agentEndpoint(s.files), (c) => c.health())).protocol, 1);
    await assert.rejects(
      s.privileged.prepareJail({ vmId: 'abcd1234', files: [], devices: [] }, ctx),
      /still running/,
      "a running VM's jail is never rebuilt",
    );
    await assert.rejects(s.privileged.removeJail({ vmId: 'abcd1234' }, ctx), /still running/);
    // The owner controls the jail's contents: a planted symlink must not lead root outside.
    symlinkSync(outside, join(root, 'run', 'escape'));
    await d.hardStop(vmm.pid, s.files, ctx);
    assert.equal(isProcessAlive(vmm.pid), false);
    await d.release(s.files, ctx);
    assert.equal(existsSync(join(s.chrootBase, 'firecracker', 'abcd1234')), false, 'the jail is gone');
    assert.equal(readFileSync(join(outside, 'keep'), 'utf8'), 'precious', 'nothing outside the jail was touched');
    assert.equal(existsSync(s.files.vsockSocket), false);
    assert.ok(existsSync(s.files.workDisk) && existsSync(s.files.rootfsCopy), "the VM's own disks stay");
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test("jail preparation refuses a file on another filesystem, a file outside the owner's state directory, a symlinked input and a device that is not the VM's", async () => {
  const s = setup();
  const shm = mkdtempSync('/dev/shm/banger-fcd-');
  try {
    assert.notEqual(statSync(shm).dev, statSync(s.dir).dev, '/dev/shm is its own filesystem here');
    writeFileSync(join(shm, 'vmlinux'), 'k');
    // The owner's state directory on another filesystem than root's jails.
    const other = validatingOps(
      new InProcessPrivilegedOps({
        runner: new ExecHostRunner(),
        log: silentLogger,
        scope: { ...s.scope, ownerStateDir: shm },
        jail: { jailerBin: '/nonexistent', firecrackerBin: '/usr/bin/firecracker' },
      }),
    );
    const base = { vmId: 'abcd1234', devices: [] };
    await assert.rejects(
      other.prepareJail({ ...base, files: [{ source: join(shm, 'vmlinux'), name: 'vmlinux' }] }, ctx),
      /different filesystems, so it cannot be hard-linked into the jail/,
    );
    assert.equal(existsSync(join(s.chrootBase, 'firecracker', 'abcd1234')), false, 'the half-made jail is removed');
    await assert.rejects(
      s.privileged.prepareJail({ ...base, files: [{ source: '/etc/passwd', name: 'vmlinux' }] }, ctx),
      /outside the owner's state directory/,
    );
    await assert.rejects(
      s.privileged.prepareJail({ ...base, files: [{ source: s.files.workDisk, name: '../../etc' as never }] }, ctx),
      /files\.0\.name/,
    );
    await assert.rejects(
      s.privileged.prepareJail({ ...base, files: [], devices: [{ source: '/dev/sda', name: 'rootfs' }] }, ctx),
      /not allowed in VM abcd1234's jail/,
    );
    await assert.rejects(s.privileged.startJailer({ vmId: 'abcd9999' }, ctx), /jail is not prepared/);
    // An input that is a symlink (to a file root would love to link into a jail) is refused.
    symlinkSync('/etc/shadow', join(s.files.dir, 'evil.ext4'));
    await assert.rejects(
      s.privileged.prepareJail(
        { ...base, files: [{ source: join(s.files.dir, 'evil.ext4'), name: 'work.ext4' }] },
        ctx,
      ),
      /symbolic link|is not a regular file/,
    );
    assert.equal(existsSync(join(s.chrootBase, 'firecracker', 'abcd1234', 'root', 'work.ext4')), false);
  } finally {
    rmSync(shm, { recursive: true, force: true });
    rmSync(s.dir, { recursive: true, force: true });
  }
});

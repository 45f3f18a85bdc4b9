/**
 * The Firecracker driver through a whole lifecycle against the double (a stand-in
 * `firecracker` executable serving the API validated against the official definition, with
 * a real banger-agent behind its vsock socket): version check, configure, start, agent
 * connect, status, graceful stop, hard stop, adoption by a fresh driver, and a refused
 * configuration that leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withAgent } from '../../src/agent/index.js';
import { FirecrackerApi, FirecrackerDriver } from '../../src/firecracker/index.js';
import { silentLogger } from '../../src/log/index.js';
import { userLayout, vmFiles } from '../../src/paths/index.js';
import { ExecHostRunner, isProcessAlive, ProcessSupervisor } from '../../src/system/index.js';
import type { BootSpec } from '../../src/vmm/index.js';
import { repoRoot, waitFor } from './harness.js';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'banger-fcd-'));
  const bin = join(dir, 'firecracker');
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${join(repoRoot, 'build', 'test', 'fakes', 'firecracker-fake.js')}" "$@"\n`);
  chmodSync(bin, 0o755);
  const kernel = join(dir, 'vmlinuz');
  // A bzImage-like kernel: stub, then a gzip'd ELF; the driver extracts and caches vmlinux.
  writeFileSync(kernel, Buffer.concat([randomBytes(600), gzipSync(Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), randomBytes(4096)]))]));
  const layout = userLayout({ home: dir, uid: process.getuid!(), env: { XDG_RUNTIME_DIR: join(dir, 'run') } });
  const files = vmFiles(layout, 'abcd1234');
  mkdirSync(files.dir, { recursive: true });
  writeFileSync(join(files.dir, 'rootfs.raw'), '');
  const spec: BootSpec = {
    vmId: 'abcd1234', hostname: 'dev', vcpu: 1, memoryMib: 256, kernelPath: kernel, initrdPath: null, rootDisk: { path: join(files.dir, 'rootfs.raw'), format: 'raw' },
    workDisk: files.workDisk, network: { tap: 'tap-fc-abcd1234', mac: '52:54:ab:cd:12:34', addressCidr: '172.16.0.2/24', gateway: '172.16.0.1', dns: '172.16.0.1' }, files,
  };
  const driver = () => new FirecrackerDriver({ firecrackerBin: bin, runner: new ExecHostRunner(), supervisor: new ProcessSupervisor(), log: silentLogger });
  return { dir, files, spec, driver, kernel };
}

test('lifecycle against the double: configure and start, agent over vsock, status, adoption, graceful and hard stop', async () => {
  const s = setup();
  try {
    const d = s.driver();
    const vmm = await d.start(s.spec);
    assert.equal(vmm.detail, 'firecracker v1.14.1');
    assert.ok(existsSync(join(s.dir, 'vmlinux')), 'vmlinux extracted and cached beside the kernel');
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
    const second = await d.start(s.spec);
    await d.hardStop(second.pid, s.files);
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
    const bad = { ...s.spec, network: { ...s.spec.network, mac: 7 as unknown as string } };
    await assert.rejects(d.start(bad), /Firecracker refused PUT \/network-interfaces\/eth0: .*guest_mac: expected string/);
    const { execFileSync } = await import('node:child_process');
    let left = '';
    try { left = execFileSync('pgrep', ['-f', s.files.firecrackerApiSocket], { encoding: 'utf8' }); } catch { /* none */ }
    assert.equal(left, '', 'no VMM process left');
    await assert.rejects(d.start({ ...s.spec, rootDisk: { path: 'x', format: 'qcow2' } }), /Firecracker boots raw disks only/);
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

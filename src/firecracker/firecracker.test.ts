import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFirecrackerConfig, guestCid, judgeFirecrackerVersion, parseFirecrackerVersion } from './index.js';
import type { BootSpec } from '../vmm/index.js';

test('firecracker --version: refused below 1.5.0, warned past the tested major, accepted between', () => {
  assert.deepEqual(parseFirecrackerVersion('Firecracker v1.14.1\n\n2025-01-01'), [1, 14, 1]);
  assert.equal(parseFirecrackerVersion('qemu 7.2'), null);
  const cases: Array<[string, boolean, boolean]> = [
    ['Firecracker v1.4.1', false, false],
    ['Firecracker v1.5.0', true, false],
    ['Firecracker v1.14.1', true, false],
    ['Firecracker v1.14.9', true, false],
    ['Firecracker v1.15.0', true, true],
    ['Firecracker v2.0.0', true, true],
    ['garbage', false, false],
  ];
  for (const [out, ok, warns] of cases) {
    const v = judgeFirecrackerVersion(out);
    assert.equal(v.ok, ok, out);
    if (v.ok) assert.equal(v.warning !== null, warns, out);
    else assert.ok(v.hint.length > 0);
  }
  const old = judgeFirecrackerVersion('Firecracker v1.4.1');
  assert.ok(!old.ok && /older than v1\.5\.0/.test(old.reason));
});

test('guest CIDs are stable per VM id and never a reserved one', () => {
  assert.equal(guestCid('abcd1234'), guestCid('abcd1234'));
  for (const id of ['00000000', 'ffffffff', 'abcd1234', '00000003']) assert.ok(guestCid(id) >= 3, id);
});

test("the configuration: logger, metrics, machine, kernel with banger's command line, root and work drives, tap, vsock", () => {
  const spec = {
    vmId: 'abcd1234',
    hostname: 'dev',
    vcpu: 2,
    memoryMib: 1024,
    kernelPath: '/k/vmlinuz',
    initrdPath: '/k/initrd.img',
    rootDisk: { path: '/v/rootfs', format: 'raw' },
    workDisk: '/v/work.ext4',
    network: {
      tap: 'tap-fc-abcd1234',
      mac: '52:54:ab:cd:12:34',
      addressCidr: '172.16.0.2/24',
      gateway: '172.16.0.1',
      dns: '172.16.0.1',
    },
    files: {} as never,
  } as BootSpec;
  const calls = buildFirecrackerConfig(spec, {
    vmlinux: '/k/vmlinux',
    initrd: '/k/initrd.img',
    rootDrive: '/dev/mapper/fc-rootfs-abcd1234',
    workDisk: '/v/work.ext4',
    logFile: '/r/fc.log',
    metricsFile: '/r/fc.metrics',
    vsockUds: '/r/v.sock',
  });
  assert.deepEqual(
    calls.map((c) => `${c.method} ${c.path}`),
    [
      'PUT /logger',
      'PUT /metrics',
      'PUT /machine-config',
      'PUT /boot-source',
      'PUT /drives/root',
      'PUT /drives/work',
      'PUT /network-interfaces/eth0',
      'PUT /vsock',
    ],
  );
  const boot = calls.find((c) => c.path === '/boot-source')!.body;
  assert.equal(boot.kernel_image_path, '/k/vmlinux');
  assert.equal(boot.initrd_path, '/k/initrd.img');
  assert.match(
    String(boot.boot_args),
    /banger\.root=\/dev\/vda banger\.work=\/dev\/vdb .*banger\.ip=172\.16\.0\.2\/24/,
  );
  assert.deepEqual(calls.find((c) => c.path === '/machine-config')!.body, {
    vcpu_count: 2,
    mem_size_mib: 1024,
    smt: false,
  });
  assert.equal(calls.find((c) => c.path === '/drives/root')!.body.path_on_host, '/dev/mapper/fc-rootfs-abcd1234');
  assert.deepEqual(calls.find((c) => c.path === '/network-interfaces/eth0')!.body, {
    iface_id: 'eth0',
    host_dev_name: 'tap-fc-abcd1234',
    guest_mac: '52:54:ab:cd:12:34',
  });
  assert.deepEqual(calls.find((c) => c.path === '/vsock')!.body, {
    guest_cid: guestCid('abcd1234'),
    uds_path: '/r/v.sock',
  });
});

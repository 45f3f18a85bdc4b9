import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BootSpec } from '../vmm/index.js';
import { sampleBootSpec } from '../../test/fixtures/vms.js';
import {
  buildFirecrackerConfig,
  describeSaved,
  parseSaved,
  pauseCall,
  PLAIN,
  restoreProblem,
  SNAPSHOT_META_FORMAT,
  snapshotCreateCall,
  snapshotLoadCall,
  stateFiles,
  type SavedFirecracker,
} from './index.js';

test('snapshot calls: pause/resume, a full create, a paused load from a mapped file onto the VM tap', () => {
  const table: Array<[ReturnType<typeof pauseCall>, { method: string; path: string; body: unknown }]> = [
    [pauseCall('Paused'), { method: 'PATCH', path: '/vm', body: { state: 'Paused' } }],
    [pauseCall('Resumed'), { method: 'PATCH', path: '/vm', body: { state: 'Resumed' } }],
    [
      snapshotCreateCall({ snapshotPath: '/run/snapshot.vmstate', memPath: '/run/snapshot.mem' }),
      {
        method: 'PUT',
        path: '/snapshot/create',
        body: { snapshot_type: 'Full', snapshot_path: '/run/snapshot.vmstate', mem_file_path: '/run/snapshot.mem' },
      },
    ],
    [
      snapshotLoadCall({ snapshotPath: '/snapshot.vmstate', memPath: '/snapshot.mem', tap: 'tap-fc-00000002' }),
      {
        method: 'PUT',
        path: '/snapshot/load',
        body: {
          snapshot_path: '/snapshot.vmstate',
          mem_backend: { backend_type: 'File', backend_path: '/snapshot.mem' },
          resume_vm: false,
          network_overrides: [{ iface_id: 'eth0', host_dev_name: 'tap-fc-00000002' }],
        },
      },
    ],
  ];
  for (const [got, want] of table) assert.deepEqual(got, want);
  assert.deepEqual(stateFiles('/s/t'), {
    vmstate: '/s/t/snapshot.vmstate',
    mem: '/s/t/snapshot.mem',
    meta: '/s/t/firecracker.json',
  });
});

const config = (s: BootSpec, rootDrive: string = PLAIN.rootDrive) =>
  buildFirecrackerConfig(s, {
    vmlinux: '/k/vmlinux',
    initrd: null,
    rootDrive,
    workDisk: PLAIN.workDisk,
    logFile: '/l',
    metricsFile: '/m',
    vsockUds: PLAIN.vsockUds,
  });
/** What GET /vm/config answers for a VM configured with `calls`. */
const vmConfigOf = (calls: ReturnType<typeof config>) => ({
  'machine-config': calls.find((c) => c.path === '/machine-config')!.body,
  drives: calls.filter((c) => c.path.startsWith('/drives/')).map((c) => c.body),
  vsock: calls.find((c) => c.path === '/vsock')!.body,
});

test('restore check: a saved VM fits another VM with the same size and per-VM-invariant paths, and nothing else', () => {
  const saved = describeSaved(false, vmConfigOf(config(sampleBootSpec())));
  assert.deepEqual(saved, {
    format: SNAPSHOT_META_FORMAT,
    jailed: false,
    vcpuCount: 2,
    memSizeMib: 512,
    drives: { root: 'rootfs', work: 'work.ext4' },
    vsockUds: 'vsock.sock',
  });
  const cases: Array<[string, SavedFirecracker, boolean, ReturnType<typeof config>, RegExp | null]> = [
    [
      'another VM, other disks and tap',
      saved,
      false,
      config(sampleBootSpec({ vmId: 'ffff0000', workDisk: '/o/w' })),
      null,
    ],
    [
      'jailed against plain',
      saved,
      true,
      config(sampleBootSpec()),
      /saved by a plain Firecracker and this one runs jailed/,
    ],
    ['other memory', saved, false, config(sampleBootSpec({ memoryMib: 1024 })), /512 MiB, this VM 2 and 1024 MiB/],
    ['other vCPUs', saved, false, config(sampleBootSpec({ vcpu: 1 })), /2 vCPUs/],
    [
      'a root device path',
      saved,
      false,
      config(sampleBootSpec(), '/disk/rootfs'),
      /drive root is rootfs, this VM's \/disk\/rootfs/,
    ],
    [
      'an extra drive saved',
      { ...saved, drives: { ...saved.drives, x: 'x' } },
      false,
      config(sampleBootSpec()),
      /drives root, work, x/,
    ],
    [
      'another vsock path',
      { ...saved, vsockUds: '/run/v' },
      false,
      config(sampleBootSpec()),
      /vsock socket is \/run\/v/,
    ],
  ];
  for (const [name, s, jailed, wanted, want] of cases) {
    const got = restoreProblem(s, jailed, wanted);
    if (want === null) assert.equal(got, null, name);
    else assert.match(got ?? '', want, name);
  }
});

test('a saved record: round-trips; anything else is named as the problem', () => {
  const saved = describeSaved(true, {});
  assert.deepEqual(parseSaved(JSON.stringify(saved)), saved);
  const cases: Array<[string, RegExp]> = [
    ['{not json', /not JSON/],
    ['null', /not of format/],
    [JSON.stringify({ ...saved, format: 'other/1' }), /not of format/],
    [JSON.stringify({ ...saved, vcpuCount: 'two' }), /lacks fields/],
    [JSON.stringify({ ...saved, drives: null }), /lacks fields/],
  ];
  for (const [text, want] of cases) assert.match(String(parseSaved(text)), want, text);
});

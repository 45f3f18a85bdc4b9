import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readShape, restoreSpec, shapeFileIn, shapeOf, writeShape, type GuestShape } from './shape.js';
import { templateKey, type TemplateInputs } from './templateKey.js';
import { templatePaths, TemplateStore, type TemplateMeta } from './templateStore.js';
import type { BootSpec } from '../vmm/index.js';

const INPUTS: TemplateInputs = {
  imageId: 'img1',
  imageDigest: null,
  rootfsStamp: '100:1:2',
  kernel: 'k',
  kernelStamp: '1:1:1/-',
  vcpu: 2,
  memoryMib: 1024,
  diskSizeBytes: 2 << 30,
  systemOverlaySizeBytes: 8 << 30,
  vmm: 'qemu',
  vmmStamp: '1:2:3',
  agent: 'abc',
  banger: '0.1.0+abc',
};

test('templateKey: stable, 16 hex digits, independent of key order, changed by any input', () => {
  const k = templateKey(INPUTS);
  assert.match(k, /^[0-9a-f]{16}$/);
  const reversed = Object.fromEntries(Object.entries(INPUTS).reverse()) as unknown as TemplateInputs;
  assert.equal(templateKey(reversed), k);
  for (const [field, value] of Object.entries({
    imageId: 'img2',
    imageDigest: 'sha256:x',
    rootfsStamp: '100:2:2',
    kernel: 'k2',
    kernelStamp: 'x',
    vcpu: 4,
    memoryMib: 2048,
    diskSizeBytes: 1,
    systemOverlaySizeBytes: 1,
    vmm: 'firecracker',
    vmmStamp: '1:2:4',
    agent: 'def',
    banger: '0.2.0+x',
  }))
    assert.notEqual(templateKey({ ...INPUTS, [field]: value }), k, field);
});

const SPEC: BootSpec = {
  vmId: '0123abcd',
  hostname: 'warm-1',
  vcpu: 2,
  memoryMib: 1024,
  kernelPath: '/k/vmlinuz',
  initrdPath: '/k/initrd',
  rootDisk: { path: '/t/root.qcow2', format: 'qcow2' },
  workDisk: '/t/work.ext4',
  network: { tap: 'tap-t', mac: '52:54:00:01:02:03', addressCidr: null, gateway: '10.0.0.1', dns: '10.0.0.1' },
  files: {} as BootSpec['files'],
};

test('shape: what a VMM ran is written, read back, and restored onto a new VM own disks and tap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bgr-shape-'));
  try {
    const shape = shapeOf(SPEC, 'qemu');
    writeShape(shapeFileIn(dir), shape);
    const back = readShape(shapeFileIn(dir));
    assert.deepEqual(back, shape);
    const files = { dir: '/vm' } as BootSpec['files'];
    const spec = restoreSpec(back as GuestShape, {
      vmId: 'feedbeef',
      files,
      workDisk: '/vm/work.ext4',
      rootPath: '/vm/rootfs.qcow2',
      tap: 'tap-new',
    });
    assert.equal(spec.vmId, 'feedbeef', 'the VMM is the new VM own (name, jail)');
    assert.equal(
      spec.network.mac,
      SPEC.network.mac,
      'the device keeps the saved MAC (the agent changes the guest one)',
    );
    assert.equal(spec.network.tap, 'tap-new');
    assert.deepEqual(spec.rootDisk, { path: '/vm/rootfs.qcow2', format: 'qcow2' });
    assert.equal(spec.workDisk, '/vm/work.ext4');
    assert.equal(spec.kernelPath, SPEC.kernelPath);
    writeFileSync(shapeFileIn(dir), '{"vmm":"qemu"}');
    assert.match((readShape(shapeFileIn(dir)) as { problem: string }).problem, /not a saved guest shape/);
    rmSync(shapeFileIn(dir));
    assert.match((readShape(shapeFileIn(dir)) as { problem: string }).problem, /cannot read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function meta(key: string): TemplateMeta {
  return {
    version: 1,
    key,
    inputs: { ...INPUTS },
    imageId: 'img1',
    imageName: 'deb',
    createdAt: '2026-11-30T00:00:00.000Z',
    sizeBytes: 1,
    sshd: true,
    buildMs: 1,
  };
}

/** A finished build in the store: disks, state with its shape, committed under `key`. */
function commitTemplate(store: TemplateStore, key: string): string {
  const dir = store.newBuildDir(key);
  const p = templatePaths(dir, 'qcow2');
  writeFileSync(p.root, 'root');
  writeFileSync(p.work, 'work');
  mkdirSync(p.stateDir);
  writeShape(shapeFileIn(p.stateDir), shapeOf(SPEC, 'qemu'));
  chmodSync(p.root, 0o444);
  assert.equal(store.commit(dir, meta(key)), true);
  return join(store.dir, key);
}

test('TemplateStore: a committed template is found; a broken one is a problem; a second build of a key loses', () => {
  const root = mkdtempSync(join(tmpdir(), 'bgr-tpl-'));
  try {
    const store = new TemplateStore(join(root, 'templates'));
    const key = 'aaaaaaaaaaaaaaaa';
    assert.equal(store.find(key), null);
    const dir = commitTemplate(store, key);
    const t = store.find(key);
    assert.ok(t && !('problem' in t));
    assert.equal(t.shape.mac, SPEC.network.mac);
    assert.deepEqual(
      store.list().map((x) => x.meta.key),
      [key],
    );
    const loser = store.newBuildDir(key);
    assert.equal(store.commit(loser, meta(key)), false);
    assert.equal(existsSync(loser), false);
    rmSync(join(dir, 'work.ext4'));
    assert.match((store.find(key) as { problem: string }).problem, /work\.ext4 is missing/);
    writeFileSync(join(dir, 'template.json'), '{ nope');
    assert.match((store.find(key) as { problem: string }).problem, /template aaaaaaaaaaaaaaaa/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('TemplateStore: discard removes a template; sweep removes scratch and incomplete ones, complete ones only when asked, never running builds', () => {
  const root = mkdtempSync(join(tmpdir(), 'bgr-tpl-'));
  try {
    const store = new TemplateStore(join(root, 'templates'));
    const [gone, kept, broken] = ['1111111111111111', '2222222222222222', '5555555555555555'];
    commitTemplate(store, gone);
    commitTemplate(store, kept);
    commitTemplate(store, broken);
    store.discard(gone);
    assert.equal(existsSync(join(store.dir, gone)), false);
    rmSync(join(store.dir, broken, 'template.json'));
    const dead = store.newBuildDir('3333333333333333');
    const running = store.newBuildDir('4444444444444444');
    const base = (p: string) => p.split('/').pop()!;
    const dry = store.sweep({ building: new Set([running]), also: () => true, dryRun: true });
    assert.deepEqual(dry.removed.sort(), [kept, broken, base(dead)].sort());
    assert.equal(existsSync(dead), true, 'a dry run removes nothing');
    const r = store.sweep({ building: new Set([running]) });
    assert.deepEqual(r.removed.sort(), [broken, base(dead)].sort(), 'without `also`, complete templates stay');
    assert.deepEqual(readdirSync(store.dir).sort(), [kept, base(running)].sort());
    assert.ok(r.freedBytes > 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseModulesDep, orderModules, moduleName } from './moduleOrder.js';
import { renderInitScript } from './initScript.js';
import { readCpio, writeCpio, S_IFDIR, S_IFREG, S_IFLNK } from './cpio.js';
import { refreshInitramfs } from './initramfsRefresh.js';

const DEP = `kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_mmio.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/net/core/failover.ko:
kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/char/hw_random/virtio-rng.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
`;

test('modules are ordered dependencies first, each once', () => {
  const order = orderModules(parseModulesDep(DEP), ['virtio_mmio', 'virtio_blk', 'virtio_net', 'virtio_rng']);
  assert.deepEqual(order.map(moduleName), [
    'virtio_ring',
    'virtio',
    'virtio_mmio',
    'virtio_blk',
    'failover',
    'net_failover',
    'virtio_net',
    'virtio_rng',
  ]);
  for (const [i, path] of order.entries())
    for (const d of parseModulesDep(DEP).get(path)!) assert.ok(order.indexOf(d) < i, `${d} before ${path}`);
  assert.throws(() => orderModules(parseModulesDep(DEP), ['vsock']), /has no module vsock/);
  assert.equal(moduleName('kernel/x/virtio-rng.ko.xz'), 'virtio_rng');
});

test('init script loads modules in order and reads the banger.* command line', () => {
  const s = renderInitScript(['kernel/drivers/virtio/virtio_ring.ko', 'kernel/drivers/virtio/virtio.ko']);
  assert.ok(s.startsWith('#!/bin/busybox sh\n'));
  assert.ok(s.indexOf('insmod /lib/modules/virtio_ring.ko') < s.indexOf('insmod /lib/modules/virtio.ko'));
  for (const k of ['banger.hostname=', 'banger.ip=', 'banger.gw=', 'banger.dns=', 'switch_root /newroot /sbin/init'])
    assert.ok(s.includes(k), k);
});

test('init script boots banger-init when the image has it, else /sbin/init, and replaces /etc files instead of writing through them', () => {
  const s = renderInitScript([]);
  const banger = s.indexOf('exec switch_root /newroot /.banger/init');
  assert.ok(banger > 0 && banger < s.indexOf('exec switch_root /newroot /sbin/init'));
  assert.match(s, /if \[ -f \/newroot\/\.banger\/init \] && \[ ! -L \/newroot\/\.banger\/init \]/);
  // No direct redirect into the guest's /etc: every file goes through put (rm, then a new file).
  assert.doesNotMatch(s, />\s*\/newroot\/etc\/(hosts|hostname|resolv\.conf)/);
  for (const f of ['hostname', 'hosts', 'resolv.conf']) assert.ok(s.includes(`| put ${f}`), f);
  assert.ok(s.includes('mkdir -p /newroot/etc/ssh'));
});

test("the init script's put replaces a symlinked /etc/hosts with a file and leaves the link target alone", () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-initput-'));
  try {
    const put = /^put\(\) .*$/m.exec(renderInitScript([]))![0].replaceAll('/newroot', join(dir, 'newroot'));
    mkdirSync(join(dir, 'newroot', 'etc'), { recursive: true });
    writeFileSync(join(dir, 'outside'), 'host file\n');
    symlinkSync(join(dir, 'outside'), join(dir, 'newroot', 'etc', 'hosts'));
    execFileSync('/bin/busybox', ['sh', '-c', `${put}\necho guest | put hosts\necho r | put resolv.conf`]);
    assert.equal(readFileSync(join(dir, 'outside'), 'utf8'), 'host file\n');
    assert.equal(lstatSync(join(dir, 'newroot', 'etc', 'hosts')).isFile(), true);
    assert.equal(readFileSync(join(dir, 'newroot', 'etc', 'hosts'), 'utf8'), 'guest\n');
    assert.equal(readFileSync(join(dir, 'newroot', 'etc', 'resolv.conf'), 'utf8'), 'r\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cpio archives unpack with GNU cpio to the same tree', () => {
  const dir = mkdtempSync(join(tmpdir(), 'banger-cpio-'));
  try {
    const archive = writeCpio([
      { path: 'bin', mode: S_IFDIR | 0o755 },
      { path: 'init', mode: S_IFREG | 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
      { path: 'bin/sh', mode: S_IFLNK | 0o777, data: Buffer.from('busybox') },
      { path: 'odd', mode: S_IFREG | 0o644, data: Buffer.from('x') },
    ]);
    writeFileSync(join(dir, 'a.cpio'), archive);
    execFileSync('cpio', ['-idm', '--quiet', '-F', join(dir, 'a.cpio')], { cwd: dir });
    assert.equal(readFileSync(join(dir, 'init'), 'utf8'), '#!/bin/sh\necho hi\n');
    assert.equal(readFileSync(join(dir, 'odd'), 'utf8'), 'x');
    assert.equal(
      execFileSync('readlink', [join(dir, 'bin', 'sh')])
        .toString()
        .trim(),
      'busybox',
    );
    assert.equal(archive.length % 4, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an initramfs built by an older banger gets this build's /init, modules untouched; a current one is left alone", () => {
  const dir = mkdtempSync(join(tmpdir(), 'bgr-initrd-'));
  try {
    const initrd = join(dir, 'initrd.img');
    const modules = ['lib/modules/virtio.ko', 'lib/modules/virtio_ring.ko'];
    writeFileSync(
      initrd,
      writeCpio([
        { path: 'bin', mode: 0o040755 },
        { path: 'bin/busybox', mode: 0o100755, data: Buffer.from('BUSYBOX') },
        { path: 'init', mode: 0o100755, data: Buffer.from('#!/bin/busybox sh\n# an older init\n') },
        ...modules.map((m) => ({ path: m, mode: 0o100644, data: Buffer.from(m) })),
      ]),
    );
    assert.equal(refreshInitramfs(initrd), true);
    const entries = readCpio(readFileSync(initrd));
    assert.equal(entries.find((e) => e.path === 'init')!.data!.toString(), renderInitScript(modules));
    assert.deepEqual(
      entries.filter((e) => e.path.startsWith('lib/modules/')).map((e) => e.data!.toString()),
      modules,
      'modules kept, in order',
    );
    assert.equal(entries.find((e) => e.path === 'bin/busybox')!.data!.toString(), 'BUSYBOX');
    assert.equal(refreshInitramfs(initrd), false);
    writeFileSync(initrd, writeCpio([{ path: 'init', mode: 0o100755, data: Buffer.from('x') }]));
    assert.throws(() => refreshInitramfs(initrd), /not an initramfs banger built/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

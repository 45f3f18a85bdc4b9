import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tarLayer } from '../../test/fixtures/layerTar.js';
import { addTreeFile, addTreeSymlink, flattenLayers, readTreeFile, treeEntryKind } from './index.js';

test('injected files land in the tree as root:root, never through a symlink; reads resolve inside the image only', async () => {
  const top = mkdtempSync(join(tmpdir(), 'bgtu-treefiles-'));
  try {
    mkdirSync(join(top, 'outside'));
    writeFileSync(join(top, 'outside', 'os-release'), 'ID=host\n');
    const layer = join(top, 'layer');
    writeFileSync(
      layer,
      tarLayer([
        { name: 'usr/lib/os-release', content: 'ID=guest\n' },
        { name: 'etc', type: 'symlink', linkname: join(top, 'outside') },
        { name: 'os-release', type: 'symlink', linkname: '../../../usr/lib/os-release' },
        { name: 'sbin/init', type: 'symlink', linkname: '/lib/systemd/systemd' },
        { name: 'bin', type: 'symlink', linkname: 'usr/bin' },
        { name: 'usr/bin/', type: 'dir' },
        { name: 'afile', content: 'x' },
      ]),
    );
    const treeDir = join(top, 'tree');
    mkdirSync(treeDir, { mode: 0o700 });
    const { tree } = await flattenLayers({
      layers: [{ digest: 'sha256:t', path: layer, mediaType: 'application/vnd.oci.image.layer.v1.tar' }],
      treeDir,
    });
    assert.throws(
      () => addTreeFile(treeDir, tree, { path: '/etc/os-release', content: 'pwned', mode: 0o644 }),
      /ancestor "etc" is a symlink/,
    );
    assert.throws(() => addTreeFile(treeDir, tree, { path: '/afile/x', content: 'x', mode: 0o644 }), /not a directory/);
    assert.throws(() => addTreeFile(treeDir, tree, { path: '/bin/x', content: 'x', mode: 0o644 }), /is a symlink/);
    assert.equal(readFileSync(join(top, 'outside', 'os-release'), 'utf8'), 'ID=host\n');
    addTreeFile(treeDir, tree, { path: '/usr/local/bin/banger-agent', content: 'agent', mode: 0o755 });
    assert.equal(readFileSync(join(treeDir, 'usr/local/bin/banger-agent'), 'utf8'), 'agent');
    assert.equal(statSync(join(treeDir, 'usr/local/bin')).isDirectory(), true);
    addTreeSymlink(treeDir, tree, '/sbin/init', '/usr/local/bin/banger-agent');
    assert.equal(treeEntryKind(tree, '/sbin/init'), 'file');
    assert.equal(readTreeFile(treeDir, tree, '/sbin/init')!.toString(), 'agent');
    // An absolute or climbing symlink resolves inside the image, never on the host.
    assert.equal(readTreeFile(treeDir, tree, '/os-release')!.toString(), 'ID=guest\n');
    assert.equal(readTreeFile(treeDir, tree, '/etc/os-release'), null);
    assert.equal(treeEntryKind(tree, '/bin'), 'dir');
    assert.equal(treeEntryKind(tree, '/etc'), 'symlink');
    assert.equal(treeEntryKind(tree, '/nope'), null);
    assert.equal(existsSync(join(top, 'outside', 'banger-agent')), false);
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});

test('review15: reading an image file for detection does not load an arbitrarily large file into memory', async () => {
  // detectImage reads /etc/os-release, /sbin/init and /lib/systemd/systemd through readTreeFile,
  // which readFileSync()s the whole file: a layer of a few MB of gzip can make each of these
  // gigabytes (memory = their sum), and one over 2 GiB throws RangeError ERR_FS_FILE_TOO_LARGE
  // out of the pull instead of a BangerError.
  const top = mkdtempSync(join(tmpdir(), 'bgtu-review15-'));
  try {
    const layer = join(top, 'layer');
    writeFileSync(layer, tarLayer([{ name: 'etc/os-release', content: Buffer.alloc(64 * 1024 * 1024, 0x41) }]));
    const treeDir = join(top, 'tree');
    mkdirSync(treeDir, { mode: 0o700 });
    const { tree } = await flattenLayers({
      layers: [{ digest: 'sha256:t', path: layer, mediaType: 'application/vnd.oci.image.layer.v1.tar' }],
      treeDir,
    });
    let got: number;
    try {
      got = readTreeFile(treeDir, tree, '/etc/os-release')?.length ?? 0;
    } catch {
      got = 0; // refusing an oversized file is fine
    }
    assert.ok(got <= 16 * 1024 * 1024, `readTreeFile returned ${got} bytes of a 64 MiB file`);
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tarLayer } from '../../test/fixtures/layerTar.js';
import { ExecHostRunner } from '../system/index.js';
import { verifyProblems, verifyScript } from './debugfsFixups.js';
import { buildExt4, flattenLayers } from './index.js';
import { type DirNode, newMeta, newTree } from './treeMeta.js';

/** debugfs exits 0 when a command fails: the read-back is what notices. */
test('the read-back notices an image that differs from the model', async () => {
  const top = mkdtempSync(join(tmpdir(), 'bgtu-verify-'));
  try {
    const layer = join(top, 'layer');
    writeFileSync(
      layer,
      tarLayer([
        { name: 'etc/shadow', content: 's', mode: 0o640, gid: 42 },
        { name: 'run/fifo', type: 'fifo' },
        { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
        { name: 'bin/ping', content: 'p', xattrs: { 'security.capability': Buffer.alloc(20, 1) } },
      ]),
    );
    const treeDir = join(top, 'tree');
    mkdirSync(treeDir, { mode: 0o700 });
    const { tree } = await flattenLayers({
      layers: [{ digest: 'sha256:v', path: layer, mediaType: 'application/vnd.oci.image.layer.v1.tar' }],
      treeDir,
    });
    const out = join(top, 'img.ext4');
    await buildExt4({ runner: new ExecHostRunner(), treeDir, tree, out });
    const readBack = () => {
      writeFileSync(join(top, 'verify'), verifyScript(tree));
      return verifyProblems(
        tree,
        execFileSync('debugfs', ['-f', join(top, 'verify'), out], { encoding: 'utf8', stdio: 'pipe' }),
      );
    };
    assert.deepEqual(readBack(), []);
    writeFileSync(
      join(top, 'break'),
      'sif /etc/shadow gid 0\nrm /run/fifo\nea_rm /bin/ping security.capability\nsif /dev/null mode 020600\n',
    );
    execFileSync('debugfs', ['-w', '-f', join(top, 'break'), out], { stdio: 'pipe' });
    assert.deepEqual(readBack().sort(), [
      '/bin/ping: xattr security.capability missing',
      '/dev/null: mode is 020600, expected 020666',
      '/etc/shadow: gid is 0, expected 42',
      '/run/fifo: missing in the image',
    ]);
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});

test('a debugfs script line of 8000 bytes or more is refused, naming the entry', () => {
  // debugfs -f reads 8192-byte lines; the rest of a longer line would run as a new command.
  const tree = newTree();
  const Q = '"'.repeat(255);
  let dir: DirNode = tree.root;
  for (let i = 0; i < 15; i++) {
    const d: DirNode = { kind: 'dir', meta: newMeta(), layer: 0, children: new Map() };
    dir.children.set(Q, d);
    dir = d;
  }
  const xattrs = new Map([['user.x', Buffer.from('v')]]);
  dir.children.set(Q, { kind: 'file', meta: newMeta({ xattrs }), layer: 0, size: 0 });
  assert.throws(
    () => verifyScript(tree),
    (e: unknown) => /image entry "\/"{199}…" needs a debugfs command of 8\d{3} bytes/.test((e as Error).message),
  );
  dir.children.get(Q)!.meta.xattrs.clear();
  assert.ok(
    verifyScript(tree)
      .split('\n')
      .every((l) => Buffer.byteLength(l) < 8000),
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { HostTree } from './hostTree.js';

const refusedPath = (e: unknown) => ['ELOOP', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code!);

/** The second line of defence on its own: even told to, HostTree never writes through a symlink or out of the tree. */
test('host operations refuse symlinked and escaping paths whatever they are told', async () => {
  const top = mkdtempSync(join(tmpdir(), 'bgtu-host-'));
  try {
    const tree = join(top, 'tree');
    mkdirSync(tree, { mode: 0o700 });
    mkdirSync(join(top, 'outside'));
    writeFileSync(join(top, 'outside', 'secret'), 'keep');
    symlinkSync(join(top, 'outside'), join(tree, 'evil'));
    symlinkSync(join(top, 'outside', 'secret'), join(tree, 'file-link'));
    const h = HostTree.open(tree, false);
    try {
      await assert.rejects(h.writeFile(['evil', 'secret'], Readable.from([Buffer.from('x')]), 0o644, 0), refusedPath);
      await assert.rejects(h.writeFile(['file-link'], Readable.from([Buffer.from('x')]), 0o644, 0), { code: 'EEXIST' });
      assert.throws(() => h.mkdir(['..', 'outside', 'new'], 0o755), { code: 'EXDEV' });
      assert.throws(() => h.link(['stolen'], ['evil', 'secret']), refusedPath);
      assert.throws(() => h.remove(['evil', 'secret']), refusedPath);
      h.remove(['evil']);
      assert.equal(existsSync(join(tree, 'evil')), false);
      assert.equal(readFileSync(join(top, 'outside', 'secret'), 'utf8'), 'keep');
    } finally {
      h.close();
    }
    chmodSync(top, 0o755);
    assert.throws(() => HostTree.open(top, false), /must be 0700/);
    chmodSync(top, 0o700);
    assert.throws(() => HostTree.open(top, true), /is not empty/);
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});

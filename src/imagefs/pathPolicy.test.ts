import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dfQuote, EntryRefused, entryComponents, whiteoutOf, xattrProblem } from './pathPolicy.js';
import { newTree, resolveInTree, type DirNode, newMeta, parentDir } from './treeMeta.js';

test('entry names become plain components; absolute, .. and uncarriable names are refused', () => {
  assert.deepEqual(entryComponents('./etc//passwd'), ['etc', 'passwd']);
  assert.deepEqual(entryComponents('./'), []);
  assert.deepEqual(entryComponents('usr/bin/'), ['usr', 'bin']);
  assert.deepEqual(entryComponents('a b/"q"/ü'), ['a b', '"q"', 'ü']);
  assert.equal(entryComponents('x/'.repeat(256)).length, 256);
  for (const [bad, why] of [
    ['/etc/x', /absolute/],
    ['../x', /\.\./],
    ['a/../../x', /\.\./],
    ['a\nb', /control/],
    ['a\0b', /control/],
    ['tab\there', /control/],
    [`${'x'.repeat(256)}`, /255 bytes/],
    [`${'x/'.repeat(2048)}`, /4096 bytes or more/],
    [`${'x/'.repeat(257)}`, /deeper than 256 directory levels/],
  ] as const)
    assert.throws(
      () => entryComponents(bad),
      (e: unknown) => e instanceof EntryRefused && why.test((e as Error).message),
      bad,
    );
});

test('whiteouts: opaque, plain, aufs bookkeeping, and ones aimed outside', () => {
  assert.deepEqual(whiteoutOf('.wh..wh..opq'), { kind: 'opaque' });
  assert.deepEqual(whiteoutOf('.wh.passwd'), { kind: 'whiteout', target: 'passwd' });
  assert.deepEqual(whiteoutOf('.wh..wh.plnk'), { kind: 'meta' });
  assert.deepEqual(whiteoutOf('passwd'), { kind: 'none' });
  for (const bad of ['.wh.', '.wh..', '.wh...']) assert.throws(() => whiteoutOf(bad), /aimed outside/);
});

test('debugfs quoting doubles quotes; xattr policy keeps capabilities and drops overlayfs ones', () => {
  assert.equal(dfQuote(['a b', 'q"x']), '"/a b/q""x"');
  assert.equal(dfQuote([]), '"/"');
  assert.equal(xattrProblem('security.capability', Buffer.alloc(20)), null);
  assert.equal(xattrProblem('user.x', Buffer.from('y')), null);
  assert.match(xattrProblem('trusted.overlay.opaque', Buffer.from('y'))!, /overlayfs/);
  assert.match(xattrProblem('bogus', Buffer.from('y'))!, /not carried/);
});

test('the model refuses symlinked ancestors and resolves symlinks only inside the image', () => {
  const tree = newTree();
  const etc: DirNode = { kind: 'dir', meta: newMeta(), layer: 0, children: new Map() };
  tree.root.children.set('etc', etc);
  etc.children.set('os-release', { kind: 'file', meta: newMeta(), layer: 0, size: 1 });
  tree.root.children.set('evil', { kind: 'symlink', meta: newMeta(), layer: 0, target: '/' });
  tree.root.children.set('up', { kind: 'symlink', meta: newMeta(), layer: 0, target: '../../../../etc' });
  tree.root.children.set('loop', { kind: 'symlink', meta: newMeta(), layer: 0, target: 'loop' });
  assert.throws(() => parentDir(tree, ['evil', 'x']), /ancestor "evil" is a symlink/);
  assert.throws(() => parentDir(tree, ['etc', 'os-release', 'x']), /not a directory/);
  assert.deepEqual(resolveInTree(tree, '/evil/etc/os-release')!.comps, ['etc', 'os-release']);
  assert.deepEqual(resolveInTree(tree, 'up/os-release')!.comps, ['etc', 'os-release']);
  assert.equal(resolveInTree(tree, 'loop/x'), null);
  assert.equal(resolveInTree(tree, 'missing'), null);
});

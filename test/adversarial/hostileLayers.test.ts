/**
 * Adversarial tier: hostile OCI layers against imagefs.flattenLayers, run as root (the worst
 * case: nothing but banger's own checks stands between a layer and the host). Each hostile
 * layer is refused with its layer digest and entry named, and a canary tree around the
 * build directory (the parent's and siblings' files, a neighbour beside the tree, and the
 * directory every planted symlink points at) stays byte-identical. The tree directory itself
 * is the caller's to remove (so the build directory's own mtime changes, and is not compared) (flattenLayers leaves it, half-filled, on a refusal): each case
 * checks it is still there and removes it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { DEFAULT_FLATTEN_LIMITS, flattenLayers, type FlattenLimits } from '../../src/imagefs/index.js';
import { gzipLayer, LAYER_MEDIA_TYPES, type TarEntrySpec, tarLayer, writeGzipBomb } from '../fixtures/layerTar.js';

let base: string;
let canary: string;
let build: string;
let blobs: string;
let before0: string;

function snapshot(top: string, skip: ReadonlySet<string>): string {
  const lines: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (skip.has(p) || name.startsWith('tree-')) continue;
      const st = lstatSync(p);
      const what = st.isSymbolicLink()
        ? `-> ${readlinkSync(p)}`
        : st.isFile()
          ? createHash('sha256').update(readFileSync(p)).digest('hex')
          : st.isDirectory()
            ? 'dir'
            : 'other';
      lines.push(
        `${relative(top, p)} ${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)} n${st.nlink} ${st.isDirectory() ? '' : st.mtimeMs} ${what}`,
      );
      if (st.isDirectory()) walk(p);
    }
  };
  walk(top);
  return lines.join('\n');
}

before(() => {
  const tag = randomBytes(3).toString('hex');
  base = mkdtempSync(`/tmp/bgth-${tag}-`);
  canary = join(base, 'canary');
  build = join(base, 'build');
  blobs = join(base, 'blobs');
  mkdirSync(join(canary, 'etc'), { recursive: true });
  mkdirSync(build);
  mkdirSync(blobs);
  writeFileSync(join(canary, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  writeFileSync(join(canary, 'secret'), 'root secret\n', { mode: 0o600 });
  writeFileSync(join(base, 'parent-file'), 'beside the build directory\n');
  writeFileSync(join(build, 'neighbour'), 'beside the tree\n');
  mkdirSync(join(build, 'sibling'));
  writeFileSync(join(build, 'sibling', 'x'), 'sibling\n');
  symlinkSync(canary, join(build, 'link-to-canary'));
  before0 = snapshot(base, new Set([blobs]));
});

after(() => {
  rmSync(base, { recursive: true, force: true });
});

let n = 0;
function blob(entries: TarEntrySpec[]): { digest: string; path: string; mediaType: string } {
  const path = join(blobs, `l${n++}`);
  writeFileSync(path, gzipLayer(tarLayer(entries)));
  return {
    digest: `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`,
    path,
    mediaType: LAYER_MEDIA_TYPES.gzip,
  };
}

/** Flattens `layers` into a fresh tree dir beside the canaries; returns the refusal's message, or null. */
async function flatten(layers: ReturnType<typeof blob>[], limits?: Partial<FlattenLimits>): Promise<string | null> {
  const treeDir = mkdtempSync(join(build, 'tree-'));
  try {
    await flattenLayers({ layers, treeDir, limits: { ...DEFAULT_FLATTEN_LIMITS, ...limits } });
    return null;
  } catch (e) {
    return (e as Error).message;
  } finally {
    assert.ok(existsSync(treeDir), 'the tree directory is left for the caller');
    rmSync(treeDir, { recursive: true, force: true });
    assert.equal(snapshot(base, new Set([blobs])), before0, 'the canary tree changed');
  }
}

async function refused(layers: ReturnType<typeof blob>[], entry: string, why: RegExp, limits?: Partial<FlattenLimits>) {
  const msg = await flatten(layers, limits);
  assert.ok(msg, `not refused: ${entry}`);
  const last = layers[layers.length - 1]!;
  assert.ok(msg.startsWith(`layer ${last.digest}: entry "${entry}": `), msg);
  assert.match(msg, why);
}

const file = (name: string, content = 'pwned\n'): TarEntrySpec => ({ name, content });
const sym = (name: string, linkname: string): TarEntrySpec => ({ name, type: 'symlink', linkname });
const hard = (name: string, linkname: string): TarEntrySpec => ({ name, type: 'hardlink', linkname });

test('traversal and absolute names are refused', async () => {
  await refused([blob([file('ok'), file('../x')])], '../x', /"\.\." component/);
  await refused([blob([file('a/../../x')])], 'a/../../x', /"\.\." component/);
  await refused([blob([file(`/etc/x`)])], '/etc/x', /absolute path/);
  await refused([blob([file(`${canary}/secret`)])], `${canary}/secret`, /absolute path/);
});

test('writes through a symlinked ancestor are refused, planted in the same layer or an earlier one', async () => {
  await refused([blob([sym('evil', canary), file('evil/secret')])], 'evil/secret', /ancestor "evil" is a symlink/);
  await refused(
    [blob([sym('etc', `${canary}/etc`)]), blob([file('etc/passwd')])],
    'etc/passwd',
    /ancestor "etc" is a symlink/,
  );
  await refused(
    [blob([sym('root', '/'), file(`root${canary}/secret`)])],
    `root${canary}/secret`,
    /ancestor "root" is a symlink/,
  );
  await refused(
    [blob([sym('up', '../../../..'), { name: 'up/x/', type: 'dir' }])],
    'up/x/',
    /ancestor "up" is a symlink/,
  );
  await refused(
    [blob([{ name: 'd/', type: 'dir' }, sym('d/s', canary), { name: 'd/s/.wh.secret' }])],
    'd/s/.wh.secret',
    /ancestor "d\/s" is a symlink/,
  );
});

test('a symlink replaced by a file, a directory or a hard link is replaced, never written through', async () => {
  const msg = await flatten([
    blob([sym('x', `${canary}/secret`), sym('d', canary), sym('h', `${canary}/etc/passwd`), file('t')]),
    blob([file('x', 'over\n'), { name: 'd/', type: 'dir' }, file('d/secret'), hard('h', 't')]),
  ]);
  assert.equal(msg, null);
});

test('hard links out of the image, to whiteouts, or through symlinks are refused', async () => {
  await refused(
    [blob([hard('link', '../../etc/passwd')])],
    'link',
    /hard link target "\.\.\/\.\.\/etc\/passwd": path with a "\.\." component/,
  );
  await refused([blob([hard('link', '/etc/passwd')])], 'link', /hard link target "\/etc\/passwd": absolute path/);
  await refused([blob([hard('link', `${canary}/secret`)])], 'link', /absolute path/);
  await refused([blob([hard('link', 'nothing/here')])], 'link', /is not in the image/);
  await refused(
    [blob([file('f')]), blob([{ name: '.wh.f' }, hard('g', 'f')])],
    'g',
    /not in the image \(absent or whited out\)/,
  );
  await refused([blob([file('f')]), blob([{ name: '.wh.f' }, hard('g', '.wh.f')])], 'g', /hard link to a whiteout/);
  await refused(
    [blob([sym('s', canary), hard('g', 's/secret')])],
    'g',
    /hard link target "s\/secret": its ancestor "s" is a symlink/,
  );
  await refused([blob([{ name: 'dir/', type: 'dir' }, hard('g', 'dir')])], 'g', /hard link to a directory/);
  await refused([blob([file('d/f'), hard('d', 'd/f')])], 'd', /was inside the entry the link replaces/);
});

test('whiteouts aimed outside their directory are refused', async () => {
  await refused([blob([{ name: '../.wh.x' }])], '../.wh.x', /"\.\." component/);
  await refused([blob([{ name: 'a/.wh..' }])], 'a/.wh..', /aimed outside/);
  await refused([blob([{ name: 'a/.wh...' }])], 'a/.wh...', /aimed outside/);
  await refused([blob([{ name: '.wh.' }])], '.wh.', /aimed outside/);
});

test('names the ext4 writer cannot carry are refused', async () => {
  await refused([blob([file('a\nb')])], 'a\nb', /control character/);
  await refused([blob([file('tab\tname')])], 'tab\tname', /control character/);
  await refused([blob([file('x'.repeat(256))])], 'x'.repeat(256), /255 bytes/);
});

test('a giant PAX header, too many entries and a gzip bomb are stopped at their caps', async () => {
  await refused(
    [blob([{ name: 'big', pax: { comment: 'x'.repeat(2 * 1024 * 1024) } }])],
    'PaxHeader',
    /PAX header of \d+ bytes exceeds the 1048576-byte cap/,
  );
  const many = Array.from({ length: 30 }, (_, i) => file(`f${i}`));
  await refused([blob(many)], 'f20', /more than 20 entries/, { maxEntries: 20 });
  const path = join(blobs, 'bomb');
  await writeGzipBomb(path, 10 * 1024 ** 3, { name: 'zeros' }); // 10 GiB of zeros, ~47 MB of gzip
  const digest = `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
  const t0 = Date.now();
  await refused(
    [{ digest, path, mediaType: LAYER_MEDIA_TYPES.gzip }],
    'zeros',
    /the layer exceeds 268435456 bytes uncompressed/,
    {
      maxLayerBytes: 256 * 1024 * 1024,
    },
  );
  assert.ok(Date.now() - t0 < 30_000, 'the bomb was decompressed past its cap');
  await refused([{ digest, path, mediaType: LAYER_MEDIA_TYPES.gzip }], 'zeros', /the image exceeds 104857600 bytes/, {
    maxTotalBytes: 100 * 1024 * 1024,
  });
});

// ---- review15 (hostile review of issue 15): failing tests that demonstrate findings ----

/** Bytes of xattr values the flattened model holds (every name of a node, as the model does). */
function heldXattrBytes(root: import('../../src/imagefs/index.js').FlattenResult['tree']['root']): number {
  let held = 0;
  const visit = (d: typeof root) => {
    for (const n of d.children.values()) {
      for (const v of n.meta.xattrs.values()) held += v.length;
      if (n.kind === 'dir') visit(n);
    }
  };
  visit(root);
  return held;
}

test('review15: a global PAX header does not copy its xattrs into every later entry (memory stays near the input)', async () => {
  // One `g` header of ~950 KB (under the 1 MiB header cap) with 250 xattrs of 3800 bytes each
  // (each under the per-value cap), then N tiny entries of 512 bytes: every entry gets its own
  // copy (Buffer.from) of all 250 values. 200 entries hold 190 MB from a 1 MB layer; the
  // 1,000,000-entry cap allows ~950 GB, i.e. the daemon is OOM-killed long before any cap.
  const globalPax: Record<string, string> = {};
  for (let i = 0; i < 250; i++) globalPax[`SCHILY.xattr.user.x${i}`] = 'v'.repeat(3800);
  const tar = tarLayer(
    Array.from({ length: 200 }, (_, i): TarEntrySpec => ({ name: `d${i}/`, type: 'dir' })),
    { globalPax },
  );
  const path = join(blobs, `g${n++}`);
  writeFileSync(path, gzipLayer(tar));
  const digest = `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
  const treeDir = mkdtempSync(join(build, 'tree-'));
  try {
    let held = 0;
    try {
      const r = await flattenLayers({ layers: [{ digest, path, mediaType: LAYER_MEDIA_TYPES.gzip }], treeDir });
      held = heldXattrBytes(r.tree.root);
    } catch {
      held = 0; // a refusal (e.g. "too many xattr bytes for one inode") is the fix
    }
    assert.ok(
      held <= 4 * tar.length,
      `the model holds ${held} bytes of xattr values from a ${tar.length}-byte layer (${Math.round(held / tar.length)}x)`,
    );
  } finally {
    rmSync(treeDir, { recursive: true, force: true });
  }
});

test('review15: a LIBARCHIVE.xattr name with a bad %-escape is a refusal naming layer and entry', async () => {
  // decodeURIComponent throws URIError, which asRefusal passes through as a bare internal error.
  await refused(
    [blob([{ name: 'f', content: 'x', pax: { 'LIBARCHIVE.xattr.user.%E0%A4%A': 'eA==' } }])],
    'f',
    /xattr|malformed|escape/i,
  );
});

test('review15: a deep tree does not block the event loop for seconds (walks are O(entries x depth))', async () => {
  // 20,000 empty files under a 2000-deep chain: a 376 KB gzip layer, far under every cap.
  // walk() nests one generator per level and copies the path at each, so every synchronous
  // walk (setDirTimes here; contentBytes, listScript, fixupScript, verifyProblems in
  // buildExt4) costs entries x depth: ~2 s of a blocked daemon here, minutes at the
  // 1,000,000-entry cap (a ~19 MB layer). Depth 1 with the same entries blocks ~20 ms.
  // (fix-imagefs: entries deeper than 256 levels are now refused, so the carried tree is 256
  // levels deep here, and the 2000-deep one must be refused quickly.)
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const pre = 'a/'.repeat(255);
  const deep = blob(Array.from({ length: 20_000 }, (_, i) => file(`${pre}f${i}`, '')));
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const msg = await flatten([deep]);
  h.disable();
  assert.equal(msg, null);
  const maxBlockMs = Math.round(h.max / 1e6);
  assert.ok(maxBlockMs < 1_000, `the event loop was blocked for ${maxBlockMs} ms in one go`);
  const t0 = Date.now();
  const deeper = `${'a/'.repeat(2000)}f`;
  await refused([blob([file(deeper, '')])], deeper, /deeper than 256 directory levels/);
  assert.ok(Date.now() - t0 < 2000, 'refusing a 2000-deep entry took seconds');
});

test('review15: the skipped list (stored in the image record, shown by image show) stays bounded', async () => {
  // Every dropped xattr of every entry is one `skipped` row, and a global PAX header repeats
  // its xattrs on every later entry: 20,000 overlayfs xattr names (~800 KB, under the header
  // cap) x 50 entries = 1,000,000 rows from a ~830 KB layer. importOciImage stores
  // flat.skipped whole in ImageOci.skipped (the store's JSON, every image list/show); at the
  // 1,000,000-entry cap it is 2e10 rows: the daemon dies building the list.
  const globalPax: Record<string, string> = {};
  for (let i = 0; i < 20_000; i++) globalPax[`SCHILY.xattr.trusted.overlay.${i}`] = '';
  const tar = tarLayer(
    Array.from({ length: 50 }, (_, i): TarEntrySpec => ({ name: `f${i}`, content: '' })),
    { globalPax },
  );
  const path = join(blobs, `s${n++}`);
  writeFileSync(path, gzipLayer(tar));
  const digest = `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
  const treeDir = mkdtempSync(join(build, 'tree-'));
  try {
    let rows = 0;
    try {
      rows = (await flattenLayers({ layers: [{ digest, path, mediaType: LAYER_MEDIA_TYPES.gzip }], treeDir })).skipped
        .length;
    } catch {
      rows = 0; // a refusal is fine
    }
    assert.ok(rows <= 1000, `${rows} skipped rows from a ${tar.length}-byte layer`);
  } finally {
    rmSync(treeDir, { recursive: true, force: true });
  }
});

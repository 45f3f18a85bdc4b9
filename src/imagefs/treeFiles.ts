/**
 * What banger adds to or reads from a flattened tree (the injected agent, init and units;
 * /etc/os-release and /sbin/init detection). Additions are owned root:root in the image
 * unless told otherwise; reads resolve symlinks inside the model only, never on the host.
 */
import { closeSync, fstatSync, readSync } from 'node:fs';
import { constants } from 'node:fs';
import { BangerError, MIB } from '../model/index.js';
import { hostcalls, RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV } from '../system/index.js';
import { HostTree } from './hostTree.js';
import { checkSymlinkTarget, EntryRefused, entryComponents } from './pathPolicy.js';
import { type DirNode, newMeta, parentDir, resolveInTree, type TreeMeta, type TreeNode } from './treeMeta.js';

/** The components of an absolute in-image path, checked like a layer's entry names. */
function componentsOf(path: string): string[] {
  try {
    const comps = entryComponents(path.replace(/^\/+/, ''));
    if (comps.length === 0) throw new EntryRefused('it is the image root');
    return comps;
  } catch (e) {
    throw new BangerError('bad_request', `cannot add "${path}" to the image: ${(e as Error).message}`);
  }
}

/** Adds `node` at `path` in model and host (`make` creates it on the host), replacing a non-directory there. */
function add(
  treeDir: string,
  tree: TreeMeta,
  path: string,
  node: TreeNode,
  make: (h: HostTree, c: string[]) => void,
): void {
  const comps = componentsOf(path);
  const host = HostTree.open(treeDir, false);
  try {
    let dir: DirNode;
    try {
      dir = parentDir(tree, comps, (d, name, at) => {
        const n: DirNode = { kind: 'dir', meta: newMeta(), layer: -1, children: new Map() };
        host.mkdir(at, 0o755);
        d.children.set(name, n);
        return n;
      })!;
    } catch (e) {
      throw new BangerError('bad_request', `cannot add "${path}" to the image: ${(e as Error).message}`);
    }
    const name = comps[comps.length - 1]!;
    const existing = dir.children.get(name);
    if (existing?.kind === 'dir')
      throw new BangerError('conflict', `cannot add "${path}" to the image: it is a directory there`);
    if (existing) host.remove(comps);
    make(host, comps);
    dir.children.set(name, node);
  } finally {
    host.close();
  }
}

export function addTreeFile(
  treeDir: string,
  tree: TreeMeta,
  f: { path: string; content: Buffer | string; mode: number; uid?: number; gid?: number },
): void {
  const content = Buffer.from(f.content);
  const meta = newMeta({ uid: f.uid ?? 0, gid: f.gid ?? 0, mode: f.mode & 0o7777 });
  add(treeDir, tree, f.path, { kind: 'file', meta, layer: -1, size: content.length }, (host, comps) =>
    host.writeFileSync(comps, content, f.mode, meta.mtime),
  );
}

export function addTreeSymlink(treeDir: string, tree: TreeMeta, path: string, target: string): void {
  try {
    checkSymlinkTarget(target);
  } catch (e) {
    throw new BangerError('bad_request', `cannot add "${path}" to the image: ${(e as Error).message}`);
  }
  const meta = newMeta({ mode: 0o777 });
  add(treeDir, tree, path, { kind: 'symlink', meta, layer: -1, target }, (host, comps) =>
    host.symlink(comps, target, meta.mtime),
  );
}

/**
 * The content of the file `path` (symlinks resolved inside the image), or null when it is
 * not a regular file or holds more than `maxBytes` (detection reads a few small files; a
 * layer can make them gigabytes).
 */
export function readTreeFile(treeDir: string, tree: TreeMeta, path: string, maxBytes = 16 * MIB): Buffer | null {
  const r = resolveInTree(tree, path);
  if (!r || r.node.kind !== 'file' || r.node.size > maxBytes) return null;
  const host = HostTree.open(treeDir, false);
  try {
    const fd = hostcalls().openat2(
      host.rootFd,
      r.comps.join('/'),
      constants.O_RDONLY | constants.O_NOFOLLOW,
      0,
      RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV,
    );
    try {
      return readCapped(fd, maxBytes);
    } finally {
      closeSync(fd);
    }
  } finally {
    host.close();
  }
}

/** The content of `fd`, or null when it holds more than `maxBytes` (or grows while read). */
function readCapped(fd: number, maxBytes: number): Buffer | null {
  const size = fstatSync(fd).size;
  if (size > maxBytes) return null;
  const buf = Buffer.alloc(size + 1);
  let got = 0;
  for (;;) {
    const n = readSync(fd, buf, got, buf.length - got, null);
    if (n === 0) return buf.subarray(0, got);
    got += n;
    if (got === buf.length) return null;
  }
}

export function treeEntryKind(tree: TreeMeta, path: string): 'file' | 'dir' | 'symlink' | 'other' | null {
  const r = resolveInTree(tree, path);
  if (!r) {
    // A dangling or looping symlink is still a symlink.
    try {
      const comps = entryComponents(path.replace(/^\/+/, ''));
      const dir = parentDir(tree, comps);
      return dir?.children.get(comps[comps.length - 1]!)?.kind === 'symlink' ? 'symlink' : null;
    } catch {
      return null;
    }
  }
  const k = r.node.kind;
  return k === 'file' || k === 'dir' ? k : 'other';
}

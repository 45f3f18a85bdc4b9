/**
 * Applies one tar entry of layer `layer` to the model and the host tree (OCI image-spec
 * layer.md semantics, oldest layer first): a later entry replaces whatever stood at its
 * name (a directory with a file, a file with a directory: the old entry and all under it
 * go); a directory over a directory only updates its metadata; whiteouts remove lower
 * layers' entries; an opaque marker empties its directory of lower layers' entries while
 * this layer's own stay. Refusals throw EntryRefused (the caller names layer and entry).
 *
 * Device nodes and fifos are recorded in the model only and recreated in the image by
 * debugfs `mknod` (an owner cannot mknod a device on the host). Unknown entry types and
 * sparse files are skipped and listed in FlattenResult.skipped.
 */
import type { HostTree } from './hostTree.js';
import type { SkipList } from './skipList.js';
import { checkSymlinkTarget, EntryRefused, entryComponents, whiteoutOf, xattrProblem } from './pathPolicy.js';
import type { TarEntry } from './tarReader.js';
import { type DirNode, type InodeMeta, lookup, newMeta, parentDir, type TreeMeta, type TreeNode } from './treeMeta.js';

interface ApplyContext {
  tree: TreeMeta;
  host: HostTree;
  layer: number;
  skipped: SkipList;
}

function metaOf(e: TarEntry, ctx: ApplyContext): InodeMeta {
  const xattrs = new Map<string, Buffer>();
  for (const [k, v] of e.xattrs) {
    const problem = xattrProblem(k, v);
    if (problem) ctx.skipped.add(e.name, problem);
    else xattrs.set(k, v);
  }
  if (e.uid > 0xfffffffe || e.gid > 0xfffffffe) throw new EntryRefused(`uid/gid ${e.uid}/${e.gid} out of range`);
  // A time before 1970 or after 2106 is clamped, not refused (it is only a time).
  const mtime = Math.min(Math.max(e.mtime, 0), 2 ** 32 - 1);
  return newMeta({ uid: e.uid, gid: e.gid, mode: e.mode & 0o7777, mtime, xattrs });
}

/** The parent directory of `comps`, making missing directories 0755 root:root (a tar may omit them). */
function ensureParent(ctx: ApplyContext, comps: readonly string[]): DirNode {
  return parentDir(ctx.tree, comps, (dir, name, at) => {
    const node: DirNode = { kind: 'dir', meta: newMeta({ mode: 0o755 }), layer: ctx.layer, children: new Map() };
    ctx.host.mkdir(at, 0o755);
    dir.children.set(name, node);
    return node;
  })!;
}

function removeEntry(ctx: ApplyContext, dir: DirNode, comps: readonly string[]): void {
  const name = comps[comps.length - 1]!;
  if (!dir.children.has(name)) return;
  ctx.host.remove(comps);
  dir.children.delete(name);
}

/** Removes what lower layers put under `dir`, keeping this layer's own entries. */
function removeLower(ctx: ApplyContext, dir: DirNode, at: readonly string[]): void {
  for (const [name, n] of [...dir.children]) {
    if (n.layer < ctx.layer) removeEntry(ctx, dir, [...at, name]);
    else if (n.kind === 'dir') removeLower(ctx, n, [...at, name]);
  }
}

function applyWhiteout(ctx: ApplyContext, comps: string[], base: string): boolean {
  const wh = whiteoutOf(base);
  if (wh.kind === 'none') return false;
  if (wh.kind === 'meta') {
    ctx.skipped.add(comps.join('/'), 'aufs bookkeeping entry');
    return true;
  }
  const dirComps = comps.slice(0, -1);
  const dir = dirComps.length === 0 ? ctx.tree.root : lookup(ctx.tree, dirComps);
  if (!dir || dir.kind !== 'dir') return true; // nothing below to hide
  if (wh.kind === 'opaque') {
    removeLower(ctx, dir, dirComps);
    return true;
  }
  const target = dir.children.get(wh.target);
  if (!target) return true;
  if (target.layer < ctx.layer) removeEntry(ctx, dir, [...dirComps, wh.target]);
  else if (target.kind === 'dir') removeLower(ctx, target, [...dirComps, wh.target]);
  return true;
}

function applyHardlink(ctx: ApplyContext, e: TarEntry, comps: string[], dir: DirNode): void {
  let tcomps: string[];
  try {
    tcomps = entryComponents(e.linkname);
  } catch (err) {
    throw new EntryRefused(`hard link target "${e.linkname}": ${(err as Error).message}`);
  }
  const tbase = tcomps[tcomps.length - 1] ?? '';
  if (tbase.startsWith('.wh.')) throw new EntryRefused(`hard link to a whiteout "${e.linkname}"`);
  let target: TreeNode | null;
  try {
    target = lookup(ctx.tree, tcomps);
  } catch (err) {
    throw new EntryRefused(`hard link target "${e.linkname}": ${(err as Error).message}`);
  }
  if (!target) throw new EntryRefused(`hard link target "${e.linkname}" is not in the image (absent or whited out)`);
  if (target.kind === 'dir') throw new EntryRefused(`hard link to a directory "${e.linkname}"`);
  if (target.kind !== 'file' && target.kind !== 'symlink') {
    ctx.skipped.add(comps.join('/'), `hard link to a ${target.kind} node is not carried`);
    return;
  }
  if (tcomps.join('/') === comps.join('/')) return;
  removeEntry(ctx, dir, comps);
  if (lookup(ctx.tree, tcomps) !== target)
    throw new EntryRefused(`hard link target "${e.linkname}" was inside the entry the link replaces`);
  ctx.host.link(comps, tcomps);
  dir.children.set(comps[comps.length - 1]!, target);
}

/** Applies one entry; `data` is its content stream (regular files only). */
export async function applyEntry(ctx: ApplyContext, e: TarEntry, data: AsyncIterable<Buffer>): Promise<void> {
  const comps = entryComponents(e.name);
  if (comps.length === 0) {
    if (e.kind !== 'dir') throw new EntryRefused('the image root must be a directory');
    // The host root stays 0700 (HostTree.open); the image's root mode is set by the fix-ups.
    Object.assign(ctx.tree.root.meta, metaOf(e, ctx));
    return;
  }
  const base = comps[comps.length - 1]!;
  if (base.startsWith('.wh.')) {
    parentDir(ctx.tree, comps); // refuses a symlinked or non-directory ancestor
    applyWhiteout(ctx, comps, base);
    return;
  }
  if (e.kind === 'other' || e.sparse) {
    ctx.skipped.add(e.name, e.sparse ? 'GNU sparse file' : `unknown tar entry type "${e.typeflag}"`);
    return;
  }
  const dir = ensureParent(ctx, comps);
  const existing = dir.children.get(base);
  if (e.kind === 'hardlink') return applyHardlink(ctx, e, comps, dir);
  if (e.kind === 'dir' && existing?.kind === 'dir') {
    existing.meta = metaOf(e, ctx);
    existing.layer = ctx.layer;
    ctx.host.chmodDir(comps, e.mode);
    return;
  }
  if (e.kind === 'symlink') checkSymlinkTarget(e.linkname);
  if (existing) removeEntry(ctx, dir, comps);
  const meta = metaOf(e, ctx);
  let node: TreeNode;
  switch (e.kind) {
    case 'dir':
      ctx.host.mkdir(comps, e.mode);
      node = { kind: 'dir', meta, layer: ctx.layer, children: new Map() };
      break;
    case 'file':
      node = { kind: 'file', meta, layer: ctx.layer, size: await ctx.host.writeFile(comps, data, e.mode, meta.mtime) };
      break;
    case 'symlink':
      ctx.host.symlink(comps, e.linkname, meta.mtime);
      node = { kind: 'symlink', meta, layer: ctx.layer, target: e.linkname };
      break;
    default:
      node = { kind: e.kind, meta, layer: ctx.layer, major: e.devmajor, minor: e.devminor };
  }
  dir.children.set(base, node);
}

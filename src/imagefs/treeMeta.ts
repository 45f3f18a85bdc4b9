/**
 * The in-memory model of the image being built: every entry, with what the host tree cannot
 * carry when it is extracted as an unprivileged owner (uid, gid, setuid/setgid/sticky
 * bits, xattrs, device nodes and fifos). It is also the first line of defence: symlinked
 * ancestors are known from here, never by asking the host filesystem. Hard links share one
 * node object (one inode).
 */
import { EntryRefused } from './pathPolicy.js';

export interface InodeMeta {
  uid: number;
  gid: number;
  /** Permission bits including setuid/setgid/sticky (0o7777). */
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  xattrs: Map<string, Buffer>;
}

interface Base {
  meta: InodeMeta;
  /** Index of the layer that last wrote this entry (-1: banger added it). */
  layer: number;
}
export interface DirNode extends Base {
  kind: 'dir';
  children: Map<string, TreeNode>;
}
export interface FileNode extends Base {
  kind: 'file';
  size: number;
}
export interface SymlinkNode extends Base {
  kind: 'symlink';
  target: string;
}
/** Not on the host: made in the image by debugfs `mknod` (an owner cannot mknod a device). */
export interface SpecialNode extends Base {
  kind: 'char' | 'block' | 'fifo';
  major: number;
  minor: number;
}
export type TreeNode = DirNode | FileNode | SymlinkNode | SpecialNode;

export interface TreeMeta {
  root: DirNode;
  /** Who owns the host tree's files (mkfs.ext4 -d records them as this uid/gid). */
  hostUid: number;
  hostGid: number;
}

export const newMeta = (m: Partial<InodeMeta> = {}): InodeMeta => ({
  uid: m.uid ?? 0,
  gid: m.gid ?? 0,
  mode: m.mode ?? 0o755,
  mtime: m.mtime ?? Math.floor(Date.now() / 1000),
  xattrs: m.xattrs ?? new Map(),
});

export function newTree(): TreeMeta {
  return {
    root: { kind: 'dir', meta: newMeta(), layer: -1, children: new Map() },
    hostUid: process.geteuid?.() ?? 0,
    hostGid: process.getegid?.() ?? 0,
  };
}

/**
 * The directory holding `comps`' last component, walking the model without following any
 * symlink: a symlink or non-directory on the way is refused. Missing directories are made
 * with `create` (null when absent and `create` is not given).
 */
export function parentDir(
  tree: TreeMeta,
  comps: readonly string[],
  create?: (dir: DirNode, name: string, at: readonly string[]) => DirNode,
): DirNode | null {
  let dir = tree.root;
  for (let i = 0; i < comps.length - 1; i++) {
    const c = comps[i]!;
    const n = dir.children.get(c);
    if (n === undefined) {
      if (!create) return null;
      dir = create(dir, c, comps.slice(0, i + 1));
    } else if (n.kind === 'symlink') {
      throw new EntryRefused(`its ancestor "${comps.slice(0, i + 1).join('/')}" is a symlink in the image`);
    } else if (n.kind !== 'dir') {
      throw new EntryRefused(`its ancestor "${comps.slice(0, i + 1).join('/')}" is not a directory`);
    } else dir = n;
  }
  return dir;
}

/** The node at `comps` without following symlinks anywhere (null when absent). */
export function lookup(tree: TreeMeta, comps: readonly string[]): TreeNode | null {
  if (comps.length === 0) return tree.root;
  const dir = parentDir(tree, comps);
  return dir?.children.get(comps[comps.length - 1]!) ?? null;
}

/**
 * Resolves `path` the way the guest would, but only inside the model: absolute symlink
 * targets start at the image root and `..` stops at it (like a chroot). Returns the final
 * node and its symlink-free components, or null (absent, a loop, or over 40 links).
 */
export function resolveInTree(tree: TreeMeta, path: string): { node: TreeNode; comps: string[] } | null {
  let todo = path.split('/').filter((p) => p !== '' && p !== '.');
  const at: string[] = [];
  let node: TreeNode = tree.root;
  let hops = 0;
  while (todo.length > 0) {
    const c = todo.shift()!;
    if (c === '..') {
      at.pop();
      node = lookup(tree, at)!;
      continue;
    }
    if (node.kind !== 'dir') return null;
    const next = node.children.get(c);
    if (!next) return null;
    if (next.kind === 'symlink') {
      if (++hops > 40) return null;
      if (next.target.startsWith('/')) at.length = 0;
      todo = [...next.target.split('/').filter((p) => p !== '' && p !== '.'), ...todo];
      node = lookup(tree, at)!;
      continue;
    }
    at.push(c);
    node = next;
  }
  return { node, comps: at };
}

/**
 * Every entry, parents before children, with its components (a fresh array per entry).
 * An explicit stack, not one nested generator per level: `yield*` through N levels costs N
 * per entry.
 */
export function* walk(dir: DirNode): Generator<[string[], TreeNode]> {
  const stack: Array<{ at: string[]; it: Iterator<[string, TreeNode]> }> = [{ at: [], it: dir.children.entries() }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const next = top.it.next();
    if (next.done) {
      stack.pop();
      continue;
    }
    const [name, n] = next.value;
    const p = [...top.at, name];
    yield [p, n];
    if (n.kind === 'dir') stack.push({ at: p, it: n.children.entries() });
  }
}

/** Every node under `dir` (hard links once per name), without building paths. */
export function* walkNodes(dir: DirNode): Generator<TreeNode> {
  const stack: Array<Iterator<TreeNode>> = [dir.children.values()];
  while (stack.length > 0) {
    const next = stack[stack.length - 1]!.next();
    if (next.done) {
      stack.pop();
      continue;
    }
    yield next.value;
    if (next.value.kind === 'dir') stack.push(next.value.children.values());
  }
}

/** Resolves after other events had their turn; long loops call it every few thousand steps. */
export const breather = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Bytes of regular file content, each inode counted once (hard links share), and the device
 * nodes and fifos; lets other events run every few thousand entries.
 */
export async function contentBytes(
  tree: TreeMeta,
): Promise<{ bytes: number; entries: number; blocks4k: number; specialFiles: number }> {
  const seen = new Set<TreeNode>();
  let bytes = 0;
  let entries = 1;
  let blocks4k = 1;
  let specialFiles = 0;
  for (const n of walkNodes(tree.root)) {
    if (++entries % 4096 === 0) await breather();
    if (seen.has(n)) continue;
    seen.add(n);
    if (n.kind === 'file') {
      bytes += n.size;
      blocks4k += Math.ceil(n.size / 4096);
    } else if (n.kind === 'dir') blocks4k += 1;
    else if (n.kind !== 'symlink') specialFiles++;
  }
  return { bytes, entries, blocks4k, specialFiles };
}

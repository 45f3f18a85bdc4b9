/**
 * The debugfs side of an owner-built image. mkfs.ext4 -d records what the host tree holds:
 * the extracting user's uid/gid and host modes (hostTree.ts), no device nodes, no xattrs it
 * could not read from the host. One `debugfs -w` session then fixes every inode that
 * differs from the model (`sif` uid/gid/mode, `ea_set`, `mknod` + `sif` for device nodes
 * and fifos), addressing inodes by number (debugfsListing.ts). debugfs exits 0 when a
 * command fails and `mknod PATH` makes a name with slashes in the current directory, so
 * nodes are made after a `cd <ino>`, and the result is read back (`ls -l` of every directory,
 * `ea_list` and `stat` where needed) and compared with the model.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dfQuote } from './pathPolicy.js';
import {
  type Listed,
  type Listings,
  dfLine,
  dirsOf,
  listedAt,
  listScript,
  parseListings,
  sectionsOf,
} from './debugfsListing.js';
import { type TreeMeta, type TreeNode, walk } from './treeMeta.js';

const TYPE_BITS = { dir: 0o040000, file: 0o100000, symlink: 0o120000, char: 0o020000, block: 0o060000, fifo: 0o010000 };

/** The full i_mode the image must have for `n`. Symlinks keep 0777 (mkfs copies the host's). */
function imageMode(n: TreeNode): number {
  return TYPE_BITS[n.kind] | (n.kind === 'symlink' ? 0o777 : n.meta.mode);
}

const oct = (m: number) => `0${m.toString(8)}`;

/** Every node once (hard links: the first path), the root first. */
export function* uniqueNodes(tree: TreeMeta): Generator<[string[], TreeNode]> {
  yield [[], tree.root];
  const seen = new Set<TreeNode>();
  for (const entry of walk(tree.root)) {
    if (seen.has(entry[1])) continue;
    seen.add(entry[1]);
    yield entry;
  }
}

/** A host path as one debugfs argument (double-quoted, `"` doubled): scratch paths may hold spaces. */
const hostArg = (f: string) => `"${f.replaceAll('"', '""')}"`;

/**
 * The fix-up script (xattr values written as files into `scratch`), addressing inodes by
 * number from `before` (the listing after mkfs). Device nodes and fifos are made after a
 * `cd <ino>` to their directory and addressed by their own name there, so no line holds a
 * whole path; every line is checked against debugfs's line buffer (dfLine).
 */
export function fixupScript(tree: TreeMeta, scratch: string, before: Listings): string {
  const out: string[] = [];
  let values = 0;
  for (const [comps, n] of uniqueNodes(tree)) {
    const special = n.kind === 'char' || n.kind === 'block' || n.kind === 'fifo';
    const listed = listedAt(before, special ? comps.slice(0, -1) : comps, special || n.kind === 'dir');
    if (!listed) throw new Error(`${describe(comps)} is not in the image mkfs.ext4 made`);
    const p = special ? `"${comps[comps.length - 1]!.replaceAll('"', '""')}"` : `<${listed.ino}>`;
    const line = (l: string) => out.push(dfLine(l, comps));
    if (special) {
      const how = n.kind === 'fifo' ? 'p' : `${n.kind === 'char' ? 'c' : 'b'} ${n.major} ${n.minor}`;
      line(`cd <${listed.ino}>`);
      line(`mknod ${p} ${how}`);
      line(`sif ${p} mtime @${n.meta.mtime}`);
    }
    if (special || listed.mode !== imageMode(n)) line(`sif ${p} mode ${oct(imageMode(n))}`);
    if (special || listed.uid !== n.meta.uid) line(`sif ${p} uid ${n.meta.uid}`);
    if (special || listed.gid !== n.meta.gid) line(`sif ${p} gid ${n.meta.gid}`);
    for (const [name, value] of n.meta.xattrs) {
      const f = join(scratch, `x${values++}`);
      writeFileSync(f, value);
      line(`ea_set -f ${hostArg(f)} ${p} "${name}"`);
    }
    if (special) line('cd /');
  }
  return `${out.join('\n')}\n`;
}

/** The read-back script: `ls -l` of every directory, `ea_list` of inodes with xattrs, `stat` of device nodes. */
export function verifyScript(tree: TreeMeta): string {
  const out = listScript(tree);
  for (const [comps, n] of uniqueNodes(tree)) {
    if (n.meta.xattrs.size > 0) out.push(dfLine(`ea_list ${dfQuote(comps)}`, comps));
    if (n.kind === 'char' || n.kind === 'block') out.push(dfLine(`stat ${dfQuote(comps)}`, comps));
  }
  return `${out.join('\n')}\n`;
}

function describe(comps: readonly string[]): string {
  return `/${comps.join('/')}`;
}

/** Compares debugfs's read-back (stdout of verifyScript) with the model; returns the problems (at most 10). */
export function verifyProblems(tree: TreeMeta, stdout: string): string[] {
  const sections = sectionsOf(stdout);
  const listings = parseListings(tree, sections);
  const problems: string[] = [];
  const show = (what: string, v: number) => (what === 'mode' ? oct(v) : String(v));
  for (const [comps, dir] of dirsOf(tree)) {
    const seen = listings.get(comps.join('/'));
    if (!seen) {
      problems.push(`${describe(comps)}: not listed by debugfs`);
      continue;
    }
    const expect: Array<[string[], TreeNode, Listed | undefined]> = [[comps, dir, seen.get('.')]];
    for (const [name, child] of dir.children)
      if (child.kind !== 'dir') expect.push([[...comps, name], child, seen.get(name)]);
    for (const [at, n, got] of expect) {
      if (!got) problems.push(`${describe(at)}: missing in the image`);
      else
        for (const [what, g, w] of [
          ['mode', got.mode, imageMode(n)],
          ['uid', got.uid, n.meta.uid],
          ['gid', got.gid, n.meta.gid],
        ] as const)
          if (g !== w) problems.push(`${describe(at)}: ${what} is ${show(what, g)}, expected ${show(what, w)}`);
    }
    for (const name of seen.keys())
      if (name !== '.' && name !== '..' && !dir.children.has(name) && !(comps.length === 0 && name === 'lost+found'))
        problems.push(`${describe([...comps, name])}: in the image but not in the tree`);
  }
  for (const [comps, n] of uniqueNodes(tree)) {
    for (const name of n.meta.xattrs.keys())
      if (!(sections.get(`ea_list ${dfQuote(comps)}`) ?? '').includes(`  ${name} (`))
        problems.push(`${describe(comps)}: xattr ${name} missing`);
    if (n.kind === 'char' || n.kind === 'block') {
      const m = /Device major\/minor number: (\d+):(\d+) \(hex/.exec(sections.get(`stat ${dfQuote(comps)}`) ?? '');
      if (!m || Number(m[1]) !== n.major || Number(m[2]) !== n.minor)
        problems.push(`${describe(comps)}: device number is not ${n.major}:${n.minor}`);
    }
  }
  return problems.slice(0, 10);
}

/**
 * The debugfs side of an owner-built image. mkfs.ext4 -d records what the host tree holds:
 * the extracting user's uid/gid and host modes (hostTree.ts), no device nodes, no xattrs it
 * could not read from the host. One `debugfs -w` session then fixes every inode that
 * differs from the model (`sif` uid/gid/mode, `ea_set`, `mknod` + `sif` for device nodes
 * and fifos). debugfs exits 0 when a command fails and `mknod PATH` makes a name with
 * slashes in the current directory, so nodes are made after a `cd`, and the result is read
 * back (`ls -l` of every directory, `ea_list` and `stat` where needed) and compared.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dfQuote } from './pathPolicy.js';
import { hostDirMode, hostFileMode } from './hostTree.js';
import { type TreeMeta, type TreeNode, walk } from './treeMeta.js';

const TYPE_BITS = { dir: 0o040000, file: 0o100000, symlink: 0o120000, char: 0o020000, block: 0o060000, fifo: 0o010000 };

/** The full i_mode the image must have for `n`. Symlinks keep 0777 (mkfs copies the host's). */
function imageMode(n: TreeNode): number {
  return TYPE_BITS[n.kind] | (n.kind === 'symlink' ? 0o777 : n.meta.mode);
}

/** What mkfs.ext4 -d recorded for `n` from the host tree. */
function hostMode(n: TreeNode): number {
  if (n.kind === 'dir') return TYPE_BITS.dir | hostDirMode(n.meta.mode);
  if (n.kind === 'file') return TYPE_BITS.file | hostFileMode(n.meta.mode);
  return TYPE_BITS.symlink | 0o777;
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

/** The fix-up script (xattr values written as files into `scratch`); returns it and its command count. */
export function fixupScript(tree: TreeMeta, scratch: string): { script: string; commands: number } {
  const out: string[] = [];
  let values = 0;
  for (const [comps, n] of uniqueNodes(tree)) {
    const p = dfQuote(comps);
    const special = n.kind === 'char' || n.kind === 'block' || n.kind === 'fifo';
    if (special) {
      const how = n.kind === 'fifo' ? 'p' : `${n.kind === 'char' ? 'c' : 'b'} ${n.major} ${n.minor}`;
      const name = `"${comps[comps.length - 1]!.replaceAll('"', '""')}"`;
      out.push(`cd ${dfQuote(comps.slice(0, -1))}`, `mknod ${name} ${how}`, 'cd /');
      out.push(`sif ${p} mtime @${n.meta.mtime}`);
    }
    if (special || comps.length === 0 || imageMode(n) !== hostMode(n)) out.push(`sif ${p} mode ${oct(imageMode(n))}`);
    if (special || comps.length === 0 || n.meta.uid !== tree.hostUid) out.push(`sif ${p} uid ${n.meta.uid}`);
    if (special || comps.length === 0 || n.meta.gid !== tree.hostGid) out.push(`sif ${p} gid ${n.meta.gid}`);
    for (const [name, value] of n.meta.xattrs) {
      const f = join(scratch, `x${values++}`);
      writeFileSync(f, value);
      out.push(`ea_set -f ${f} ${p} "${name}"`);
    }
  }
  return { script: `${out.join('\n')}\n`, commands: out.length };
}

/** The read-back script: `ls -l` of every directory, `ea_list` of inodes with xattrs, `stat` of device nodes. */
export function verifyScript(tree: TreeMeta): string {
  const out: string[] = [];
  for (const [comps, n] of uniqueNodes(tree)) {
    if (n.kind === 'dir') out.push(`ls -l ${dfQuote(comps)}`);
    if (n.meta.xattrs.size > 0) out.push(`ea_list ${dfQuote(comps)}`);
    if (n.kind === 'char' || n.kind === 'block') out.push(`stat ${dfQuote(comps)}`);
  }
  return `${out.join('\n')}\n`;
}

const LS_LINE = /^\s*\d+\s+([0-7]+)\s+\(\d+\)\s+(\d+)\s+(\d+)\s+\d+\s+\d{1,2}-\w{3}-\d{4} \d{2}:\d{2} (.*)$/;

function describe(comps: readonly string[]): string {
  return `/${comps.join('/')}`;
}

/** Compares debugfs's read-back (stdout of verifyScript) with the model; returns the problems (at most 10). */
export function verifyProblems(tree: TreeMeta, stdout: string): string[] {
  const sections = new Map<string, string>();
  for (const part of stdout.split(/^debugfs: /m).slice(1)) {
    const nl = part.indexOf('\n');
    sections.set(nl < 0 ? part : part.slice(0, nl), nl < 0 ? '' : part.slice(nl + 1));
  }
  const problems: string[] = [];
  const check = (what: string, got: number, want: number, at: readonly string[]) => {
    if (got !== want)
      problems.push(
        `${describe(at)}: ${what} is ${what === 'mode' ? oct(got) : got}, expected ${what === 'mode' ? oct(want) : want}`,
      );
  };
  for (const [comps, n] of uniqueNodes(tree)) {
    if (problems.length >= 10) break;
    if (n.kind === 'dir') {
      const listing = sections.get(`ls -l ${dfQuote(comps)}`);
      if (listing === undefined) {
        problems.push(`${describe(comps)}: not listed by debugfs`);
        continue;
      }
      const seen = new Map<string, [number, number, number]>();
      for (const line of listing.split('\n')) {
        const m = LS_LINE.exec(line);
        if (m) seen.set(m[4]!, [Number.parseInt(m[1]!, 8), Number(m[2]), Number(m[3])]);
      }
      const self = seen.get('.');
      if (!self) problems.push(`${describe(comps)}: missing in the image`);
      else {
        check('mode', self[0], imageMode(n), comps);
        check('uid', self[1], n.meta.uid, comps);
        check('gid', self[2], n.meta.gid, comps);
      }
      for (const [name, child] of n.children) {
        const at = [...comps, name];
        const got = seen.get(name);
        if (!got) problems.push(`${describe(at)}: missing in the image`);
        else if (child.kind !== 'dir') {
          check('mode', got[0], imageMode(child), at);
          check('uid', got[1], child.meta.uid, at);
          check('gid', got[2], child.meta.gid, at);
        }
      }
      for (const name of seen.keys())
        if (name !== '.' && name !== '..' && !n.children.has(name) && !(comps.length === 0 && name === 'lost+found'))
          problems.push(`${describe([...comps, name])}: in the image but not in the tree`);
    }
    for (const name of n.meta.xattrs.keys()) {
      const list = sections.get(`ea_list ${dfQuote(comps)}`) ?? '';
      if (!list.includes(`  ${name} (`)) problems.push(`${describe(comps)}: xattr ${name} missing`);
    }
    if (n.kind === 'char' || n.kind === 'block') {
      const st = sections.get(`stat ${dfQuote(comps)}`) ?? '';
      const m = /Device major\/minor number: (\d+):(\d+) \(hex/.exec(st);
      if (!m || Number(m[1]) !== n.major || Number(m[2]) !== n.minor)
        problems.push(`${describe(comps)}: device number is not ${n.major}:${n.minor}`);
    }
  }
  return problems.slice(0, 10);
}

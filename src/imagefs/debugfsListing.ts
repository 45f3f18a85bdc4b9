/**
 * Reading an image back with debugfs: `ls -l` of every directory of the model in one
 * session, parsed per directory into (inode, mode, uid, gid) per name. Used twice: to learn
 * inode numbers before the fix-ups (so each `sif` is `sif <ino>`, with no path lookup that
 * would scan a big directory once per command), and to verify the result afterwards.
 */
import { BangerError } from '../model/index.js';
import { dfQuote } from './pathPolicy.js';
import { type DirNode, type TreeMeta, walk } from './treeMeta.js';

export interface Listed {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
}

/** Each directory's listing, by the directory's components joined with '/' ('' is the root). */
export type Listings = Map<string, Map<string, Listed>>;

const LS_LINE = /^\s*(\d+)\s+([0-7]+)\s+\(\d+\)\s+(\d+)\s+(\d+)\s+\d+\s+\d{1,2}-\w{3}-\d{4} \d{2}:\d{2} (.*)$/;

/** debugfs prints a name's backslash and non-printable bytes (all non-ASCII) as `\xHH`. */
function unescapeName(printed: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < printed.length; i++) {
    const hex = printed[i] === '\\' ? /^x([0-9a-fA-F]{2})/.exec(printed.slice(i + 1, i + 4)) : null;
    if (hex) {
      bytes.push(Number.parseInt(hex[1]!, 16));
      i += 3;
    } else bytes.push(...Buffer.from(printed[i]!));
  }
  return Buffer.from(bytes).toString('utf8');
}

export function dirsOf(tree: TreeMeta): Array<[string[], DirNode]> {
  const out: Array<[string[], DirNode]> = [[[], tree.root]];
  for (const [comps, n] of walk(tree.root)) if (n.kind === 'dir') out.push([comps, n]);
  return out;
}

/**
 * debugfs -f reads a script with fgets into an 8192-byte buffer: the rest of a longer line
 * would run as a NEW command. Every script line goes through here; `comps` names the entry.
 */
const MAX_LINE_BYTES = 8000;
export function dfLine(line: string, comps: readonly string[]): string {
  const n = Buffer.byteLength(line);
  if (n >= MAX_LINE_BYTES) {
    const path = `/${comps.join('/')}`;
    throw new BangerError(
      'bad_request',
      `the image entry "${path.length > 200 ? `${path.slice(0, 200)}…` : path}" needs a debugfs command of ${n} bytes (the limit is ${MAX_LINE_BYTES}): its path is too long once quoted`,
      { hint: 'this image has a path banger cannot carry into ext4; use another image or tag' },
    );
  }
  return line;
}

export function listScript(tree: TreeMeta): string[] {
  return dirsOf(tree).map(([comps]) => dfLine(`ls -l ${dfQuote(comps)}`, comps));
}

/** debugfs -f output split into each command's output, keyed by the command line it echoes. */
export function sectionsOf(stdout: string): Map<string, string> {
  const sections = new Map<string, string>();
  for (const part of stdout.split(/^debugfs: /m).slice(1)) {
    const nl = part.indexOf('\n');
    sections.set(nl < 0 ? part : part.slice(0, nl), nl < 0 ? '' : part.slice(nl + 1));
  }
  return sections;
}

export function parseListings(tree: TreeMeta, sections: Map<string, string>): Listings {
  const out: Listings = new Map();
  for (const [comps] of dirsOf(tree)) {
    const text = sections.get(`ls -l ${dfQuote(comps)}`);
    if (text === undefined) continue;
    const entries = new Map<string, Listed>();
    for (const line of text.split('\n')) {
      const m = LS_LINE.exec(line);
      if (m)
        entries.set(unescapeName(m[5]!), {
          ino: Number(m[1]),
          mode: Number.parseInt(m[2]!, 8),
          uid: Number(m[3]),
          gid: Number(m[4]),
        });
    }
    out.set(comps.join('/'), entries);
  }
  return out;
}

/** The listing of the entry at `comps` (a directory's own "." for directories), or undefined. */
export function listedAt(l: Listings, comps: readonly string[], isDir: boolean): Listed | undefined {
  if (isDir) return l.get(comps.join('/'))?.get('.');
  return l.get(comps.slice(0, -1).join('/'))?.get(comps[comps.length - 1]!);
}

/**
 * Which entry names a layer may use. A name becomes a list of plain components inside the
 * image: absolute names and `..` are refused (never resolved), `.` and empty components
 * are dropped (`./etc//passwd` is `etc/passwd`). Names the ext4 writer cannot carry safely
 * are refused too: NUL and control characters (a newline would split a debugfs command or
 * its read-back line), components over 255 bytes, paths over 4096 bytes. Everything else
 * (spaces, quotes, non-ASCII UTF-8) is carried: debugfs gets it double-quoted (dfQuote).
 */

/** A refusal of one entry; the caller adds the layer and entry name. */
export class EntryRefused extends Error {}

const CONTROL = /[\x00-\x1f\x7f]/;
const MAX_COMPONENT_BYTES = 255;
const MAX_PATH_BYTES = 4096;
/** Directory levels: walks and debugfs paths cost entries x depth; real images stay far below. */
const MAX_DEPTH = 256;

function checkComponent(c: string): void {
  if (c === '' || c === '.' || c === '..' || c.includes('/')) throw new EntryRefused(`"${c}" is not a plain name`);
  if (CONTROL.test(c)) throw new EntryRefused('the name contains a control character (NUL, newline, ...)');
  if (Buffer.byteLength(c) > MAX_COMPONENT_BYTES)
    throw new EntryRefused(`a path component is longer than ${MAX_COMPONENT_BYTES} bytes`);
}

/** `name` as components inside the image ([] is the image root). */
export function entryComponents(name: string): string[] {
  if (name.startsWith('/')) throw new EntryRefused('absolute path');
  if (Buffer.byteLength(name) >= MAX_PATH_BYTES) throw new EntryRefused(`path of ${MAX_PATH_BYTES} bytes or more`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new EntryRefused('path with a ".." component');
  if (parts.length > MAX_DEPTH) throw new EntryRefused(`path deeper than ${MAX_DEPTH} directory levels`);
  for (const p of parts) checkComponent(p);
  return parts;
}

type Whiteout = { kind: 'none' } | { kind: 'opaque' } | { kind: 'whiteout'; target: string } | { kind: 'meta' };

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';

/**
 * The OCI whiteout meaning of a base name (image-spec layer.md): `.wh..wh..opq` marks its
 * directory opaque, `.wh.NAME` removes NAME from lower layers, other `.wh..wh.*` names are
 * aufs bookkeeping (skipped). A whiteout must name a plain entry of the same directory.
 */
export function whiteoutOf(base: string): Whiteout {
  if (!base.startsWith(WH)) return { kind: 'none' };
  if (base === OPAQUE) return { kind: 'opaque' };
  if (base.startsWith(`${WH}${WH}`)) return { kind: 'meta' };
  const target = base.slice(WH.length);
  if (target === '' || target === '.' || target === '..')
    throw new EntryRefused(`whiteout "${base}" is aimed outside its directory`);
  return { kind: 'whiteout', target };
}

/** A path for a debugfs command: absolute, double-quoted, a `"` doubled (debugfs's own parser). */
export function dfQuote(components: readonly string[]): string {
  return `"/${components.join('/').replaceAll('"', '""')}"`;
}

/** A symlink target is kept verbatim (it resolves inside the guest); only NUL and oversize are refused. */
export function checkSymlinkTarget(target: string): void {
  if (target === '') throw new EntryRefused('empty symlink target');
  if (target.includes('\0')) throw new EntryRefused('symlink target contains NUL');
  if (Buffer.byteLength(target) >= MAX_PATH_BYTES) throw new EntryRefused('symlink target too long');
}

const XATTR_NAME = /^(user|security|trusted|system)\.[\x21-\x7e]+$/;

/** Whether an xattr is carried into the image; overlayfs's own bookkeeping and odd names are not. */
export function xattrProblem(name: string, value: Buffer): string | null {
  if (!XATTR_NAME.test(name) || name.includes('"') || Buffer.byteLength(name) > 255)
    return `xattr name "${name.replace(CONTROL, '?')}" is not carried`;
  if (name.startsWith('trusted.overlay.')) return 'overlayfs bookkeeping xattr dropped';
  if (name.startsWith('system.') && name !== 'system.posix_acl_access' && name !== 'system.posix_acl_default')
    return `xattr "${name}" is not carried`;
  if (value.length > 3800) return `xattr "${name}" value of ${value.length} bytes is too large for an ext4 inode block`;
  return null;
}

/**
 * A small streaming tar reader: ustar headers, PAX extended headers (`x`, and `g` for all
 * later entries, xattrs excepted), GNU long names (`L`) and long link names (`K`), octal and base-256
 * numbers. Not a library, on purpose: layers come from strangers, and every header-like
 * record (PAX, long name, long link) must be capped BEFORE it is read, entry data must
 * stream without ever being held whole, and a refusal must name the entry it is about.
 * The npm tar parsers buffer PAX/long-name bodies of any size and report errors without the
 * entry; and no new dependency may be added (docs/architecture.md).
 */
import { ByteReader } from './byteReader.js';

export type TarKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'other';

export interface TarEntry {
  name: string;
  kind: TarKind;
  /** The raw typeflag, for messages about 'other' entries. */
  typeflag: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (PAX fractions dropped). */
  mtime: number;
  devmajor: number;
  devminor: number;
  /** From PAX `SCHILY.xattr.NAME` (raw bytes) and `LIBARCHIVE.xattr.NAME` (base64). */
  xattrs: Map<string, Buffer>;
  /** True when PAX `GNU.sparse.*` says the data is a sparse map, not the file. */
  sparse: boolean;
}

/** A malformed or over-cap archive; `entry` is the name of the entry being read, when known. */
export class TarError extends Error {
  constructor(
    message: string,
    readonly entry: string,
  ) {
    super(message);
  }
}

const BLOCK = 512;
const KINDS: Record<string, TarKind> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A name's bytes as text; names that are not UTF-8 cannot be carried faithfully, so they throw. */
function text(b: Buffer, entry: string, what: string): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new TarError(`${what} is not valid UTF-8`, entry);
  }
}

function cstr(b: Buffer): Buffer {
  const nul = b.indexOf(0);
  return nul < 0 ? b : b.subarray(0, nul);
}

/** An octal field, or GNU base-256 (high bit set) for big values. */
function num(b: Buffer): number {
  if (b[0]! & 0x80) {
    if (b[0] === 0xff) return Number.NaN; // negative: never valid here
    let v = b[0]! & 0x7f;
    for (let i = 1; i < b.length; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = cstr(b).toString('latin1').trim();
  if (s === '') return 0;
  return /^[0-7]+$/.test(s) ? Number.parseInt(s, 8) : Number.NaN;
}

function checksumOk(h: Buffer): boolean {
  const want = num(h.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum === want;
}

type Pax = Map<string, Buffer>;

/** PAX records `LEN KEY=VALUE\n`; values stay bytes (xattr values are binary). */
function parsePax(body: Buffer, entry: string): Pax {
  const out: Pax = new Map();
  let at = 0;
  while (at < body.length) {
    if (body[at] === 0) break;
    const sp = body.indexOf(0x20, at);
    const len = sp < 0 ? Number.NaN : Number(body.subarray(at, sp).toString('latin1'));
    if (!Number.isSafeInteger(len) || len <= sp - at || at + len > body.length || body[at + len - 1] !== 0x0a)
      throw new TarError('malformed PAX extended header', entry);
    const rec = body.subarray(sp + 1, at + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new TarError('malformed PAX record (no "=")', entry);
    out.set(text(rec.subarray(0, eq), entry, 'a PAX key'), rec.subarray(eq + 1));
    at += len;
  }
  return out;
}

interface TarCaps {
  /** Largest PAX header, GNU long name or long link body. */
  maxHeaderBytes: number;
}

function paxNumber(v: Buffer | undefined, entry: string, key: string): number | undefined {
  if (v === undefined) return undefined;
  const s = v.toString('latin1');
  // Only mtime may be negative (before 1970) or fractional.
  const ok = key === 'mtime' ? /^-?\d+(\.\d*)?$/ : /^\d+$/;
  if (!ok.test(s) || !Number.isSafeInteger(Math.floor(Number(s))))
    throw new TarError(`PAX ${key} "${s.slice(0, 40)}" is not a number`, entry);
  return Math.floor(Number(s));
}

/** Bytes of xattr names and values one inode may carry: one 4 KiB block (ext4 without ea_inode). */
const MAX_XATTR_BYTES = 4096;
const SCHILY = 'SCHILY.xattr.';
const LIBARCHIVE = 'LIBARCHIVE.xattr.';
const isXattrKey = (k: string) => k.startsWith(SCHILY) || k.startsWith(LIBARCHIVE);

/** The xattr a PAX record names. debugfs ea_list prints `\` and `'` escaped, so such names are refused. */
function paxXattr(k: string, v: Buffer, entry: string): [string, Buffer] {
  let name = k.slice(SCHILY.length);
  let value = v;
  if (k.startsWith(LIBARCHIVE)) {
    try {
      name = decodeURIComponent(k.slice(LIBARCHIVE.length));
    } catch {
      throw new TarError(`PAX ${k.slice(0, 80)}: malformed %-escape in the xattr name`, entry);
    }
    value = Buffer.from(v.toString(), 'base64');
  }
  if (/[\\']/.test(name)) throw new TarError(`xattr name "${name.slice(0, 80)}" contains a backslash or quote`, entry);
  return [name, value];
}

function applyPax(e: TarEntry, pax: Pax, entry: string): void {
  const s = (k: string) => (pax.has(k) ? text(pax.get(k)!, entry, `PAX ${k}`) : undefined);
  e.name = s('path') ?? e.name;
  e.linkname = s('linkpath') ?? e.linkname;
  e.size = paxNumber(pax.get('size'), entry, 'size') ?? e.size;
  e.uid = paxNumber(pax.get('uid'), entry, 'uid') ?? e.uid;
  e.gid = paxNumber(pax.get('gid'), entry, 'gid') ?? e.gid;
  e.mtime = paxNumber(pax.get('mtime'), entry, 'mtime') ?? e.mtime;
  e.devmajor = paxNumber(pax.get('SCHILY.devmajor'), entry, 'devmajor') ?? e.devmajor;
  e.devminor = paxNumber(pax.get('SCHILY.devminor'), entry, 'devminor') ?? e.devminor;
  let xattrBytes = 0;
  for (const [k, v] of pax) {
    if (isXattrKey(k)) {
      const [name, value] = paxXattr(k, v, entry);
      xattrBytes += Buffer.byteLength(name) + value.length;
      if (xattrBytes > MAX_XATTR_BYTES)
        throw new TarError(
          `its xattrs exceed ${MAX_XATTR_BYTES} bytes (names and values), more than one ext4 inode holds`,
          entry,
        );
      e.xattrs.set(name, Buffer.from(value));
    } else if (k.startsWith('GNU.sparse.')) e.sparse = true;
  }
}

function parseHeader(h: Buffer, prevName: string): TarEntry {
  const rawName = cstr(h.subarray(0, 100));
  const ustar = h.subarray(257, 262).toString('latin1') === 'ustar';
  const prefix = ustar ? cstr(h.subarray(345, 500)) : Buffer.alloc(0);
  const guess = `${prefix.length ? `${prefix.toString('latin1')}/` : ''}${rawName.toString('latin1')}`;
  if (!checksumOk(h)) throw new TarError(`bad header checksum (after entry "${prevName}")`, guess);
  const name = prefix.length
    ? `${text(prefix, guess, 'name')}/${text(rawName, guess, 'name')}`
    : text(rawName, guess, 'name');
  const typeflag = String.fromCharCode(h[156]!);
  const e: TarEntry = {
    name,
    kind: KINDS[typeflag] ?? 'other',
    typeflag,
    linkname: text(cstr(h.subarray(157, 257)), guess, 'link name'),
    mode: num(h.subarray(100, 108)),
    uid: num(h.subarray(108, 116)),
    gid: num(h.subarray(116, 124)),
    size: num(h.subarray(124, 136)),
    mtime: num(h.subarray(136, 148)),
    devmajor: ustar ? num(h.subarray(329, 337)) : 0,
    devminor: ustar ? num(h.subarray(337, 345)) : 0,
    xattrs: new Map(),
    sparse: false,
  };
  for (const k of ['mode', 'uid', 'gid', 'size', 'mtime', 'devmajor', 'devminor'] as const)
    if (!Number.isSafeInteger(e[k])) throw new TarError(`bad ${k} field in header`, name);
  return e;
}

/**
 * Folds a global header into `globals`, without its xattrs: applied to every later entry,
 * they would be copied per entry (memory many times the layer's size), and no image tool
 * writes xattrs there. They are reported once through `onSkip`.
 */
function addGlobals(globals: Pax, pax: Pax, entry: string, onSkip?: (name: string, why: string) => void): void {
  let dropped = 0;
  for (const [k, v] of pax) {
    if (isXattrKey(k)) dropped++;
    else globals.set(k, v);
  }
  if (dropped > 0) onSkip?.(entry, `${dropped} xattrs in a global PAX header are not applied`);
}

const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

/**
 * Reads entries from `r`, calling `onEntry` with each (PAX and long-name records already
 * folded in) and its data as a chunk stream, which `onEntry` may leave unread. Stops at the
 * end-of-archive block or the end of input.
 */
export async function readTar(
  r: ByteReader,
  caps: TarCaps,
  onEntry: (e: TarEntry, data: AsyncIterable<Buffer>) => Promise<void>,
  onHeader?: (name: string) => void,
  onSkip?: (name: string, why: string) => void,
): Promise<void> {
  const globals: Pax = new Map();
  let local: Pax = new Map();
  let longName: string | undefined;
  let longLink: string | undefined;
  let prev = '';
  for (;;) {
    const h = await r.exactly(BLOCK);
    if (h === null || h.every((b) => b === 0)) return;
    const e = parseHeader(h, prev);
    onHeader?.(e.name);
    const t = e.typeflag;
    if (t === 'x' || t === 'g' || t === 'L' || t === 'K') {
      if (e.size > caps.maxHeaderBytes)
        throw new TarError(
          `${t === 'L' || t === 'K' ? 'GNU long name' : 'PAX header'} of ${e.size} bytes exceeds the ${caps.maxHeaderBytes}-byte cap`,
          e.name,
        );
      const body = (await r.exactly(padded(e.size)))?.subarray(0, e.size);
      if (!body) throw new TarError('the archive ends after a header', e.name);
      if (t === 'x') local = parsePax(body, e.name);
      else if (t === 'g') addGlobals(globals, parsePax(body, e.name), e.name, onSkip);
      else if (t === 'L') longName = text(cstr(body), e.name, 'long name');
      else longLink = text(cstr(body), e.name, 'long link name');
      continue;
    }
    if (longName !== undefined) e.name = longName;
    if (longLink !== undefined) e.linkname = longLink;
    applyPax(e, new Map([...globals, ...local]), e.name);
    local = new Map();
    longName = longLink = undefined;
    prev = e.name;
    onHeader?.(e.name);
    // Only regular files (and unknown types) carry data; a size on a link or directory is ignored.
    const dataBytes = e.kind === 'file' || e.kind === 'other' ? e.size : 0;
    let left = dataBytes;
    const data = (async function* () {
      for await (const c of r.stream(dataBytes)) {
        left -= c.length;
        yield c;
      }
    })();
    await onEntry(e, data);
    await r.skip(left);
    await r.skip(padded(dataBytes) - dataBytes);
  }
}

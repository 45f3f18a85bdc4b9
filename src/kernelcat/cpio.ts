/**
 * A writer for the "newc" cpio format the kernel unpacks as an initramfs. Small enough
 * to own, so building an initramfs needs no cpio binary and is byte-for-byte testable.
 */
export interface CpioEntry {
  path: string; // relative, no leading '/'
  mode: number; // including the file type bits (0o100000 file, 0o040000 dir, 0o120000 symlink)
  data?: Buffer; // file content, or the symlink target
  /** Device numbers of a character or block device node. */
  rdev?: { major: number; minor: number };
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');
const pad4 = (n: number) => (4 - (n % 4)) % 4;

export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const push = (name: string, mode: number, data: Buffer, rdev = { major: 0, minor: 0 }) => {
    const nameBuf = Buffer.from(`${name}\0`);
    // Fields: ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
    const header =
      '070701' +
      [ino++, mode, 0, 0, 1, 0, data.length, 0, 0, rdev.major, rdev.minor, nameBuf.length, 0].map(hex8).join('');
    parts.push(
      Buffer.from(header),
      nameBuf,
      Buffer.alloc(pad4(110 + nameBuf.length)),
      data,
      Buffer.alloc(pad4(data.length)),
    );
  };
  for (const e of entries) push(e.path, e.mode, e.data ?? Buffer.alloc(0), e.rdev);
  push('TRAILER!!!', 0, Buffer.alloc(0));
  return Buffer.concat(parts);
}

export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;

/**
 * Reads a "newc" archive as writeCpio writes it (no hard-link merging, no compression):
 * the entries in archive order, the trailer dropped. Throws on anything else.
 */
export function readCpio(archive: Buffer): CpioEntry[] {
  const out: CpioEntry[] = [];
  let off = 0;
  for (;;) {
    if (off + 110 > archive.length || archive.toString('latin1', off, off + 6) !== '070701')
      throw new Error(`not a newc cpio archive at byte ${off}`);
    const field = (i: number) => Number.parseInt(archive.toString('latin1', off + 6 + i * 8, off + 14 + i * 8), 16);
    const [mode, size, rmaj, rmin, nameSize] = [field(1), field(6), field(9), field(10), field(11)];
    const nameAt = off + 110;
    const path = archive.toString('utf8', nameAt, nameAt + nameSize - 1);
    const dataAt = nameAt + nameSize + pad4(110 + nameSize);
    if (dataAt + size > archive.length) throw new Error(`cpio entry ${path} runs past the end of the archive`);
    if (path === 'TRAILER!!!') return out;
    out.push({
      path,
      mode,
      data: archive.subarray(dataAt, dataAt + size),
      ...((rmaj || rmin) && { rdev: { major: rmaj, minor: rmin } }),
    });
    off = dataAt + size + pad4(size);
  }
}

import { createRequire } from 'node:module';
import { hostcallsAddonPath } from '../buildinfo/index.js';

/**
 * The system calls Node lacks (native/hostcalls.c), loaded once on first use. Errors carry
 * `code` set to the errno name, like Node's fs errors. A dirfd of AT_FDCWD means the cwd.
 */
export interface Hostcalls {
  peerCred(fd: number): { pid: number; uid: number; gid: number };
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
  linkAt(fd: number, dirfd: number, name: string): void;
  mknodAt(dirfd: number, name: string, mode: number, major: number, minor: number): void;
  mkdirAt(dirfd: number, name: string, mode: number): void;
  unlinkAt(dirfd: number, name: string, isDir: boolean): void;
  fchownAt(dirfd: number, name: string, uid: number, gid: number): void;
  renameAt2(olddirfd: number, oldname: string, newdirfd: number, newname: string, flags: number): void;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, signal: number): void;
  /** A free loop device backed by the file open as `fd` (read-only when fd is); its /dev path. */
  loopAttach(fd: number): string;
}

export const AT_FDCWD = -100;
/** openat2's resolve flags (linux/openat2.h). */
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
/** renameat2's flags (linux/fs.h). */
export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
/** Open flags Node's fs.constants lacks on some versions. */
export const O_PATH = 0o10000000;

let addon: Hostcalls | null = null;

export function hostcalls(): Hostcalls {
  addon ??= createRequire(import.meta.url)(hostcallsAddonPath()) as Hostcalls;
  return addon;
}

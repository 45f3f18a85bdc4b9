/**
 * Keeps an installed kernel's initramfs current with this build. A kernel's initrd.img is
 * built once, at `kernel pull`, and its /init (initScript.ts) is part of what a banger
 * version does at boot (pulled images without systemd need the /.banger/init switch, for
 * one). So the daemon rewrites /init in the initrds it built whenever the script this
 * build renders differs: the modules stay as they are, in their archive (dependency)
 * order, and the new archive replaces the old one atomically.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { type CpioEntry, readCpio, writeCpio } from './cpio.js';
import { renderInitScript } from './initScript.js';

/** Returns true when the initrd was rewritten, false when it was current. Throws when it is not banger's. */
export function refreshInitramfs(initrdPath: string): boolean {
  const entries = readCpio(readFileSync(initrdPath));
  const init = entries.find((e) => e.path === 'init');
  if (!init || !entries.some((e) => e.path === 'bin/busybox'))
    throw new Error(`${initrdPath} is not an initramfs banger built`);
  const modules = entries.filter((e) => e.path.startsWith('lib/modules/') && e.data?.length).map((e) => e.path);
  const script = Buffer.from(renderInitScript(modules));
  if (init.data?.equals(script)) return false;
  const next: CpioEntry[] = entries.map((e) => (e === init ? { ...e, data: script } : e));
  const tmp = `${initrdPath}.new`;
  writeFileSync(tmp, writeCpio(next));
  renameSync(tmp, initrdPath);
  return true;
}

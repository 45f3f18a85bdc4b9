import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostRunner } from '../system/index.js';
import { writeCpio, S_IFCHR, S_IFDIR, S_IFREG, type CpioEntry } from './cpio.js';
import { renderInitScript } from './initScript.js';
import { INITRAMFS_MODULES, orderModules, parseModulesDep } from './moduleOrder.js';

/**
 * Builds banger's minimal initramfs for a Debian kernel tree: a static busybox, the
 * virtio/vsock/console modules (dependencies first) and /init. Left uncompressed: it is
 * about 3 MB, and under TCG emulation decompressing costs more than reading.
 */
export interface InitramfsInput {
  runner: HostRunner;
  /** Root of the extracted kernel package (holds lib/modules/<version>). */
  tree: string;
  version: string;
  /** A statically linked busybox (Debian's busybox-static installs /bin/busybox). */
  busybox: string;
  out: string;
}

export async function buildInitramfs(i: InitramfsInput): Promise<{ modules: string[]; bytes: number }> {
  // The .deb does not ship modules.dep; depmod writes it into the extracted tree.
  await i.runner.run(['depmod', '-b', i.tree, i.version]);
  const modDir = join(i.tree, 'lib', 'modules', i.version);
  const order = orderModules(parseModulesDep(readFileSync(join(modDir, 'modules.dep'), 'utf8')), INITRAMFS_MODULES);
  const entries: CpioEntry[] = [
    ...['bin', 'dev', 'proc', 'sys', 'newroot', 'lib', 'lib/modules'].map((p) => ({ path: p, mode: S_IFDIR | 0o755 })),
    // The kernel opens /dev/console before it runs /init; without it init's output is lost.
    { path: 'dev/console', mode: S_IFCHR | 0o600, rdev: { major: 5, minor: 1 } },
    { path: 'bin/busybox', mode: S_IFREG | 0o755, data: readFileSync(i.busybox) },
    { path: 'init', mode: S_IFREG | 0o755, data: Buffer.from(renderInitScript(order)) },
  ];
  for (const rel of order) {
    const file = join(modDir, rel);
    const name = rel.split('/').pop()!;
    // Newer kernels compress modules; busybox insmod wants them plain. Decompress next to
    // the original inside the scratch tree (the runner's stdout is text, not bytes).
    let plain = file;
    if (name.endsWith('.xz')) {
      await i.runner.run(['xz', '-d', '-k', '-f', file]);
      plain = file.slice(0, -3);
    } else if (name.endsWith('.zst')) {
      await i.runner.run(['zstd', '-d', '-q', '-f', file, '-o', file.slice(0, -4)]);
      plain = file.slice(0, -4);
    }
    const data = readFileSync(plain);
    entries.push({ path: `lib/modules/${name.replace(/\.(xz|zst)$/, '')}`, mode: S_IFREG | 0o644, data });
  }
  const archive = writeCpio(entries);
  writeFileSync(i.out, archive);
  return { modules: order, bytes: archive.length };
}

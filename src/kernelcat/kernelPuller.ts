import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import { BangerError, type Kernel } from '../model/index.js';
import type { HostRunner } from '../system/index.js';
import type { KernelCatalogEntry } from './catalog.js';
import { buildInitramfs } from './initramfsBuilder.js';

export interface PullKernelInput {
  runner: HostRunner;
  entry: KernelCatalogEntry;
  /** Final directory of this kernel: <kernelsDir>/<name>. Replaced atomically. */
  dest: string;
  /** Scratch space on the same filesystem as dest. */
  scratchParent: string;
  busybox?: string;
  progress?: (stage: string, detail?: string) => void;
  signal?: AbortSignal;
}

/** "Depends: linux-image-6.1.0-56-cloud-amd64" -> the versioned package name. */
export function kernelPackageFromDepends(dependsOutput: string): string | null {
  const m = /Depends:\s+(linux-image-\d[^\s<>]*)/.exec(dependsOutput);
  return m ? m[1]! : null;
}

/**
 * Downloads the kernel package through apt (so the signed chain verifies it), extracts
 * vmlinuz and modules, builds the initramfs, and moves the result into place.
 * Returns the kernel record to store.
 */
export async function pullDebianKernel(i: PullKernelInput): Promise<Omit<Kernel, 'id' | 'createdAt'>> {
  const busybox = i.busybox ?? '/bin/busybox';
  if (!existsSync(busybox))
    throw new BangerError('operation_failed', `${busybox} not found: the initramfs needs a static busybox`, {
      hint: 'apt-get install busybox-static',
    });
  mkdirSync(i.scratchParent, { recursive: true });
  const scratch = mkdtempSync(join(i.scratchParent, '.pull-'));
  try {
    i.progress?.('resolving', i.entry.source.package);
    const deps = await i.runner.run(['apt-cache', 'depends', '--important', i.entry.source.package], {
      signal: i.signal,
      allowFailure: true,
    });
    const pkg = kernelPackageFromDepends(deps.stdout);
    if (!pkg) {
      throw new BangerError(
        'operation_failed',
        `cannot resolve ${i.entry.source.package} to a kernel package on this host's mirror`,
        {
          hint: 'run `apt-get update` (as root) so apt knows the current kernel packages',
        },
      );
    }
    i.progress?.('downloading', pkg);
    await i.runner.run(['apt-get', 'download', '-q', pkg], { cwd: scratch, timeoutMs: 600_000, signal: i.signal });
    const deb = readdirSync(scratch).find((f) => f.endsWith('.deb'));
    if (!deb) throw new BangerError('operation_failed', `apt-get download ${pkg} produced no package`);
    const sha256 = createHash('sha256')
      .update(readFileSync(join(scratch, deb)))
      .digest('hex');
    i.progress?.('extracting', deb);
    const tree = join(scratch, 'tree');
    await i.runner.run(['dpkg-deb', '-x', join(scratch, deb), tree], { signal: i.signal, timeoutMs: 300_000 });
    const version = pkg.replace(/^linux-image-/, '');
    const vmlinuz = join(tree, 'boot', `vmlinuz-${version}`);
    if (!existsSync(vmlinuz)) throw new BangerError('operation_failed', `${deb} has no boot/vmlinuz-${version}`);
    i.progress?.('initramfs', `${version}`);
    const out = join(scratch, 'out');
    mkdirSync(out);
    copyFileSync(vmlinuz, join(out, 'vmlinuz'));
    await buildInitramfs({ runner: i.runner, tree, version, busybox, out: join(out, 'initrd.img') });
    rmSync(i.dest, { recursive: true, force: true });
    renameSync(out, i.dest);
    return {
      name: i.entry.name,
      version,
      source: `debian-package:${pkg}`,
      kernelPath: join(i.dest, 'vmlinuz'),
      initrdPath: join(i.dest, 'initrd.img'),
      modulesDir: null,
      sha256,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BangerError, type Kernel } from '../model/index.js';
import {
  DEFAULT_KERNEL_NAME,
  findKernelEntry,
  KERNEL_CATALOG,
  pullDebianKernel,
  refreshInitramfs,
} from '../kernelcat/index.js';
import type { OpCtx } from '../opctx/index.js';
import type { Layout } from '../paths/index.js';
import type { Store } from '../store/index.js';
import type { HostRunner } from '../system/index.js';
import type { HostNeed } from '../doctor/index.js';
import { Coalescer } from './coalesce.js';
import type { HostPreflight } from './preflight.js';

export interface KernelServiceDeps {
  store: Store;
  runner: HostRunner;
  layout: Layout;
  /** The config's default_kernel_name (null: the catalog's default). */
  defaultName: string | null;
  /** Checks the host pieces a pull uses before it starts (none checked when absent). */
  preflight?: HostPreflight | undefined;
}

/** Local kernels and the embedded kernel catalog. */
export class KernelService {
  private readonly pulls = new Coalescer<Kernel>();

  private readonly store: Store;
  private readonly runner: HostRunner;
  private readonly layout: Layout;
  private readonly defaultName: string | null;
  private readonly preflight: HostPreflight;

  constructor(d: KernelServiceDeps) {
    ({ store: this.store, runner: this.runner, layout: this.layout, defaultName: this.defaultName } = d);
    this.preflight = d.preflight ?? (() => {});
  }

  /** What obtaining `name` would use on the host: a pull when it is not installed. */
  needs(name: string): HostNeed[] {
    return this.store.kernels.findByName(name) ? [] : ['kernel-pull'];
  }

  get defaultKernelName(): string {
    return this.defaultName ?? DEFAULT_KERNEL_NAME;
  }

  list(): Kernel[] {
    return this.store.kernels.list();
  }

  catalog() {
    return KERNEL_CATALOG.map((e) => ({
      name: e.name,
      description: e.description,
      source: `${e.source.kind}:${e.source.package}`,
      installed: !!this.store.kernels.findByName(e.name),
      firecracker: e.firecracker,
    }));
  }

  show(name: string): Kernel {
    const k = this.store.kernels.findByName(name);
    if (!k)
      throw new BangerError('not_found', `no kernel named "${name}" is installed`, {
        hint: 'see `banger kernel list --available`, then `banger kernel pull NAME`',
      });
    return k;
  }

  /** Returns the installed kernel, pulling it from the catalog first when missing. */
  async ensure(name: string, ctx: OpCtx): Promise<Kernel> {
    return this.store.kernels.findByName(name) ?? this.pull(name, ctx);
  }

  /** Obtains a catalog kernel (concurrent pulls of one name share the first caller's download and ctx). */
  pull(name: string, ctx: OpCtx): Promise<Kernel> {
    const { progress, signal } = ctx;
    return this.pulls.run(name, async () => {
      const entry = findKernelEntry(name);
      if (!entry)
        throw new BangerError('not_found', `"${name}" is not in the kernel catalog`, {
          hint: 'see `banger kernel list --available`',
        });
      this.preflight(['kernel-pull'], `pulling kernel ${name}`);
      progress?.('kernel', `obtaining ${name}`);
      const pulled = await pullDebianKernel({
        runner: this.runner,
        entry,
        dest: join(this.layout.kernelsDir, name),
        scratchParent: this.layout.kernelsDir,
        ...(progress && { progress: (s, d) => progress(`kernel: ${s}`, d) }),
        ...(signal && { signal }),
      });
      const existing = this.store.kernels.findByName(name);
      const kernel: Kernel = {
        id: existing?.id ?? randomBytes(4).toString('hex'),
        createdAt: new Date().toISOString(),
        ...pulled,
      };
      if (existing) this.store.kernels.replace(kernel);
      else this.store.kernels.insert(kernel);
      return kernel;
    });
  }

  /**
   * Rewrites /init in the initramfs of every pulled kernel whose script differs from this
   * build's (src/kernelcat/initramfsRefresh.ts), so an upgrade reaches kernels pulled
   * earlier. Returns what it did, for the daemon's log; a kernel it cannot refresh is
   * reported, not fatal (its VMs boot with the older /init).
   */
  refreshInitramfs(): Array<{ kernel: string; refreshed: boolean } | { kernel: string; error: string }> {
    return this.store.kernels
      .list()
      .filter((k) => k.source.startsWith('debian-package:') && k.initrdPath)
      .map((k) => {
        try {
          return { kernel: k.name, refreshed: refreshInitramfs(k.initrdPath!) };
        } catch (e) {
          return { kernel: k.name, error: (e as Error).message };
        }
      });
  }

  /** Adopts a kernel from a directory holding vmlinuz (or vmlinux) and optionally initrd.img. */
  import(name: string, dir: string): Kernel {
    if (this.store.kernels.findByName(name))
      throw new BangerError('already_exists', `a kernel named "${name}" already exists`, {
        hint: `remove it first with \`banger kernel rm ${name}\``,
      });
    const kernelPath = ['vmlinuz', 'vmlinux', 'bzImage'].map((f) => join(dir, f)).find(existsSync);
    if (!kernelPath)
      throw new BangerError('not_found', `${dir} has no vmlinuz, vmlinux or bzImage`, {
        hint: 'point --from at a directory holding the kernel image',
      });
    const initrd = join(dir, 'initrd.img');
    const kernel: Kernel = {
      id: randomBytes(4).toString('hex'),
      name,
      version: null,
      source: `import:${dir}`,
      kernelPath,
      initrdPath: existsSync(initrd) ? initrd : null,
      modulesDir: null,
      sha256: null,
      createdAt: new Date().toISOString(),
    };
    this.store.kernels.insert(kernel);
    return kernel;
  }

  remove(name: string): void {
    const k = this.show(name);
    const users = this.store.images.usesKernel(k.id);
    if (users.length)
      throw new BangerError('conflict', `kernel ${name} is used by image(s) ${users.join(', ')}`, {
        hint: 'delete those images first',
      });
    this.store.kernels.remove(k.id);
    if (k.kernelPath.startsWith(this.layout.kernelsDir + '/'))
      rmSync(join(this.layout.kernelsDir, name), { recursive: true, force: true });
  }
}

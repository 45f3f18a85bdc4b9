import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { agentBinaryPath } from '../buildinfo/index.js';
import { BangerError, type Image } from '../model/index.js';
import { buildImage, findImageEntry, IMAGE_CATALOG } from '../imagecat/index.js';
import type { OpCtx } from '../opctx/index.js';
import type { Layout } from '../paths/index.js';
import type { PrivilegedOps } from '../privops/index.js';
import type { Store } from '../store/index.js';
import type { HostRunner } from '../system/index.js';
import type { HostNeed } from '../doctor/index.js';
import { Coalescer } from './coalesce.js';
import type { HostPreflight } from './preflight.js';
import type { KernelService } from './kernelService.js';

export interface ImageServiceDeps {
  store: Store;
  runner: HostRunner;
  layout: Layout;
  kernels: KernelService;
  privileged: PrivilegedOps;
  /** Checks the host pieces a build uses before it starts (none checked when absent). */
  preflight?: HostPreflight | undefined;
}

/** Managed images: catalog builds, registered artifacts, and their boot sets. */
export class ImageService {
  private readonly pulls = new Coalescer<Image>();

  private readonly store: Store;
  private readonly runner: HostRunner;
  private readonly layout: Layout;
  private readonly kernels: KernelService;
  private readonly privileged: PrivilegedOps;
  private readonly preflight: HostPreflight;

  constructor(d: ImageServiceDeps) {
    this.preflight = d.preflight ?? (() => {});
    ({
      store: this.store,
      runner: this.runner,
      layout: this.layout,
      kernels: this.kernels,
      privileged: this.privileged,
    } = d);
  }

  list(): Image[] {
    return this.store.images.list();
  }

  catalog() {
    return IMAGE_CATALOG.map((e) => ({
      name: e.name,
      distro: e.distro,
      kernel: e.kernelRef,
      installed: !!this.store.images.findByName(e.name),
    }));
  }

  show(name: string): Image {
    const img = this.store.images.findByName(name);
    if (!img)
      throw new BangerError('not_found', `no image named "${name}"`, {
        hint: 'see `banger image list`; catalog images are obtained with `banger image pull NAME`',
      });
    return img;
  }

  /** What obtaining `name` would use on the host: a build, and its kernel's pull, when it is not here. */
  needs(name: string): HostNeed[] {
    if (this.store.images.findByName(name)) return [];
    const entry = findImageEntry(name);
    return entry ? ['image-build', ...this.kernels.needs(entry.kernelRef)] : [];
  }

  async ensure(name: string, ctx: OpCtx): Promise<Image> {
    return this.store.images.findByName(name) ?? this.pull(name, ctx);
  }

  /** Builds a catalog image (concurrent pulls of one name share the first caller's build and ctx). */
  pull(name: string, ctx: OpCtx): Promise<Image> {
    const { progress, signal } = ctx;
    return this.pulls.run(name, async () => {
      const entry = findImageEntry(name);
      if (!entry) {
        throw new BangerError('not_found', `"${name}" is not in the image catalog`, {
          hint:
            'catalog images: ' +
            IMAGE_CATALOG.map((e) => e.name).join(', ') +
            ' (OCI references come with a later release)',
        });
      }
      this.preflight(['image-build', ...this.kernels.needs(entry.kernelRef)], `building image ${name}`);
      const kernel = await this.kernels.ensure(entry.kernelRef, ctx);
      progress?.('image', `building ${name} from the Debian mirror (about a minute, once)`);
      const dest = join(this.layout.imagesDir, name);
      // mmdebstrap needs root: a daemon that is not root (a system install) asks the root helper.
      const built =
        process.getuid?.() === 0
          ? await buildImage({
              runner: this.runner,
              recipe: entry.recipe,
              agentBinary: agentBinaryPath(),
              dest,
              scratchParent: this.layout.imagesDir,
              ...(progress && { progress: (s, d) => progress(`image: ${s}`, d) }),
              ...(signal && { signal }),
            })
          : await this.privileged.buildImage({ name }, ctx);
      const existing = this.store.images.findByName(name);
      const image: Image = {
        id: existing?.id ?? randomBytes(4).toString('hex'),
        name,
        source: `catalog:${name}`,
        distro: entry.distro,
        arch: entry.arch,
        rootfsPath: built.rootfsPath,
        workSeedPath: built.workSeedPath,
        kernelId: kernel.id,
        initrdPath: null,
        sizeBytes: built.sizeBytes,
        createdAt: new Date().toISOString(),
      };
      if (existing) this.store.images.replace(image);
      else this.store.images.insert(image);
      return image;
    });
  }

  register(p: { name: string; rootfs: string; kernel: string; workSeed?: string | undefined }): Image {
    if (this.store.images.findByName(p.name))
      throw new BangerError('already_exists', `an image named "${p.name}" already exists`, {
        hint: `delete it first with \`banger image delete ${p.name}\``,
      });
    for (const f of [p.rootfs, p.workSeed].filter((x): x is string => !!x)) {
      if (!existsSync(f)) throw new BangerError('not_found', `${f} does not exist`);
    }
    const kernel = this.kernels.show(p.kernel);
    const image: Image = {
      id: randomBytes(4).toString('hex'),
      name: p.name,
      source: `register:${p.rootfs}`,
      distro: null,
      arch: 'x86_64',
      rootfsPath: p.rootfs,
      workSeedPath: p.workSeed ?? null,
      kernelId: kernel.id,
      initrdPath: null,
      sizeBytes: statSync(p.rootfs).size,
      createdAt: new Date().toISOString(),
    };
    this.store.images.insert(image);
    return image;
  }

  delete(name: string): void {
    const img = this.show(name);
    const users = this.store.vms.usesImage(img.id);
    if (users.length)
      throw new BangerError('conflict', `image ${name} is used by VM(s) ${users.join(', ')}`, {
        hint: 'delete those VMs first',
      });
    this.store.images.remove(img.id);
    if (img.source.startsWith('catalog:')) rmSync(join(this.layout.imagesDir, name), { recursive: true, force: true });
  }

  kernelOf(img: Image) {
    const k = img.kernelId ? this.store.kernels.list().find((x) => x.id === img.kernelId) : undefined;
    if (!k)
      throw new BangerError('not_found', `image ${img.name} has no kernel`, {
        hint: 'register it again with --kernel',
      });
    return k;
  }
}

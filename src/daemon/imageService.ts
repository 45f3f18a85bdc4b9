import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { agentBinaryPath } from '../buildinfo/index.js';
import { BangerError, type Image } from '../model/index.js';
import {
  buildImage,
  type BuildHost,
  type BuiltImage,
  type DefaultImageSource,
  defaultImagePath,
  findImageEntry,
  IMAGE_CATALOG,
  type ImageCatalogEntry,
} from '../imagecat/index.js';
import type { OpCtx } from '../opctx/index.js';
import type { Layout } from '../paths/index.js';
import type { PrivilegedOps } from '../privops/index.js';
import type { Store } from '../store/index.js';
import { type HostRunner, which } from '../system/index.js';
import type { HostNeed } from '../doctor/index.js';
import { parseImageRef } from '../oci/index.js';
import { Coalescer } from './coalesce.js';
import { OciImages, type OciPullOptions } from './ociImages.js';
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
  /** How the default image is made (config default_image_source / default_image_oci_base). */
  defaultImage?: { source: DefaultImageSource; ociBase: string } | undefined;
}

/** The CLI flag of each OCI-only pull option, for the refusal on a catalog name. */
const OCI_ONLY_FLAGS: Record<keyof OciPullOptions, string> = {
  as: '--name',
  sizeBytes: '--size',
  kernel: '--kernel',
  insecure: '--insecure',
  installSshd: '--install-sshd',
};

/** Builds a catalog image from an OCI base inside a VM (src/daemon/defaultImageInVm.ts). */
export type InVmBuilder = (entry: ImageCatalogEntry, baseRef: string, ctx: OpCtx) => Promise<BuiltImage>;

/** Managed images: catalog builds, registered artifacts, and their boot sets. */
export class ImageService {
  private readonly pulls = new Coalescer<Image>();

  private readonly store: Store;
  private readonly runner: HostRunner;
  private readonly layout: Layout;
  private readonly kernels: KernelService;
  private readonly privileged: PrivilegedOps;
  private readonly preflight: HostPreflight;
  private readonly oci: OciImages;
  private readonly defaultImage: { source: DefaultImageSource; ociBase: string };
  private inVmBuilder: InVmBuilder | undefined;

  constructor(d: ImageServiceDeps) {
    this.preflight = d.preflight ?? (() => {});
    this.defaultImage = d.defaultImage ?? { source: 'auto', ociBase: 'docker.io/library/debian:bookworm' };
    this.oci = new OciImages({ ...d, preflight: this.preflight });
    ({
      store: this.store,
      runner: this.runner,
      layout: this.layout,
      kernels: this.kernels,
      privileged: this.privileged,
    } = d);
  }

  /**
   * Removes scratch directories a daemon that died mid-pull or mid-build left in the images
   * directory (`.pull-*`, `.import-*`, `.build-*`). Called at start, when none is in use.
   */
  removeStaleScratch(): string[] {
    if (!existsSync(this.layout.imagesDir)) return [];
    const stale = readdirSync(this.layout.imagesDir).filter((n) => /^\.(pull|import|build)-/.test(n));
    for (const n of stale) rmSync(join(this.layout.imagesDir, n), { recursive: true, force: true });
    return stale;
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
    const img = this.findLocal(name);
    if (!img)
      throw new BangerError('not_found', `no image named "${name}"`, {
        hint: 'see `banger image list`; catalog images are obtained with `banger image pull NAME`',
      });
    return img;
  }

  /** What obtaining `name` would use on the host: a build or an OCI pull, and its kernel's pull, when it is not here. */
  needs(name: string): HostNeed[] {
    if (this.findLocal(name)) return [];
    if (parseImageRef(name)) return ['oci-pull', ...this.kernels.needs(this.kernels.defaultKernelName)];
    const entry = findImageEntry(name);
    return entry ? ['image-build', ...this.kernels.needs(entry.kernelRef)] : [];
  }

  /** An image by name, or the image pulled from an OCI reference (`vm run --image debian:bookworm`). */
  private findLocal(name: string): Image | undefined {
    const byName = this.store.images.findByName(name);
    if (byName) return byName;
    const ref = parseImageRef(name);
    return ref ? this.store.images.list().find((i) => i.oci?.ref === ref.text) : undefined;
  }

  async ensure(name: string, ctx: OpCtx): Promise<Image> {
    return this.findLocal(name) ?? this.pull(name, ctx);
  }

  /**
   * Obtains an image: an OCI reference is pulled from its registry; any other name is a
   * catalog image, built from the Debian mirror. Concurrent pulls of one image name share
   * the first caller's work and ctx.
   */
  pull(name: string, ctx: OpCtx, opts: OciPullOptions = {}): Promise<Image> {
    const ref = parseImageRef(name);
    if (ref) {
      const as = this.oci.nameFor(ref, opts);
      return this.pulls.run(as, () => this.oci.pull(ref, as, opts, ctx));
    }
    const ociOnly = Object.entries(opts)
      .filter(([, v]) => v !== undefined && v !== false)
      .map(([k]) => OCI_ONLY_FLAGS[k as keyof OciPullOptions] ?? k);
    if (ociOnly.length)
      throw new BangerError(
        'bad_request',
        `"${name}" is a catalog name: ${ociOnly.join(', ')} apply to OCI references only`,
        {
          hint: 'pull an OCI reference (registry/repository:tag) to use them',
        },
      );
    return this.pullCatalog(name, ctx);
  }

  pruneCache(dryRun: boolean) {
    return this.oci.prune(dryRun);
  }

  private pullCatalog(name: string, ctx: OpCtx): Promise<Image> {
    return this.pulls.run(name, async () => {
      const entry = findImageEntry(name);
      if (!entry) {
        throw new BangerError('not_found', `"${name}" is not in the image catalog`, {
          hint:
            'catalog images: ' +
            IMAGE_CATALOG.map((e) => e.name).join(', ') +
            ' (or an OCI reference such as docker.io/library/debian:bookworm)',
        });
      }
      const path = defaultImagePath(this.defaultImage.source, this.buildHost());
      this.preflight(
        [
          ...(path === 'oci' ? (['oci-pull', 'vm', 'qemu', 'nat'] as const) : (['image-build'] as const)),
          ...this.kernels.needs(entry.kernelRef),
        ],
        `building image ${name}`,
      );
      const kernel = await this.kernels.ensure(entry.kernelRef, ctx);
      const built = path === 'oci' ? await this.buildInVm(entry, ctx) : await this.buildWithMmdebstrap(entry, ctx);
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
        oci: null,
      };
      if (existing) this.store.images.replace(image);
      else this.store.images.insert(image);
      return image;
    });
  }

  /** Which way this host makes the default image (config default_image_source; doctor shows it too). */
  buildHost(): BuildHost {
    return {
      hasMmdebstrap: which('mmdebstrap') !== null,
      canRunAsRoot: process.getuid?.() === 0 || this.layout.mode === 'system',
    };
  }

  /** mmdebstrap needs root: a daemon that is not root (a system install) asks the root helper. */
  private async buildWithMmdebstrap(entry: ImageCatalogEntry, ctx: OpCtx): Promise<BuiltImage> {
    const { progress, signal } = ctx;
    progress?.('image', `building ${entry.name} from the Debian mirror (about a minute, once)`);
    if (process.getuid?.() !== 0) return this.privileged.buildImage({ name: entry.name }, ctx);
    return buildImage({
      runner: this.runner,
      recipe: entry.recipe,
      agentBinary: agentBinaryPath(),
      dest: join(this.layout.imagesDir, entry.name),
      scratchParent: this.layout.imagesDir,
      ...(progress && { progress: (s, d) => progress(`image: ${s}`, d) }),
      ...(signal && { signal }),
    });
  }

  private buildInVm(entry: ImageCatalogEntry, ctx: OpCtx): Promise<BuiltImage> {
    if (!this.inVmBuilder)
      throw new BangerError('operation_failed', 'this daemon cannot build images in a VM', {
        hint: 'set default_image_source = "mmdebstrap" in the config',
      });
    return this.inVmBuilder(entry, this.defaultImage.ociBase, ctx);
  }

  /** The daemon gives the in-VM builder once its VM service exists (the builder needs both). */
  useInVmBuilder(b: InVmBuilder): void {
    this.inVmBuilder = b;
  }

  /** The OCI base of the in-VM build, pulled once under its own name. */
  async ensureOciBase(ref: string, as: string, sizeBytes: number, ctx: OpCtx): Promise<Image> {
    return this.store.images.findByName(as) ?? this.pull(ref, ctx, { as, sizeBytes });
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
      oci: null,
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
    // Catalog builds and OCI pulls own their directory; shared layer blobs stay in the cache until `image cache prune`.
    if (img.source.startsWith('catalog:') || img.oci)
      rmSync(join(this.layout.imagesDir, name), { recursive: true, force: true });
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

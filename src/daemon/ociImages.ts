/**
 * `image pull <oci-ref>`: resolves the reference, imports the image (src/ociimage) under
 * its name, and records it; and `image cache prune`. A pull either records a complete
 * image or changes nothing: the record is written only after the image directory is in
 * place, and an image that VMs use is never replaced under them.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { agentBinaryPath, initBinaryPath } from '../buildinfo/index.js';
import { artifactNameSchema, BangerError, type Image } from '../model/index.js';
import { BlobCache, type ImageRef, RegistryClient, type ResolvedImage } from '../oci/index.js';
import { type ImportedImage, imageNameForRef, importOciImage } from '../ociimage/index.js';
import type { OpCtx } from '../opctx/index.js';
import type { Layout } from '../paths/index.js';
import type { Store } from '../store/index.js';
import type { HostRunner } from '../system/index.js';
import type { KernelService } from './kernelService.js';
import type { HostPreflight } from './preflight.js';

export interface OciPullOptions {
  /** Image name; default from the reference (`debian-bookworm` for debian:bookworm). */
  as?: string | undefined;
  sizeBytes?: number | undefined;
  kernel?: string | undefined;
  insecure?: boolean | undefined;
  installSshd?: boolean | undefined;
}

export interface OciImagesDeps {
  store: Store;
  runner: HostRunner;
  layout: Layout;
  kernels: KernelService;
  preflight: HostPreflight;
}

export class OciImages {
  readonly cache: BlobCache;
  /** Blobs of pulls in progress (digest -> pulls), kept by prune although no image records them yet. */
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly d: OciImagesDeps) {
    this.cache = new BlobCache(join(d.layout.cacheDir, 'oci'));
  }

  /** The image name a pull of `ref` records, validated like any adopted name. */
  nameFor(ref: ImageRef, opts: OciPullOptions): string {
    const name = opts.as ?? imageNameForRef(ref);
    const ok = artifactNameSchema.safeParse(name);
    if (!ok.success)
      throw new BangerError('bad_request', `image name "${name}" ${ok.error.issues[0]?.message ?? 'is invalid'}`, {
        hint: 'choose one with --name',
      });
    return name;
  }

  async pull(ref: ImageRef, name: string, opts: OciPullOptions, ctx: OpCtx): Promise<Image> {
    const { store, kernels } = this.d;
    const existing = store.images.findByName(name);
    if (existing && existing.oci?.ref !== ref.text) this.checkReplaceable(name, ref, existing); // taken by another image
    const kernelName = opts.kernel ?? kernels.defaultKernelName; // the config's default_kernel_name, else the catalog's
    this.d.preflight(['oci-pull', ...kernels.needs(kernelName)], `pulling ${ref.text}`);
    const kernel = await kernels.ensure(kernelName, ctx);
    const client = new RegistryClient({ insecure: opts.insecure ?? false });
    ctx.progress?.('resolve', ref.text);
    const resolved = await withRef(ref, () => client.resolve(ref, ctx.signal));
    const current = store.images.findByName(name); // read again: the record may have changed meanwhile
    if (current?.oci?.manifestDigest === resolved.manifestDigest && current.kernelId === kernel.id) {
      ctx.progress?.('image', `${name} is up to date (${resolved.manifestDigest})`);
      return current;
    }
    const digests = [resolved.configDigest, ...resolved.layers.map((l) => l.digest)];
    this.hold(digests, +1);
    try {
      return await this.importAndRecord(ref, name, opts, ctx, {
        client,
        resolved,
        existing: current,
        kernelId: kernel.id,
      });
    } finally {
      this.hold(digests, -1);
    }
  }

  private hold(digests: readonly string[], by: 1 | -1): void {
    for (const d of digests) {
      const n = (this.inFlight.get(d) ?? 0) + by;
      if (n > 0) this.inFlight.set(d, n);
      else this.inFlight.delete(d);
    }
  }

  private async importAndRecord(
    ref: ImageRef,
    name: string,
    opts: OciPullOptions,
    ctx: OpCtx,
    p: { client: RegistryClient; resolved: ResolvedImage; existing: Image | undefined; kernelId: string },
  ): Promise<Image> {
    const { client, resolved, existing } = p;
    this.checkReplaceable(name, ref, existing); // fail fast; checked again at commit
    return withRef(ref, () =>
      importOciImage(
        {
          runner: this.d.runner,
          cache: this.cache,
          client,
          agentBinary: agentBinaryPath(),
          initBinary: initBinaryPath(),
        },
        {
          resolved,
          scratchParent: this.d.layout.imagesDir,
          sizeBytes: opts.sizeBytes,
          installSshd: opts.installSshd ?? false,
          progress: ctx.progress,
          signal: ctx.signal,
          commit: (staged, imported) => this.commit(name, ref, p.kernelId, staged, imported),
        },
      ),
    );
  }

  /** Whether `name` may take a new version of `ref`: not another image's name, and no VM on it. */
  private checkReplaceable(name: string, ref: ImageRef, existing: Image | undefined): void {
    if (existing && existing.oci?.ref !== ref.text)
      throw new BangerError('already_exists', `an image named "${name}" already exists (from ${existing.source})`, {
        hint: `pull ${ref.text} under another name with --name, or delete it first with \`banger image delete ${name}\``,
      });
    const users = existing ? this.d.store.vms.usesImage(existing.id) : [];
    if (users.length)
      throw new BangerError('conflict', `image ${name} changed upstream but VM(s) ${users.join(', ')} use it`, {
        hint: 'delete those VMs first, or pull the new version under another name with --name',
      });
  }

  /**
   * Moves a complete staged image into <images>/<name> and records it. Synchronous: the
   * record is read again here (an `image delete` or a new VM may have come while the layers
   * were flattened), and nothing can come between these checks and the changes.
   */
  private commit(name: string, ref: ImageRef, kernelId: string, staged: string, imported: ImportedImage): Image {
    const { store } = this.d;
    const now = store.images.findByName(name);
    this.checkReplaceable(name, ref, now);
    const dest = join(this.d.layout.imagesDir, name);
    rmSync(dest, { recursive: true, force: true });
    renameSync(staged, dest);
    const image: Image = {
      id: now?.id ?? randomBytes(4).toString('hex'),
      name,
      source: `oci:${ref.text}`,
      distro: imported.distro,
      arch: 'x86_64',
      rootfsPath: join(dest, imported.rootfsName),
      workSeedPath: null,
      kernelId,
      initrdPath: null,
      sizeBytes: imported.sizeBytes,
      createdAt: new Date().toISOString(),
      oci: imported.oci,
    };
    if (now) store.images.replace(image);
    else store.images.insert(image);
    return image;
  }

  /** Removes cached blobs that no image refers to (layers and configs of every OCI image, and of pulls in progress, are kept). */
  prune(dryRun: boolean) {
    const keep = new Set<string>(this.inFlight.keys());
    for (const img of this.d.store.images.list()) {
      if (!img.oci) continue;
      keep.add(img.oci.configDigest);
      for (const l of img.oci.layers) keep.add(l.digest);
    }
    const r = this.cache.prune(keep, dryRun);
    return { ...r, dir: this.d.layout.ociBlobsDir };
  }
}

/** Errors from the registry or the import name the reference they concern. */
async function withRef<T>(ref: ImageRef, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof BangerError && !e.message.includes(ref.text)) {
      throw new BangerError(e.code, `${ref.text}: ${e.message}`, {
        ...(e.hint !== undefined && { hint: e.hint }),
        cause: e,
      });
    }
    throw e;
  }
}

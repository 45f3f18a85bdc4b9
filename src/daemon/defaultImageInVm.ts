/**
 * The default image without mmdebstrap or root (config `default_image_source`, docs/howto/images.md):
 * the OCI base (`default_image_oci_base`, debian:bookworm) is pulled like any image, a
 * builder VM boots it with NAT, the recipe script (src/imagecat/recipeScript.ts) installs the
 * missing packages and applies the recipe through the agent, the VM powers off, and its
 * root disk, flattened from the qcow2 overlay onto the base, becomes the image's rootfs.
 * The builder VM is deleted whatever happens; the image directory is only replaced by a
 * complete rootfs.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BangerError, GIB } from '../model/index.js';
import { type BuiltImage, type ImageCatalogEntry, renderRecipeScript } from '../imagecat/index.js';
import type { OpCtx } from '../opctx/index.js';
import type { Layout } from '../paths/index.js';
import type { HostRunner } from '../system/index.js';
import type { ImageService } from './imageService.js';
import type { VmService } from './vmService.js';

export interface InVmBuildDeps {
  vms: VmService;
  images: ImageService;
  runner: HostRunner;
  layout: Layout;
}

/** Packages installed from a slow mirror under emulation: generous. */
const RECIPE_TIMEOUT_MS = 30 * 60_000;
/** The base's rootfs must hold the recipe's packages (about 300 MB on top of debian:bookworm). */
const BASE_ROOTFS_BYTES = 3 * GIB;

export async function buildDefaultImageInVm(
  d: InVmBuildDeps,
  entry: ImageCatalogEntry,
  baseRef: string,
  ctx: OpCtx,
): Promise<BuiltImage> {
  const baseName = `${entry.name}-oci-base`;
  ctx.progress?.('image', `${entry.name} from ${baseRef} and banger's recipe, in a builder VM (once)`);
  const base = await d.images.ensureOciBase(baseRef, baseName, BASE_ROOTFS_BYTES, ctx);
  const vmName = `build-${randomBytes(3).toString('hex')}`;
  try {
    const vm = await d.vms.create(
      { name: vmName, image: base.name, nat: true, start: true, ready: 'agent', vmm: 'qemu' },
      ctx,
    );
    if (vm.rootOverlay !== 'qcow2')
      throw new BangerError(
        'operation_failed',
        `the builder VM's root disk is ${vm.rootOverlay}, not a qcow2 overlay`,
        {
          hint: 'building the default image in a VM needs QEMU',
        },
      );
    ctx.progress?.('recipe', `${entry.recipe.packages.length} packages, units, files (through the agent)`);
    await runRecipe(d.vms, vmName, renderRecipeScript(entry.recipe), ctx);
    await d.vms.stop(vmName, ctx);
    return await flattenRootDisk(d, entry.name, d.vms.files(vm).rootfsOverlay, ctx);
  } finally {
    await d.vms.delete(vmName, ctx).catch(() => {});
  }
}

async function runRecipe(vms: VmService, vmName: string, script: string, ctx: OpCtx): Promise<void> {
  const tail: string[] = [];
  const r = await vms.exec(
    { name: vmName, argv: ['/bin/sh', '-c', script], stdin: false },
    {
      output: (_stream, data) => {
        for (const line of data.toString('utf8').split('\n').filter(Boolean)) {
          tail.push(line);
          if (tail.length > 8) tail.shift();
          if (line.startsWith('recipe:')) ctx.progress?.('recipe', line.slice(8));
        }
      },
      input: { listen: () => {}, pause: () => {}, resume: () => {} },
    },
    { ...ctx, signal: ctx.signal ?? AbortSignal.timeout(RECIPE_TIMEOUT_MS) },
  );
  if (r.exitCode !== 0)
    throw new BangerError('operation_failed', `applying the recipe in the builder VM failed (exit ${r.exitCode})`, {
      hint: `${tail.join('\n')}\nthe builder VM needs outbound NAT to reach the Debian mirror`,
    });
}

/** qemu-img convert of the overlay (with its backing base) into a standalone raw ext4, then checked. */
async function flattenRootDisk(d: InVmBuildDeps, name: string, overlay: string, ctx: OpCtx): Promise<BuiltImage> {
  const scratch = mkdtempSync(join(d.layout.imagesDir, '.build-'));
  try {
    const rootfs = join(scratch, 'rootfs.ext4');
    ctx.progress?.('image', 'flattening the builder root disk');
    await d.runner.run(['qemu-img', 'convert', '-f', 'qcow2', '-O', 'raw', overlay, rootfs], { signal: ctx.signal });
    await d.runner.run(['e2fsck', '-f', '-p', rootfs], { signal: ctx.signal });
    const dest = join(d.layout.imagesDir, name);
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(dest, { recursive: true });
    renameSync(rootfs, join(dest, 'rootfs.ext4'));
    return {
      rootfsPath: join(dest, 'rootfs.ext4'),
      workSeedPath: null,
      sizeBytes: statSync(join(dest, 'rootfs.ext4')).size,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

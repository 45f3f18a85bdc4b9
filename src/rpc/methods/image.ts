import { z } from 'zod';
import {
  artifactNameSchema,
  boundedInt,
  DISK_SIZE_LIMIT,
  imageSchema,
  MEMORY_MIB_LIMIT,
  templateSummarySchema,
  VCPU_LIMIT,
} from '../../model/index.js';
import { defineMethod } from '../methodDef.js';
import { nameRef } from './names.js';

/** Managed images and the image catalog. */
export const IMAGE_METHODS = {
  'image.list': defineMethod({
    name: 'image.list',
    summary: 'Managed images.',
    params: z.strictObject({}),
    result: z.object({ images: z.array(imageSchema) }),
    tracked: false,
    progress: false,
  }),
  'image.catalog': defineMethod({
    name: 'image.catalog',
    summary: 'Images banger can obtain by name.',
    params: z.strictObject({}),
    result: z.object({
      images: z.array(z.object({ name: z.string(), distro: z.string(), kernel: z.string(), installed: z.boolean() })),
    }),
    tracked: false,
    progress: false,
  }),
  'image.show': defineMethod({
    name: 'image.show',
    summary:
      'One image, with its warm templates (one per vcpu/memory/disk/back-end it was started with; inUseBy: VMs made from it).',
    params: nameRef,
    result: z.object({ image: imageSchema, templates: z.array(templateSummarySchema) }),
    tracked: false,
    progress: false,
  }),
  'image.pull': defineMethod({
    name: 'image.pull',
    summary:
      'Obtains an image and its kernel: an OCI reference (registry/repo:tag or @sha256:…) is pulled from its registry (distribution v2), flattened as the daemon user and given the guest agent; any other name is a catalog image built from the Debian mirror. as: image name for an OCI pull (default from the reference). sizeBytes: rootfs size (default content x 1.5, at least 1 GiB). kernel: installed or catalog kernel (default: the default kernel). insecure: plain http to a non-loopback registry. installSshd: install openssh-server at first boot (needs NAT). Concurrent pulls of one image name coalesce.',
    params: z.strictObject({
      name: z.string().min(1).max(512),
      as: artifactNameSchema.optional(),
      sizeBytes: boundedInt(DISK_SIZE_LIMIT).optional(),
      kernel: artifactNameSchema.optional(),
      insecure: z.boolean().optional(),
      installSshd: z.boolean().optional(),
    }),
    result: z.object({ image: imageSchema }),
    tracked: true,
    progress: true,
  }),
  'image.cache.prune': defineMethod({
    name: 'image.cache.prune',
    summary:
      'Removes OCI blobs that no image refers to, and the warm templates (rebuilt on demand; VMs made from them keep their own links); dryRun lists them without removing.',
    params: z.strictObject({ dryRun: z.boolean().optional() }),
    result: z.object({
      removed: z.array(z.object({ digest: z.string(), size: z.number() })),
      freedBytes: z.number(),
      dir: z.string(),
      dryRun: z.boolean(),
      templates: z.object({ removed: z.array(z.string()), freedBytes: z.number() }),
    }),
    tracked: true,
    progress: false,
  }),
  'image.warm': defineMethod({
    name: 'image.warm',
    summary:
      "Builds the image's warm template for the given (or default) vcpu, memory and disk size on the default back-end now, and waits for it; VMs of that shape then restore from it instead of booting.",
    params: z.strictObject({
      name: z.string().min(1),
      vcpu: boundedInt(VCPU_LIMIT).optional(),
      memoryMib: boundedInt(MEMORY_MIB_LIMIT).optional(),
      diskSizeBytes: boundedInt(DISK_SIZE_LIMIT).optional(),
    }),
    result: z.object({ templates: z.array(templateSummarySchema) }),
    tracked: true,
    progress: true,
  }),
  'image.delete': defineMethod({
    name: 'image.delete',
    summary: 'Deletes an image no VM uses, with its warm templates.',
    params: nameRef,
    result: z.object({ deleted: z.string() }),
    tracked: true,
    progress: false,
  }),
  'image.register': defineMethod({
    name: 'image.register',
    summary: 'Adopts a local rootfs (and optional work seed) with an installed kernel.',
    params: z.strictObject({
      name: artifactNameSchema,
      rootfs: z.string().min(1),
      kernel: z.string().min(1),
      workSeed: z.string().optional(),
    }),
    result: z.object({ image: imageSchema }),
    tracked: true,
    progress: false,
  }),
} as const;

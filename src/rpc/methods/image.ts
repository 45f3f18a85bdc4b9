import { z } from 'zod';
import { artifactNameSchema, imageSchema } from '../../model/index.js';
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
    summary: 'One image.',
    params: nameRef,
    result: z.object({ image: imageSchema }),
    tracked: false,
    progress: false,
  }),
  'image.pull': defineMethod({
    name: 'image.pull',
    summary:
      'Obtains a catalog image (building it from the Debian mirror) and its kernel; concurrent pulls of a name coalesce.',
    params: nameRef,
    result: z.object({ image: imageSchema }),
    tracked: true,
    progress: true,
  }),
  'image.delete': defineMethod({
    name: 'image.delete',
    summary: 'Deletes an image no VM uses.',
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

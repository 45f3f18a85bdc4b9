import { z } from 'zod';
import { artifactNameSchema, kernelSchema } from '../../model/index.js';
import { defineMethod } from '../methodDef.js';
import { nameRef } from './names.js';

/** Installed kernels and the kernel catalog. */
export const KERNEL_METHODS = {
  'kernel.list': defineMethod({
    name: 'kernel.list',
    summary: 'Installed kernels.',
    params: z.strictObject({}),
    result: z.object({ kernels: z.array(kernelSchema) }),
    tracked: false,
    progress: false,
  }),
  'kernel.catalog': defineMethod({
    name: 'kernel.catalog',
    summary: 'Kernels banger can obtain by name; firecracker: whether Firecracker can boot it (else QEMU only).',
    params: z.strictObject({}),
    result: z.object({
      kernels: z.array(
        z.object({
          name: z.string(),
          description: z.string(),
          source: z.string(),
          installed: z.boolean(),
          firecracker: z.boolean(),
        }),
      ),
    }),
    tracked: false,
    progress: false,
  }),
  'kernel.show': defineMethod({
    name: 'kernel.show',
    summary: 'One kernel.',
    params: nameRef,
    result: z.object({ kernel: kernelSchema }),
    tracked: false,
    progress: false,
  }),
  'kernel.pull': defineMethod({
    name: 'kernel.pull',
    summary: 'Obtains a catalog kernel and builds its initramfs.',
    params: nameRef,
    result: z.object({ kernel: kernelSchema }),
    tracked: true,
    progress: true,
  }),
  'kernel.rm': defineMethod({
    name: 'kernel.rm',
    summary: 'Removes a kernel no image uses.',
    params: nameRef,
    result: z.object({ deleted: z.string() }),
    tracked: true,
    progress: false,
  }),
  'kernel.import': defineMethod({
    name: 'kernel.import',
    summary: 'Adopts a kernel from a directory with vmlinuz (or vmlinux) and optional initrd.img.',
    params: z.strictObject({ name: artifactNameSchema, dir: z.string().min(1) }),
    result: z.object({ kernel: kernelSchema }),
    tracked: true,
    progress: false,
  }),
} as const;

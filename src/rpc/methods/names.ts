import { z } from 'zod';

/** Params naming one object (a VM, an image, a kernel) by its name. */
export const nameRef = z.strictObject({ name: z.string().min(1).max(253) });

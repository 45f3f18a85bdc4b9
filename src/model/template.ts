import { z } from 'zod';
import { VMM_KINDS } from './vm.js';

/** A warm template as `image show` lists it (docs/howto/snapshots.md). */
export const templateSummarySchema = z.object({
  key: z.string(),
  vmm: z.enum(VMM_KINDS),
  vcpu: z.number(),
  memoryMib: z.number(),
  /** Bytes it takes on disk (allocated). */
  sizeBytes: z.number(),
  createdAt: z.string(),
  /** VMs made from it (each holds its own link to its frozen root: the template may go at any time). */
  inUseBy: z.number(),
});
export type TemplateSummary = z.infer<typeof templateSummarySchema>;

/**
 * What a client asks for when it creates a VM (`vm.create`) or plans a workspace
 * (`vm.workspace.plan`): declared once here, used by the RPC method table for validation and
 * by the daemon as the types of what it receives.
 */
import { z } from 'zod';
import { boundedInt, DISK_SIZE_LIMIT, MEMORY_MIB_LIMIT, VCPU_LIMIT } from './limits.js';
import { VMM_SETTINGS } from './vm.js';

/**
 * How a workspace is copied (docs/howto/workspaces.md): `git`, the repository's commit and
 * work-tree changes (tracked files only, unless untracked ones are asked for); `full_copy`,
 * the whole directory as it is, untracked and ignored files and .git included.
 */
export const WORKSPACE_MODES = ['git', 'full_copy'] as const;
export type WorkspaceMode = (typeof WORKSPACE_MODES)[number];

/** `vm run PATH`: a repository to copy into the VM once it is ready. */
export const workspaceRequestSchema = z.strictObject({
  /** Absolute path on the daemon's host. */
  path: z.string().min(1),
  includeUntracked: z.boolean().default(false),
  branch: z.string().min(1).optional(),
  from: z.string().min(1).optional(),
  noBootstrap: z.boolean().default(false),
  mode: z.enum(WORKSPACE_MODES).default('git'),
  /** Drop the write bits of the copy in the guest once it is in place. */
  readonly: z.boolean().default(false),
});
/** A workspace request after validation (defaults filled in). */
export type WorkspaceRequest = z.output<typeof workspaceRequestSchema>;

export const vmCreateParamsSchema = z.strictObject({
  name: z.string().optional(),
  image: z.string().optional(),
  vcpu: boundedInt(VCPU_LIMIT).optional(),
  memoryMib: boundedInt(MEMORY_MIB_LIMIT).optional(),
  diskSizeBytes: boundedInt(DISK_SIZE_LIMIT).optional(),
  /** Outbound NAT for this VM. */
  nat: z.boolean().default(false),
  start: z.boolean().default(true),
  /** Back-end: auto, firecracker or qemu (the config's `vmm` when omitted). */
  vmm: z.enum(VMM_SETTINGS).optional(),
  workspace: workspaceRequestSchema.optional(),
  /**
   * What "ready" waits for after the boot: the agent and sshd (`ssh`, the default), or the
   * agent alone (`agent`: for a command run through the agent; a workspace still waits for sshd).
   */
  ready: z.enum(['ssh', 'agent']).optional(),
  /** Boot from scratch even when a warm template matches (docs/howto/snapshots.md). */
  cold: z.boolean().optional(),
});
/**
 * `vm.create` params after validation. `nat` may be left out by in-process callers (tests,
 * the benchmarks): absent is off, as the wire's default.
 */
export type CreateParams = Omit<z.output<typeof vmCreateParamsSchema>, 'nat'> & { nat?: boolean | undefined };

import { z } from 'zod';
import { vmSchema, WORKSPACE_MODES, workspaceRequestSchema } from '../../model/index.js';
import { defineMethod } from '../methodDef.js';

// The workspace methods: a repository copied into a VM, and the guest's changes back out.

const sentWire = z.object({ bytes: z.number(), ms: z.number(), files: z.number() });

/** Plan, copy in, and export a VM's workspace. */
export const WORKSPACE_METHODS = {
  'vm.workspace.plan': defineMethod({
    name: 'vm.workspace.plan',
    summary:
      'What `vm run PATH` would copy (files, bytes, commit, branch) after the same checks, without creating anything: --dry-run.',
    params: workspaceRequestSchema.extend({ nat: z.boolean().default(false) }),
    result: z.object({
      root: z.string(),
      commit: z.string().nullable(),
      branch: z.string(),
      files: z.array(z.string()),
      bytes: z.number(),
      submodules: z.array(z.string()),
      toolFiles: z.array(z.string()),
    }),
    tracked: false,
    progress: false,
  }),
  'vm.workspace.prepare': defineMethod({
    name: 'vm.workspace.prepare',
    summary:
      'Copies the repository into a running VM again (from path, or from where its workspace came from); the previous copy is kept once as /root/repo.previous. mode: git (the commit and work-tree changes) or full_copy (the directory as it is, untracked and ignored files and .git included); readonly: drop the write bits in the guest after the copy; dryRun: only report the files, their size, the mode and the destination (paths), changing nothing.',
    params: z.strictObject({
      name: z.string().min(1),
      path: z.string().min(1).optional(),
      includeUntracked: z.boolean().default(false),
      mode: z.enum(WORKSPACE_MODES).default('git'),
      readonly: z.boolean().default(false),
      dryRun: z.boolean().default(false),
    }),
    result: sentWire.extend({
      vm: vmSchema,
      mode: z.enum(WORKSPACE_MODES),
      readonly: z.boolean(),
      dryRun: z.boolean(),
      root: z.string(),
      guestPath: z.string(),
      paths: z.array(z.string()),
    }),
    tracked: true,
    progress: true,
  }),
  'vm.workspace.export': defineMethod({
    name: 'vm.workspace.export',
    summary: "The guest's commits and uncommitted changes since the base commit, as mail that `git am` applies.",
    params: z.strictObject({ name: z.string().min(1), baseCommit: z.string().min(4).optional() }),
    result: z.object({ patch: z.string(), base: z.string() }),
    tracked: true,
    progress: false,
  }),
} as const;

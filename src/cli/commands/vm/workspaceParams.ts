/** A VM's workspace as the CLI asks for it: the RPC params of `vm run PATH` and the guest command in it. */
import { resolve } from 'node:path';
import { guestExecCommand } from '../../../workspace/index.js';

export interface WorkspaceCliOptions {
  includeUntracked?: boolean;
  branch?: string;
  from?: string;
  bootstrap?: boolean;
  dryRun?: boolean;
}

/** The vm.create / vm.workspace.plan `workspace` params for `vm run PATH`. */
export function workspaceRequest(path: string, o: WorkspaceCliOptions) {
  return {
    path: resolve(path),
    includeUntracked: !!o.includeUntracked,
    noBootstrap: o.bootstrap === false,
    ...(o.branch !== undefined && { branch: o.branch }),
    ...(o.from !== undefined && { from: o.from }),
  };
}

/** The guest command of `vm run PATH -- CMD` and `vm exec`: in the workspace, through mise when it applies. */
export function inWorkspace(command: readonly string[]): string[] {
  return command.length ? guestExecCommand(command) : guestExecCommand(['sh', '-c', 'exec "${SHELL:-/bin/bash}" -l']);
}

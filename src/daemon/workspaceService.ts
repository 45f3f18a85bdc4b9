import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sshArgv, sshShellArgv, type SshTarget } from '../guest/index.js';
import type { Logger } from '../log/index.js';
import type { OpCtx } from '../opctx/index.js';
import { BangerError, formatSize, type Vm, type Workspace, type WorkspaceRequest } from '../model/index.js';
import type { Store } from '../store/index.js';
import type { HostRunner } from '../system/index.js';
import { planTooling, type ToolingPlan } from '../toolingplan/index.js';
import {
  guestExportScript,
  inspectRepo,
  listTree,
  planFullCopy,
  MISE_FILES,
  planWorkspace,
  sendWorkspace,
  totalBytes,
  GUEST_PATH,
  type RepoInfo,
  type WorkspacePlan,
} from '../workspace/index.js';

export type { WorkspaceRequest };

/** What was checked before any VM exists: the repository, the copy plan, the tooling plan. */
export interface PreparedWorkspace {
  repo: RepoInfo;
  plan: WorkspacePlan;
  /** Tool files at the repository root (.mise.toml, mise.toml, .tool-versions). */
  toolFiles: string[];
  tooling: ToolingPlan;
}

export interface WorkspaceSummary {
  root: string;
  commit: string | null;
  branch: string;
  files: string[];
  bytes: number;
  submodules: string[];
  toolFiles: string[];
}

/**
 * Workspaces (docs/howto/workspaces.md): preflight and plans on the host, the copy into a running guest
 * (streamed tar over ssh), tool bootstrap, and export. The VM record keeps guest path,
 * host path, base commit and the guest's HEAD.
 */
export class WorkspaceService {
  constructor(private readonly d: { runner: HostRunner; store: Store; log: Logger }) {}

  /** Everything that can refuse a `vm run PATH`, checked before a VM is made. */
  async preflight(req: WorkspaceRequest, nat: boolean): Promise<PreparedWorkspace> {
    const repo = await inspectRepo(this.d.runner, req.path);
    if (req.mode === 'full_copy') return this.fullCopyPreflight(repo, req, nat);
    let fromCommit: string | undefined;
    if (req.branch !== undefined) {
      const ok = await this.d.runner.run(['git', 'check-ref-format', '--branch', req.branch], { allowFailure: true });
      if (ok.exitCode !== 0) throw new BangerError('bad_request', `--branch ${req.branch} is not a valid branch name`);
    }
    // --from REF, or --branch naming a branch the host has: that commit is checked out.
    const ref =
      req.from ??
      (req.branch !== undefined &&
      (await this.git(repo.root, ['rev-parse', '-q', '--verify', `refs/heads/${req.branch}`])).exitCode === 0
        ? req.branch
        : undefined);
    if (ref !== undefined) {
      const r = await this.git(repo.root, ['rev-parse', '-q', '--verify', `${ref}^{commit}`]);
      if (r.exitCode !== 0)
        throw new BangerError('bad_request', `${ref} is not a commit in ${repo.root}`, {
          hint: 'give a branch, tag or commit that `git rev-parse` knows',
        });
      fromCommit = r.stdout.trim();
    }
    const plan = planWorkspace(repo, {
      includeUntracked: req.includeUntracked,
      branch: req.branch,
      fromCommit,
      readonly: req.readonly,
    });
    return this.withTooling(repo, plan, req, nat);
  }

  /** `--mode full_copy`: the work tree as it is; --branch and --from need the git mode. */
  private fullCopyPreflight(repo: RepoInfo, req: WorkspaceRequest, nat: boolean): PreparedWorkspace {
    if (req.branch !== undefined || req.from !== undefined)
      throw new BangerError('bad_request', '--branch and --from pick a commit: they need --mode git', {
        hint: 'full_copy copies the directory as it is; drop --branch/--from, or use the default git mode',
      });
    return this.withTooling(repo, planFullCopy(repo, listTree(repo.root), { readonly: req.readonly }), req, nat);
  }

  private withTooling(repo: RepoInfo, plan: WorkspacePlan, req: WorkspaceRequest, nat: boolean): PreparedWorkspace {
    const toolFiles: string[] = MISE_FILES.filter((f) => existsSync(join(repo.root, f)));
    const tooling = planTooling({ toolFiles, nat, noBootstrap: req.noBootstrap, guestPath: GUEST_PATH });
    if (tooling.kind === 'refuse') throw new BangerError('bad_request', tooling.message, { hint: tooling.hint });
    return { repo, plan, toolFiles, tooling };
  }

  summary(p: PreparedWorkspace): WorkspaceSummary {
    return {
      root: p.repo.root,
      commit: p.plan.commit,
      branch: p.plan.branch,
      files: p.plan.files,
      bytes: totalBytes(p.repo.root, p.plan.files),
      submodules: p.plan.submodules,
      toolFiles: p.toolFiles,
    };
  }

  /** Copies the workspace into the running VM and records it; then bootstraps tools when planned. */
  async copyIn(
    vm: Vm,
    target: SshTarget,
    p: PreparedWorkspace,
    ctx: OpCtx,
  ): Promise<{ bytes: number; ms: number; files: number }> {
    if (p.plan.submodules.length)
      ctx.progress?.(
        'workspace',
        `submodules are not copied (their directories stay empty): ${p.plan.submodules.join(', ')}`,
      );
    const how = `${p.plan.mode}${p.plan.readonly ? ', read-only' : ''}`;
    ctx.progress?.('workspace', `copying ${p.plan.files.length} files from ${p.repo.root} (${how})`);
    const sent = await sendWorkspace(
      this.d.runner,
      p.repo.root,
      p.plan,
      (script) => sshArgv(target, ['sh', '-c', script]),
      ctx.signal,
    );
    const ws: Workspace = {
      guestPath: p.plan.guestPath,
      hostPath: p.repo.root,
      baseCommit: p.plan.commit,
      head: sent.guestHead === 'none' ? null : sent.guestHead,
    };
    this.d.store.vms.setWorkspace(vm.id, ws);
    ctx.progress?.(
      'workspace',
      `${formatSize(sent.bytes)} sent in ${(sent.ms / 1000).toFixed(1)}s; HEAD ${ws.head?.slice(0, 12) ?? '(no commits)'} on ${p.plan.branch}`,
    );
    this.d.log.info('workspace copied', {
      op_id: ctx.opId,
      vm: vm.name,
      bytes: sent.bytes,
      ms: sent.ms,
      files: p.plan.files.length,
    });
    if (p.tooling.kind === 'install') {
      ctx.progress?.('tools', `mise install (${p.tooling.files.join(', ')}); log in ${p.tooling.log}`);
      const r = await this.d.runner.run(sshShellArgv(target, p.tooling.script), {
        timeoutMs: 1_800_000,
        allowFailure: true,
        ...(ctx.signal && { signal: ctx.signal }),
      });
      if (r.exitCode !== 0) {
        throw new BangerError(
          'operation_failed',
          `VM ${vm.name}: installing the repository's tools failed (exit ${r.exitCode})`,
          {
            hint: `see ${p.tooling.log} in the VM (\`banger vm ssh ${vm.name} -- cat ${p.tooling.log}\`); skip it with --no-bootstrap`,
          },
        );
      }
    } else if (p.tooling.kind === 'skipped') {
      ctx.progress?.('tools', `not installed (--no-bootstrap): ${p.tooling.files.join(', ')}`);
    }
    return { bytes: sent.bytes, ms: sent.ms, files: p.plan.files.length };
  }

  /** The guest's commits and uncommitted changes since the base commit, as `git am` mail. */
  async export(vm: Vm, target: SshTarget, baseCommit: string | undefined): Promise<{ patch: string; base: string }> {
    const ws = this.requireWorkspace(vm);
    const base = baseCommit ?? ws.baseCommit;
    if (!base)
      throw new BangerError('bad_request', `VM ${vm.name}'s workspace has no base commit (the repository had none)`, {
        hint: 'give one with --base-commit SHA',
      });
    if (!/^[0-9a-f]{4,64}$/.test(base))
      throw new BangerError('bad_request', `--base-commit ${base} is not a commit id`);
    const r = await this.d.runner.run(sshShellArgv(target, guestExportScript(base, vm.name, ws.guestPath)), {
      timeoutMs: 300_000,
      allowFailure: true,
      maxOutputBytes: 512 * 1024 * 1024,
    });
    if (r.exitCode !== 0)
      throw new BangerError(
        'operation_failed',
        `VM ${vm.name}: export failed: ${r.stderr.trim().split('\n').slice(-3).join('; ')}`,
        { hint: `is ${base} an ancestor of the guest's HEAD? see \`git -C ${ws.guestPath} log\` in the VM` },
      );
    return { patch: r.stdout, base };
  }

  requireWorkspace(vm: Vm): Workspace {
    if (!vm.workspace)
      throw new BangerError('bad_request', `VM ${vm.name} has no workspace`, {
        hint: `make one with \`banger vm run PATH\`, or copy a repository into it with \`banger vm workspace prepare ${vm.name} --path PATH\``,
      });
    return vm.workspace;
  }

  private git(root: string, args: string[]) {
    return this.d.runner.run(['git', '-C', root, ...args], { allowFailure: true });
  }
}

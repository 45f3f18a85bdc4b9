import { shellQuote } from '../guest/index.js';
import type { WorkspaceMode } from '../model/index.js';
import type { RepoInfo } from './repo.js';

/**
 * What a workspace copy does (docs/howto/workspaces.md), as data and scripts: pure functions, table-tested.
 *
 * The guest gets a real git repository at GUEST_PATH whose HEAD is the chosen commit: a
 * pack of that one commit (its commit, trees and blobs; history is shallow) made on the
 * host with `git pack-objects`, checked out in the guest; then the work-tree files that
 * differ from the commit (uncommitted edits, and untracked files when asked) are laid over
 * it, and files deleted on the host are deleted. So the bytes sent follow the tracked
 * content (compressed), never `.git`'s history or ignored build output.
 */
export const GUEST_PATH = '/root/repo';
/** Where the incoming stream is unpacked before it is put in place: beside the workspace, under .cache. */
export function incomingDir(guestPath: string): string {
  return `${guestPath.slice(0, guestPath.lastIndexOf('/')) || ''}/.cache/banger/workspace-incoming`;
}
/** The stream's meta directory: the pack, and NUL-separated lists of deleted and untracked paths. */
export const META_DIR = '.banger-ws';

export interface WorkspaceOptions {
  includeUntracked: boolean;
  /** Drop the copy's write bits in the guest once it is in place. */
  readonly?: boolean | undefined;
  /** The guest's branch name (default: the host's current branch, else "workspace"). */
  branch?: string | undefined;
  /** The commit to check out, resolved on the host (default: HEAD). */
  fromCommit?: string | undefined;
}

export interface WorkspacePlan {
  /** `git`: the commit's pack plus work-tree changes; `full_copy`: the directory as it is. */
  mode: WorkspaceMode;
  readonly: boolean;
  guestPath: string;
  /** Checked out in the guest; null for a repository without commits (files only). */
  commit: string | null;
  branch: string;
  /** Work-tree files sent on top of the commit (repo-relative). */
  overlay: string[];
  /** Deleted in the guest after checkout (deleted in the host's work tree). */
  deleted: string[];
  /** Untracked files that were copied: kept out of `workspace export`. */
  untrackedCopied: string[];
  /** Everything the guest ends up with from the host, for `--dry-run`. */
  files: string[];
  identity: { name: string | null; email: string | null };
  submodules: string[];
  /** True when the guest's tree is the host's work tree (HEAD plus uncommitted changes). */
  includesWorkTree: boolean;
}

/**
 * `commitFiles`: the paths of `fromCommit` when it is not HEAD (git ls-tree); ignored
 * otherwise, since HEAD's work tree is what `repo` lists.
 */
export function planWorkspace(
  repo: RepoInfo,
  o: WorkspaceOptions,
  commitFiles: readonly string[] = [],
  guestPath = GUEST_PATH,
): WorkspacePlan {
  const commit = o.fromCommit ?? repo.head;
  const atHead = commit === repo.head;
  const branch = o.branch ?? (o.fromCommit === undefined && repo.branch ? repo.branch : 'workspace');
  const untracked = o.includeUntracked && atHead ? repo.untracked : [];
  const overlay = atHead ? [...(commit ? repo.changed : repo.tracked), ...untracked] : [];
  const files = atHead ? [...repo.tracked, ...untracked] : [...commitFiles];
  return {
    mode: 'git',
    readonly: o.readonly ?? false,
    guestPath,
    commit,
    branch,
    overlay,
    deleted: atHead ? repo.deleted : [],
    untrackedCopied: untracked,
    files: files.sort(),
    identity: repo.identity,
    submodules: repo.submodules,
    includesWorkTree: atHead,
  };
}

/** The guest side of a copy: unpack the stream from stdin, build the repository, put the files in place. */
export function guestPrepareScript(p: WorkspacePlan): string {
  const q = shellQuote;
  const ws = q(p.guestPath);
  const lines = [
    'set -eu',
    `in=${q(incomingDir(p.guestPath))}`,
    'rm -rf "$in"; mkdir -p "$in"',
    'tar -x -f - -C "$in"',
    // A re-prepare keeps the previous copy once, so nothing done in the guest is lost by accident.
    `if [ -e ${ws} ]; then rm -rf ${q(`${p.guestPath}.previous`)}; mv ${ws} ${q(`${p.guestPath}.previous`)}; fi`,
    `mkdir -p ${ws}`,
    `cd ${ws}`,
    `git init -q -b ${q(p.branch)}`,
  ];
  if (p.identity.name) lines.push(`git config user.name ${q(p.identity.name)}`);
  if (p.identity.email) lines.push(`git config user.email ${q(p.identity.email)}`);
  if (p.commit) {
    lines.push(
      `mv "$in"/${META_DIR}/pack-* .git/objects/pack/`,
      `printf '%s\\n' ${q(p.commit)} > .git/shallow`,
      `git update-ref ${q(`refs/heads/${p.branch}`)} ${q(p.commit)}`,
      'git reset -q --hard',
    );
  }
  lines.push(
    `xargs -0 rm -f -- < "$in"/${META_DIR}/deleted`,
    `mv "$in"/${META_DIR}/untracked .git/banger-untracked`,
    `rm -rf "$in"/${META_DIR}`,
    `cp -a "$in"/. ${ws}/`,
    'rm -rf "$in"',
    ...readonlyLines(p),
    'git rev-parse -q --verify HEAD || echo none',
  );
  return `${lines.join('\n')}\n`;
}

/** `--readonly`: every write bit of the copy dropped (root in the guest is not stopped by them). */
function readonlyLines(p: WorkspacePlan): string[] {
  return p.readonly ? [`chmod -R a-w ${shellQuote(p.guestPath)}`] : [];
}

/**
 * `--mode full_copy`: the whole work tree as it is on the host (untracked and ignored files,
 * .git and all), no git work in between: the plan lists every file of `tree` (from listTree).
 */
export function planFullCopy(
  repo: RepoInfo,
  tree: readonly string[],
  o: { readonly?: boolean | undefined },
  guestPath = GUEST_PATH,
): WorkspacePlan {
  return {
    mode: 'full_copy',
    readonly: o.readonly ?? false,
    guestPath,
    commit: repo.head,
    branch: repo.branch ?? 'workspace',
    overlay: [],
    deleted: [],
    untrackedCopied: [],
    files: [...tree].sort(),
    identity: repo.identity,
    submodules: [],
    includesWorkTree: true,
  };
}

/**
 * The guest side of a full copy: unpack the stream (owned by the guest's user, so git trusts
 * the copied .git), keep the previous copy once, move the new one in place.
 */
export function guestFullCopyScript(p: WorkspacePlan): string {
  const q = shellQuote;
  const ws = q(p.guestPath);
  return `${[
    'set -eu',
    `in=${q(incomingDir(p.guestPath))}`,
    'rm -rf "$in"; mkdir -p "$in"',
    'tar -x --no-same-owner -f - -C "$in"',
    `if [ -e ${ws} ]; then rm -rf ${q(`${p.guestPath}.previous`)}; mv ${ws} ${q(`${p.guestPath}.previous`)}; fi`,
    `mkdir -p ${q(p.guestPath.slice(0, p.guestPath.lastIndexOf('/')) || '/')}`,
    `mv "$in" ${ws}`,
    ...readonlyLines(p),
    `cd ${ws}`,
    'git rev-parse -q --verify HEAD 2>/dev/null || echo none',
  ].join('\n')}\n`;
}

/**
 * The guest side of `workspace export`: the commits since `base` and, when the work tree
 * differs from HEAD, one more commit holding those changes (made on a temporary index, so
 * the guest's branch and index are untouched), as `git format-patch` mail that `git am`
 * applies. Untracked files that came from the host stay out.
 */
export function guestExportScript(base: string, vmName: string, guestPath = GUEST_PATH): string {
  const q = shellQuote;
  return [
    'set -eu',
    `cd ${q(guestPath)}`,
    'git config user.name >/dev/null || git config user.name banger',
    `git config user.email >/dev/null || git config user.email ${q(`banger@${vmName}.vm`)}`,
    'idx=$(mktemp); trap \'rm -f "$idx"\' EXIT',
    'GIT_INDEX_FILE="$idx" git read-tree HEAD',
    'GIT_INDEX_FILE="$idx" git add -A',
    'if [ -s .git/banger-untracked ]; then GIT_INDEX_FILE="$idx" xargs -0 git rm -q --cached --ignore-unmatch -- < .git/banger-untracked; fi',
    'tree=$(GIT_INDEX_FILE="$idx" git write-tree)',
    'tip=$(git rev-parse HEAD)',
    `if [ "$tree" != "$(git rev-parse 'HEAD^{tree}')" ]; then tip=$(git commit-tree "$tree" -p HEAD -m ${q(`banger: uncommitted changes in ${vmName}`)}); fi`,
    `git format-patch --stdout --binary ${q(base)}.."$tip"`,
    '',
  ].join('\n');
}

/** Tool files that make `vm run` bootstrap tools with mise. */
export const MISE_FILES = ['.mise.toml', 'mise.toml', '.tool-versions'] as const;

/**
 * `vm exec`: the command runs in the workspace (or `guestPath`), through `mise exec --` when the repository
 * declares tools and mise is installed; argv keeps its word boundaries.
 */
export function guestExecCommand(argv: readonly string[], guestPath = GUEST_PATH): string[] {
  const script = [
    `cd ${shellQuote(guestPath)}`,
    `if [ -e .mise.toml ] || [ -e mise.toml ] || [ -e .tool-versions ]; then`,
    '  m=$(command -v mise || true); [ -n "$m" ] || { [ -x "$HOME/.local/bin/mise" ] && m="$HOME/.local/bin/mise"; } || true',
    '  if [ -n "$m" ]; then exec "$m" exec -- "$@"; fi',
    'fi',
    'exec "$@"',
  ].join('\n');
  return ['sh', '-c', script, 'banger-exec', ...argv];
}

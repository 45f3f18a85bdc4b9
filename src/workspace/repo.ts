import { existsSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { BangerError } from '../model/index.js';
import type { HostRunner } from '../system/index.js';

/**
 * What `vm run PATH` needs to know about a repository on the host, read with git through
 * the command runner. Read-only: nothing in the repository changes.
 */
export interface RepoInfo {
  /** The work tree's top directory. */
  root: string;
  /** Commit of HEAD; null in a repository without commits. */
  head: string | null;
  /** Current branch, or null when HEAD is detached. */
  branch: string | null;
  /** Tracked paths as they are in the work tree (deleted ones left out). */
  tracked: string[];
  /** Tracked paths whose work-tree content differs from HEAD (staged or not), still present. */
  changed: string[];
  /** Tracked in HEAD but deleted in the work tree. */
  deleted: string[];
  /** Untracked, not ignored. */
  untracked: string[];
  /** Submodule paths (gitlinks): their content is not copied. */
  submodules: string[];
  identity: { name: string | null; email: string | null };
}

const split0 = (s: string) => s.split('\0').filter(Boolean);

async function git(runner: HostRunner, root: string, args: string[], allowFailure = false) {
  return runner.run(['git', '-C', root, ...args], {
    allowFailure,
    timeoutMs: 120_000,
    maxOutputBytes: 256 * 1024 * 1024,
  });
}

/** Preflight (docs/howto/workspaces.md): a path that exists, inside a git work tree, not bare. Clear errors otherwise. */
export async function inspectRepo(runner: HostRunner, path: string): Promise<RepoInfo> {
  if (!isAbsolute(path)) throw new BangerError('bad_request', `workspace path "${path}" must be absolute`);
  if (!existsSync(path))
    throw new BangerError('bad_request', `${path} does not exist`, {
      hint: 'give the path of a git repository: `banger vm run ./my-repo`',
    });
  if (!statSync(path).isDirectory())
    throw new BangerError('bad_request', `${path} is not a directory`, {
      hint: 'give the directory of a git repository',
    });
  const bare = await git(runner, path, ['rev-parse', '--is-bare-repository'], true);
  if (bare.exitCode !== 0)
    throw new BangerError('bad_request', `${path} is not inside a git repository`, {
      hint: 'run `git init` there, or point banger at a git work tree',
    });
  if (bare.stdout.trim() === 'true')
    throw new BangerError('bad_request', `${path} is a bare repository: it has no work tree to copy`, {
      hint: 'clone it first (`git clone PATH work`) and point banger at the clone',
    });
  const root = (await git(runner, path, ['rev-parse', '--show-toplevel'])).stdout.trim();
  const headR = await git(runner, root, ['rev-parse', '--verify', '-q', 'HEAD'], true);
  const head = headR.exitCode === 0 ? headR.stdout.trim() : null;
  const branchR = await git(runner, root, ['symbolic-ref', '-q', '--short', 'HEAD'], true);
  const [staged, deletedR, changedR, untrackedR, nameR, emailR] = await Promise.all([
    git(runner, root, ['ls-files', '-z', '--stage']),
    git(runner, root, ['ls-files', '-z', '--deleted']),
    head ? git(runner, root, ['diff', '--name-only', '-z', '--no-renames', 'HEAD']) : Promise.resolve({ stdout: '' }),
    git(runner, root, ['ls-files', '-z', '--others', '--exclude-standard']),
    git(runner, root, ['config', 'user.name'], true),
    git(runner, root, ['config', 'user.email'], true),
  ]);
  const deleted = new Set(split0(deletedR.stdout));
  const submodules = new Set<string>();
  const tracked = new Set<string>(); // a conflicted path is listed once per stage
  for (const entry of split0(staged.stdout)) {
    // "<mode> <object> <stage>\t<path>"
    const p = entry.slice(entry.indexOf('\t') + 1);
    if (entry.startsWith('160000 ')) submodules.add(p);
    else if (!deleted.has(p)) tracked.add(p);
  }
  const changed = split0(changedR.stdout).filter(
    (p) => !deleted.has(p) && !submodules.has(p) && existsSync(join(root, p)),
  );
  return {
    root,
    head,
    branch: branchR.exitCode === 0 ? branchR.stdout.trim() : null,
    tracked: [...tracked],
    changed,
    deleted: [...deleted],
    untracked: split0(untrackedR.stdout),
    submodules: [...submodules],
    identity: { name: nameR.stdout.trim() || null, email: emailR.stdout.trim() || null },
  };
}

/** Sum of the sizes of `paths` under `root` (symlinks count as themselves). */
export function totalBytes(root: string, paths: readonly string[]): number {
  let n = 0;
  for (const p of paths) {
    try {
      n += lstatSync(join(root, p)).size;
    } catch {
      /* vanished meanwhile */
    }
  }
  return n;
}

/**
 * Every regular file and symlink under `root`, repo-relative and sorted, .git and ignored
 * files included (what `--mode full_copy` sends); symlinks are listed, never followed.
 */
export function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else if (e.isFile() || e.isSymbolicLink()) out.push(p);
    }
  };
  walk('');
  return out.sort();
}

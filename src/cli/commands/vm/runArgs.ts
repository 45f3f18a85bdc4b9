/**
 * How `vm run` reads its command line beyond what commander parses: commander drops the
 * literal `--` and offers the first word after it as [path], so the raw argv decides which
 * words are the repository and which the guest command. Pure, so it is unit-tested.
 */
import { commandAfterDashes } from '../../argv.js';
import { usageError } from '../../errors.js';

/** The options of `vm run` this reading judges. */
export interface RunFlags {
  rm?: boolean;
  detach?: boolean;
  includeUntracked?: boolean;
  dryRun?: boolean;
  branch?: string;
  from?: string;
}

export interface RunInvocation {
  /** The repository to copy: [path] when it was given before `--`. */
  repo: string | undefined;
  /** The guest command: the words after `--` (empty: a shell). */
  command: string[];
}

const REPO_ONLY = ['includeUntracked', 'dryRun', 'branch', 'from'] as const;

/** Reads `vm run`'s raw argv and commander's [path]; combinations that make no sense are usage errors. */
export function readRunInvocation(
  rawArgv: readonly string[],
  path: string | undefined,
  flags: RunFlags,
): RunInvocation {
  const command = commandAfterDashes(rawArgv);
  const dashes = rawArgv.indexOf('--');
  const beforeDashes = dashes < 0 ? rawArgv : rawArgv.slice(0, dashes);
  const repo = path !== undefined && beforeDashes.includes(path) ? path : undefined;
  if (!repo) {
    const stray = REPO_ONLY.find((k) => flags[k] !== undefined);
    if (stray) {
      const option = `--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      throw usageError(`${option} needs a repository path`, 'e.g. `banger vm run ./repo --dry-run`');
    }
  }
  if (flags.detach && flags.rm) {
    throw usageError('-d/--detach cannot be combined with --rm: a detached VM must outlive this command');
  }
  if (flags.detach && command.length) {
    throw usageError(
      '-d/--detach cannot be combined with a command: the command would need a terminal to report' + ' its status to',
    );
  }
  return { repo, command };
}

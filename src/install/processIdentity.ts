import { join } from 'node:path';
import type { Layout } from '../paths/index.js';
import { libDirOf } from './common.js';

/**
 * The fallback supervisor's records of the processes it started (rootPidFiles): root-owned,
 * in root's runtime directory. Never the daemon's own pid file in the owner's runtime dir,
 * which the owner can rewrite to name any process.
 */
export const helperPidFile = (l: Layout) => join(l.rootHelperRuntimeDir, 'helper.pid');
export const daemonPidRecord = (l: Layout) => join(l.rootHelperRuntimeDir, 'daemon.pid');

/**
 * The install's helper and daemon by command line, for processes a build without these
 * records started (their pid files hold no start time, or are the owner's): node running
 * this prefix's helper bundle (or `bangerd.js --root-helper`), or its `bangerd.js --system`.
 */
export const isHelperArgv = (prefix: string) => (argv: readonly string[]) => {
  const script = argv[1] ?? '';
  return (
    script.startsWith(`${libDirOf(prefix)}/`) &&
    (script.endsWith('/banger-root-helper.js') || (script.endsWith('/bangerd.js') && argv.includes('--root-helper')))
  );
};
export const isDaemonArgv = (prefix: string) => (argv: readonly string[]) => {
  const script = argv[1] ?? '';
  return (
    script.startsWith(`${libDirOf(prefix)}/`) &&
    script.endsWith('/bangerd.js') &&
    argv.includes('--system') &&
    !argv.includes('--root-helper') &&
    !argv.includes('--check-migrations')
  );
};
/** The fallback helper's log: in its root-owned runtime directory, out of the owner's reach. */
export const helperLog = (l: Layout) => join(l.rootHelperRuntimeDir, 'helper.log');

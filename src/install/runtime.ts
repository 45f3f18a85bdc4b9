/**
 * The Node.js runtime a build runs on (docs/howto/install.md). A release brings one beside its
 * bundle (`banger-<v>/runtime/node`, next to `dist/`); an installed build keeps it inside
 * (`PREFIX/lib/banger/<v>/runtime/node`), so the `current` flip of an update or a rollback
 * switches the bundle and its runtime together. Only `bin/node` and `LICENSE` are kept.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The runtime's binary, relative to the directory that holds `runtime/`. */
export const RUNTIME_NODE = join('runtime', 'node', 'bin', 'node');
/** What of a runtime is copied, relative to its `runtime/node`. */
export const RUNTIME_FILES = [join('bin', 'node'), 'LICENSE'] as const;

const isFile = (p: string) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/**
 * The runtime/node directory a build at `bundle` brings: inside it (an installed build), or
 * beside it (a release tree's or a checkout's `runtime/node` next to `dist/`); null without one.
 */
export function bundledRuntime(bundle: string): string | null {
  for (const dir of [join(bundle, 'runtime', 'node'), join(bundle, '..', 'runtime', 'node')])
    if (isFile(join(dir, 'bin', 'node'))) return dir;
  return null;
}

/** The node that runs the build at `dir`: its own runtime (inside it) when it has one, else this process's. */
export function nodeFor(dir: string): string {
  const own = join(dir, RUNTIME_NODE);
  return existsSync(own) ? own : process.execPath;
}

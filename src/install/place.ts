import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, type HostRunner } from '../system/index.js';
import { libDirOf } from './common.js';
import { bundledRuntime, RUNTIME_FILES, RUNTIME_NODE } from './runtime.js';

/** The commands the install puts in PREFIX/bin. */
const LAUNCHERS = ['banger', 'bangerd'] as const;
/** The line that marks a launcher as ours: uninstall removes only files carrying it. */
const LAUNCHER_MARK = '# banger launcher (system install)';

const realpathOr = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
};

/**
 * Copies a build to LIB/<name>, through <name>.new so a half copy never has the final name,
 * with the Node runtime it brings (bundledRuntime: inside it or beside it) in <name>/runtime/node.
 * A build that already is LIB/<name> (the installed CLI installing itself) stays as it is.
 */
export async function placeBuild(runner: HostRunner, lib: string, fromDist: string, name: string): Promise<void> {
  if (realpathOr(fromDist) !== null && realpathOr(fromDist) === realpathOr(join(lib, name))) return;
  const staging = join(lib, `${name}.new`);
  rmSync(staging, { recursive: true, force: true });
  await runner.run(['cp', '-R', fromDist, staging]);
  const runtime = bundledRuntime(fromDist);
  if (runtime && !existsSync(join(staging, 'runtime'))) {
    mkdirSync(join(staging, 'runtime', 'node', 'bin'), { recursive: true });
    for (const f of RUNTIME_FILES)
      if (existsSync(join(runtime, f))) await runner.run(['cp', join(runtime, f), join(staging, 'runtime', 'node', f)]);
  }
  await runner.run(['chmod', '-R', 'go+rX', staging]); // the owner's daemon runs it
  rmSync(join(lib, name), { recursive: true, force: true });
  renameSync(staging, join(lib, name));
}

/** Points LIB/current at `to` atomically (a new symlink renamed over the old one). */
export function flipCurrent(lib: string, to: string): void {
  rmSync(join(lib, 'current.new'), { force: true });
  symlinkSync(to, join(lib, 'current.new'));
  renameSync(join(lib, 'current.new'), join(lib, 'current'));
}

/**
 * Places the build at PREFIX/lib/banger/<version>, makes it `current`, and writes the
 * PREFIX/bin launchers, which run whatever `current` points at on its own runtime
 * (`current/runtime/node/bin/node`) when it brings one, else on `o.node`. Returns that node,
 * for the units.
 */
export async function placeInstall(
  runner: HostRunner,
  o: { prefix: string; bundleDir: string; version: string; node: string },
  progress?: (msg: string) => void,
): Promise<string> {
  const lib = libDirOf(o.prefix);
  mkdirSync(lib, { recursive: true, mode: 0o755 });
  mkdirSync(join(o.prefix, 'bin'), { recursive: true, mode: 0o755 });
  progress?.(`copying the build to ${join(lib, o.version)}`);
  await placeBuild(runner, lib, o.bundleDir, o.version);
  flipCurrent(lib, o.version);
  const current = join(lib, 'current');
  const node = existsSync(join(current, RUNTIME_NODE)) ? join(current, RUNTIME_NODE) : o.node;
  for (const name of LAUNCHERS) {
    writeFileAtomic(
      join(o.prefix, 'bin', name),
      `#!/bin/sh\n${LAUNCHER_MARK}\nexec "${node}" "${join(current, `${name}.js`)}" "$@"\n`,
      0o755,
    );
  }
  return node;
}

/** Removes the launchers placeInstall wrote (only files carrying its mark) and every build under PREFIX/lib/banger. */
export function removeInstall(prefix: string): void {
  for (const name of LAUNCHERS) {
    const p = join(prefix, 'bin', name);
    // Only our own launchers.
    if (existsSync(p) && readFileSync(p, 'utf8').includes(LAUNCHER_MARK)) rmSync(p);
  }
  rmSync(libDirOf(prefix), { recursive: true, force: true });
}

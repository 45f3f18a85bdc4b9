import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, type HostRunner } from '../system/index.js';
import { libDirOf } from './common.js';

/** The commands the install puts in PREFIX/bin. */
const LAUNCHERS = ['banger', 'bangerd'] as const;
/** The line that marks a launcher as ours: uninstall removes only files carrying it. */
const LAUNCHER_MARK = '# banger launcher (system install)';

/** Copies a build to LIB/<name>, through <name>.new so a half copy never has the final name. */
export async function placeBuild(runner: HostRunner, lib: string, fromDist: string, name: string): Promise<void> {
  const staging = join(lib, `${name}.new`);
  rmSync(staging, { recursive: true, force: true });
  await runner.run(['cp', '-R', fromDist, staging]);
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
 * PREFIX/bin launchers, which run `node` on whatever `current` points at.
 */
export async function placeInstall(
  runner: HostRunner,
  o: { prefix: string; bundleDir: string; version: string; node: string },
  progress?: (msg: string) => void,
): Promise<void> {
  const lib = libDirOf(o.prefix);
  mkdirSync(lib, { recursive: true, mode: 0o755 });
  mkdirSync(join(o.prefix, 'bin'), { recursive: true, mode: 0o755 });
  progress?.(`copying the build to ${join(lib, o.version)}`);
  await placeBuild(runner, lib, o.bundleDir, o.version);
  flipCurrent(lib, o.version);
  for (const name of LAUNCHERS) {
    writeFileAtomic(
      join(o.prefix, 'bin', name),
      `#!/bin/sh\n${LAUNCHER_MARK}\nexec "${o.node}" "${join(lib, 'current', `${name}.js`)}" "$@"\n`,
      0o755,
    );
  }
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

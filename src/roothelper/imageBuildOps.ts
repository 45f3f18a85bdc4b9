import { randomBytes } from 'node:crypto';
import { constants, fchmodSync, fchownSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { agentBinaryPath } from '../buildinfo/index.js';
import { buildImage, findImageEntry } from '../imagecat/index.js';
import { BangerError } from '../model/index.js';
import type { PrivParams, PrivResult } from '../privops/index.js';
import type { HostRunner } from '../system/index.js';
import { fdPathForChild, type FdDir } from '../system/index.js';
import { closeQuietly, ensureOwnerDir, openOwnerState, openRootState, type HelperScope } from './scope.js';

/** The files of a built image and the modes the owner gets them with (the root disk is shared and read-only). */
const IMAGE_FILES = [
  ['rootfs.ext4', 0o444],
  ['work-seed.ext4', 0o644],
] as const;

/**
 * Builds a catalog image for a daemon that is not root (mmdebstrap needs root). The build
 * runs entirely in root's own directory (`<root state>/build/<random>`), which the owner can
 * neither enter nor rename; the results are then copied into new files that root creates
 * (O_EXCL) in the owner's `images/<name>/` by descriptor and hands to the owner.
 */
export class ImageBuildOps {
  constructor(private readonly o: { runner: HostRunner; scope: HelperScope }) {}

  async build(p: PrivParams<'buildImage'>): Promise<PrivResult<'buildImage'>> {
    const entry = findImageEntry(p.name);
    if (!entry) throw new BangerError('bad_request', `"${p.name}" is not a catalog image`);
    const { scope, runner } = this.o;
    const scratchName = `img-${randomBytes(6).toString('hex')}`;
    const builds = openRootState(scope).use((root) => root.ensureDir('build', 0o700));
    try {
      builds.makeDir(scratchName, 0o700).close();
      // Every directory from / to here is root's and not writable by anyone else: names are safe.
      const scratch = join(scope.rootStateDir, 'build', scratchName);
      const built = await buildImage({
        runner,
        recipe: entry.recipe,
        agentBinary: agentBinaryPath(),
        dest: join(scratch, 'image'),
        scratchParent: scratch,
      });
      await handOverImage(runner, scope, p.name, join(scratch, 'image'));
      const dir = join(scope.ownerStateDir, 'images', p.name);
      return {
        rootfsPath: join(dir, 'rootfs.ext4'),
        workSeedPath: join(dir, 'work-seed.ext4'),
        sizeBytes: built.sizeBytes,
      };
    } finally {
      builds.removeTree(scratchName);
      builds.close();
    }
  }
}

/**
 * Copies a built image (in root's own directory) into fresh owner files `images/<name>/*`
 * in the owner's state directory: created by root with O_EXCL under its descriptor of that
 * directory (so never an existing file, never through a link), copied sparse through
 * /proc/PID/fd, then given to the owner.
 */
export async function handOverImage(
  runner: HostRunner,
  scope: HelperScope,
  name: string,
  builtDir: string,
): Promise<void> {
  const owner = openOwnerState(scope);
  let dir: FdDir | null = null;
  try {
    dir = ensureOwnerDir(owner, scope, 'images').use((images) => ensureOwnerDir(images, scope, name));
    for (const [file, mode] of IMAGE_FILES) {
      dir.unlink(file); // an earlier build's: the name only, never what it points at
      const fd = dir.openFile(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        await runner.run(['cp', '--sparse=always', join(builtDir, file), fdPathForChild(fd)], { timeoutMs: 600_000 });
        if (fstatSync(fd).size === 0)
          throw new BangerError('operation_failed', `copying ${file} to the owner left an empty file`);
        fchownSync(fd, scope.ownerUid, scope.ownerGid);
        fchmodSync(fd, mode);
      } finally {
        closeQuietly(fd);
      }
    }
  } finally {
    dir?.close();
    owner.close();
  }
}

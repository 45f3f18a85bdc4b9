import {
  cloneDisk,
  createRootOverlay,
  createWorkDisk,
  dmSnapshotCowArgv,
  layerOnFrozenRoot,
  linkOrClone,
} from '../../../vmdisk/index.js';
import type { CreateStep } from './state.js';

/**
 * The VM's disks: its root layer by strategy (the copy-on-write file of a dm-snapshot, a
 * qcow2 overlay or a raw copy of the image) and its work disk from the image's seed; for a
 * warm create, layers over the template's frozen disks instead: the root a qcow2 overlay
 * backed by the VM's own hard link to the template's root (so the template may go at any
 * time), or a clone of a raw one; the work disk a clone (reflinked where the filesystem
 * can, else sparse). They live in the VM's directory, whose removal undoes them.
 */
export const disksCreate: CreateStep = {
  name: 'disksCreate',
  async run(s) {
    const { runner } = s.env.d;
    const {
      record: { rootOverlay, spec },
      files,
      image,
      template,
    } = s;
    if (template) {
      if (template.shape.rootFormat === 'raw') await cloneDisk(runner, template.paths.root, files.rootfsCopy);
      else {
        // The layer backs onto the VM's own link to the frozen root, not the template's path.
        await linkOrClone(runner, template.paths.root, files.frozenRoot);
        await layerOnFrozenRoot(runner, files.frozenRoot, files.rootfsOverlay, 'qcow2');
      }
      await cloneDisk(runner, template.paths.work, files.workDisk);
      return;
    }
    if (rootOverlay === 'dm-snapshot')
      await runner.run(dmSnapshotCowArgv(files.rootfsCow, spec.systemOverlaySizeBytes));
    else
      await createRootOverlay(
        runner,
        image.rootfsPath,
        rootOverlay === 'copy' ? files.rootfsCopy : files.rootfsOverlay,
        spec.systemOverlaySizeBytes,
        rootOverlay,
      );
    await createWorkDisk(runner, image.workSeedPath, files.workDisk, spec.diskSizeBytes);
  },
};

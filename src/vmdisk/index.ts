export { writeExt4Files, parseDebugfsStat, type Ext4File, type Ext4WriteOptions } from './ext4Files.js';
export {
  cloneDisk,
  createRootOverlay,
  createWorkDisk,
  growWorkDisk,
  layerOnFrozenRoot,
  linkOrClone,
  repointBacking,
  writeWorkDiskFiles,
  type WorkDiskFile,
} from './vmDisks.js';
export {
  dmDevice,
  dmName,
  dmSnapshotCowArgv,
  dmSnapshotCreate,
  dmSnapshotTable,
  dmSnapshotTeardown,
  parseSnapshotTable,
} from './dmSnapshot.js';

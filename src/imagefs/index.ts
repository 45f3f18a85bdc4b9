/**
 * OCI layers into an ext4 root filesystem, as the owner and never as root, safely against
 * hostile layers (issue 15 §2): flattenLayers extracts into a caller-made 0700 directory
 * and returns the model (TreeMeta) of what the host tree cannot carry; addTreeFile /
 * addTreeSymlink inject banger's files; buildExt4 makes the image (mkfs.ext4 -d plus
 * debugfs fix-ups, read back). The caller removes the tree directory afterwards.
 */
export {
  flattenLayers,
  DEFAULT_FLATTEN_LIMITS,
  type LayerInput,
  type FlattenLimits,
  type FlattenProgress,
  type FlattenResult,
} from './flatten.js';
export { addTreeFile, addTreeSymlink, readTreeFile, treeEntryKind } from './treeFiles.js';
export { buildExt4 } from './ext4Build.js';
export type { TreeMeta, TreeNode, InodeMeta } from './treeMeta.js';

export { inspectRepo, listTree, totalBytes, type RepoInfo } from './repo.js';
export {
  planWorkspace,
  planFullCopy,
  guestFullCopyScript,
  guestPrepareScript,
  guestExportScript,
  guestExecCommand,
  GUEST_PATH,
  incomingDir,
  META_DIR,
  MISE_FILES,
  type WorkspaceOptions,
  type WorkspacePlan,
} from './plan.js';
export { sendWorkspace, type SendResult } from './transfer.js';
export { planFileSync, readFileSyncItems, renderGitConfig, type FileSyncItem, type FileSyncPlan } from './fileSync.js';

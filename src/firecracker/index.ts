export {
  buildFirecrackerConfig,
  firecrackerAgentEndpoint,
  guestCid,
  type ApiCall,
  type FirecrackerPaths,
} from './config.js';
export { FirecrackerApi } from './apiClient.js';
export {
  judgeFirecrackerVersion,
  parseFirecrackerVersion,
  MIN_FIRECRACKER,
  TESTED_FIRECRACKER,
  type VersionVerdict,
} from './version.js';
export { extractVmlinux, cachedVmlinux, headerPayloadOffset, isElf, PAYLOAD_FORMATS } from './vmlinux.js';
export {
  IN_JAIL,
  isJailedFirecracker,
  planJailer,
  sameFilesystemProblem,
  UNIX_PATH_MAX,
  type JailerInput,
  type JailerPlan,
} from './jailer.js';
export { FirecrackerDriver, type FirecrackerDriverOptions } from './driver.js';
export {
  describeSaved,
  parseSaved,
  pauseCall,
  PLAIN,
  restoreProblem,
  snapshotCreateCall,
  snapshotLoadCall,
  SNAPSHOT_META_FORMAT,
  STATE_FILES,
  stateFiles,
  type SavedFirecracker,
} from './snapshot.js';

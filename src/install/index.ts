export { systemInstall } from './installer.js';
export { systemRestart } from './lifecycle.js';
export { systemStatus } from './status.js';
export { systemUninstall } from './uninstall.js';
export {
  detectSupervisor,
  readInstall,
  libDirOf,
  type StatusRow,
  type Supervisor,
  type SystemDeps,
} from './common.js';
export { placeBuild, flipCurrent } from './place.js';
export { bundledRuntime, nodeFor, RUNTIME_FILES, RUNTIME_NODE } from './runtime.js';
export { helperPidFile, daemonPidRecord } from './processIdentity.js';
export {
  findProcesses,
  processStartTime,
  readPidRecord,
  recordedProcess,
  stopRecordedProcess,
  supervisedProcess,
  writePidRecord,
  type PidRecord,
} from './rootPidFiles.js';
export {
  renderDaemonUnit,
  renderHelperUnit,
  DAEMON_UNIT,
  HELPER_UNIT,
  HELPER_CAPABILITIES,
  HELPER_NAMESPACES,
  DENIED_SYSCALL_GROUPS,
  FIXED_PATH,
  commonParent,
  helperWritablePaths,
  type UnitInput,
} from './units.js';
export { renderInstallToml, parseInstallToml, type InstallRecord } from '../installmeta/index.js';

export { systemInstall, systemRestart, systemStatus, systemUninstall, detectSupervisor, readInstall, libDirOf, placeBuild, flipCurrent, helperPidFile, daemonPidRecord, type StatusRow, type Supervisor, type SystemDeps } from './installer.js';
export { findProcesses, processStartTime, readPidRecord, recordedProcess, stopRecordedProcess, supervisedProcess, writePidRecord, type PidRecord } from './rootPidFiles.js';
export { renderDaemonUnit, renderHelperUnit, DAEMON_UNIT, HELPER_UNIT, HELPER_CAPABILITIES, HELPER_NAMESPACES, DENIED_SYSCALL_GROUPS, FIXED_PATH, commonParent, helperWritablePaths, type UnitInput } from './units.js';
export { renderInstallToml, parseInstallToml, type InstallRecord } from '../installmeta/index.js';

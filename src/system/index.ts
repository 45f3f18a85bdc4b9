export { writeFileAtomic } from './atomicWrite.js';
export { acceptsConnections, sleep, waitForExit, type WaitForExitOptions } from './wait.js';
export {
  ExecHostRunner,
  CommandError,
  which,
  type HostRunner,
  type PipeResult,
  type RunOptions,
  type RunResult,
} from './hostRunner.js';
export {
  ProcessSupervisor,
  ChildExitedError,
  readLogTail,
  writePidFile,
  readPidFile,
  removePidFile,
  isProcessAlive,
  processState,
  processCmdline,
  processIdentity,
  processName,
  type ProcessIdentity,
  type StartSpec,
  type StartedProcess,
  type WaitReadyOptions,
} from './processSupervisor.js';
export {
  hostcalls,
  AT_FDCWD,
  O_PATH,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  RESOLVE_BENEATH,
  RESOLVE_NO_MAGICLINKS,
  RESOLVE_NO_SYMLINKS,
  RESOLVE_NO_XDEV,
  type Hostcalls,
} from './hostcalls.js';
export { FdDir, fdPathForChild, plainName, plainRelative, removeTreeAt, requireOwnersFile } from './fdDir.js';
export { ensureRootOwnedDir, pathComponents, rootOnlyProblem } from './rootDirs.js';
export { runEntry } from './entry.js';

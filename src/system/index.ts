export { writeFileAtomic } from './atomicWrite.js';
export { ExecHostRunner, CommandError, which, type HostRunner, type PipeResult, type RunOptions, type RunResult } from './hostRunner.js';
export {
  ProcessSupervisor, ChildExitedError, readLogTail, writePidFile, readPidFile, removePidFile, isProcessAlive, processState, processCmdline, processIdentity,
  type StartSpec, type StartedProcess, type WaitReadyOptions,
} from './processSupervisor.js';

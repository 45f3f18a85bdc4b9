export { startDaemon, type RunningDaemon, type StartDaemonOptions, type StartResult } from './daemon.js';

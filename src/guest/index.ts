export {
  ensureClientKey, generateHostKey, hostAlias, pinHostKey, unpinHostKey, sshOptions, sshArgv, describeSshFailure, waitForTcp,
  type SshTarget,
} from './ssh.js';

export {
  ensureClientKey,
  generateHostKey,
  hostAlias,
  pinHostKey,
  unpinHostKey,
  sshOptions,
  sshArgv,
  sshShellArgv,
  shellQuote,
  describeSshFailure,
  waitForTcp,
  probeTcp,
  type SshTarget,
} from './ssh.js';
export {
  renderBangerSshConfig,
  installInclude,
  uninstallInclude,
  includeBlock,
  hasInclude,
  type SshConfigVm,
} from './sshConfig.js';

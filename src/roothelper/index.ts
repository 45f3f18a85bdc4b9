/**
 * The root helper: the in-process implementation of the declared privileged surface
 * (privops/), the helper's server and client, and the descriptor-based file work root does.
 */
export {
  InProcessPrivilegedOps,
  UnavailablePrivilegedOps,
  detectJailBins,
  type InProcessPrivilegedOpsOptions,
} from './inProcessPrivilegedOps.js';
export { isGuestAddress, parseTapList, resolvedRoutingArgv } from './networkOps.js';
export * as validate from './validate.js';
export {
  natAddScript,
  natDeleteScript,
  vmRuleHandles,
  vmRuleComment,
  ruleHandles,
  hasVmRules,
  bridgeRuleComment,
} from './nftNat.js';
export { RootHelperServer, type RootHelperOptions } from './helperServer.js';
export { RemotePrivilegedOps } from './helperClient.js';
export { peerCredentials, type PeerCred } from './peerCred.js';
export { HELPER_PROTOCOL_VERSION, type HelperRequest, type HelperResponse } from './helperProtocol.js';
export { deviceNumbers, JailOps, type JailBins } from './jailOps.js';
export { deviceMapperAvailable, loopsBackedBy, parseLoopList, RootSnapshotOps } from './rootSnapshotOps.js';
export { FdDir, fdPathForChild, plainName, plainRelative, requireOwnersFile } from '../system/index.js';
export { DNS_DOMAIN, jailBaseOf, pinnedSettings, type HelperScope } from './scope.js';
export { handOverImage, ImageBuildOps } from './imageBuildOps.js';
export {
  firecrackerIdArg,
  isJailedFirecrackerOf,
  jailedExecPath,
  qemuVmIdArg,
  runsAs,
  runsExecutable,
  vmmVmId,
} from './vmmIdentity.js';

export { ALLOWED_SIGNALS, PRIV_OPERATIONS, type PrivilegedOps, type PrivContext, type AllowedSignal, type TapInfo } from './privilegedOps.js';
export { InProcessPrivilegedOps, UnavailablePrivilegedOps, parseTapList, resolvedRoutingArgv, type InProcessPrivilegedOpsOptions } from './inProcessPrivilegedOps.js';
export { parseDebugfsStat } from '../vmdisk/index.js';
export * as validate from './validate.js';
export { natAddScript, natDeleteScript, vmRuleHandles, vmRuleComment, ruleHandles, hasVmRules, bridgeRuleComment } from './nftNat.js';
export { RootHelperServer, type RootHelperOptions } from './helperServer.js';
export { RemotePrivilegedOps } from './helperClient.js';
export { peerCredentials, type PeerCred } from './peerCred.js';
export { HELPER_PROTOCOL_VERSION, METHOD_BY_WIRE_NAME, type HelperRequest, type HelperResponse } from './helperProtocol.js';

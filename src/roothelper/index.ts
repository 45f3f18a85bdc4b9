export { ALLOWED_SIGNALS, PRIV_OPERATIONS, type PrivilegedOps, type PrivContext, type AllowedSignal } from './privilegedOps.js';
export { InProcessPrivilegedOps, UnavailablePrivilegedOps, type InProcessPrivilegedOpsOptions } from './inProcessPrivilegedOps.js';
export { parseDebugfsStat } from '../vmdisk/index.js';
export * as validate from './validate.js';
export { natAddScript, natDeleteScript, vmRuleHandles, vmRuleComment } from './nftNat.js';

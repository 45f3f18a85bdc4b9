export { VmDnsServer, type VmDnsServerOptions } from './vmDnsServer.js';
export {
  answerVmQuery,
  upstreamsFrom,
  portOwnerFromSs,
  isVmName,
  VM_TTL_SECONDS,
  RCODE,
  type RunningVmLookup,
} from './answer.js';
export { resolvedPresent, routesVmDomain, dnsRecipes } from './resolved.js';

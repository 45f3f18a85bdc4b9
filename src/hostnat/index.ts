export { allocateGuestIp, macForVm, tapNameForVm, ipToInt, intToIp } from './addressing.js';
export { planNatUp, planNatDown, uplinkFromRoutes, type NatStep, type NatPlan, type NatHostState } from './natPlan.js';

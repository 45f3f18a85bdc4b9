export { allocateGuestIp, macForVm, tapNameForVm, ipToInt, intToIp } from './addressing.js';

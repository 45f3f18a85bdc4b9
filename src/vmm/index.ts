export type { BootSpec, GuestNetwork, StartedVmm, VmmDriver } from './vmmDriver.js';

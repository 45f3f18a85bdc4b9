export type { BootSpec, GuestNetwork, StartedVmm, VmmDriver } from './vmmDriver.js';
export {
  chooseRootOverlay,
  kvmVerdict,
  selectVmm,
  type RootOverlaySetting,
  type VmmChoice,
  type VmmFacts,
  type VmmSetting,
} from './select.js';

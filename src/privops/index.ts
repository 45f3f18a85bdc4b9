/**
 * The privileged surface (a leaf module: it imports only model/): what root does for the
 * owner's daemon, declared once. The root helper implements it; the daemon, the Firecracker
 * driver and the tests depend only on this contract.
 */
export {
  ALLOWED_SIGNALS,
  JAIL_DEVICE_NAMES,
  JAIL_FILE_NAMES,
  PINNED_SETTINGS,
  PRIV_METHOD_BY_WIRE,
  PRIV_METHOD_NAMES,
  PRIV_METHODS,
  TAP_INFO,
  type AllowedSignal,
  type PinnedSettings,
  type PrivContext,
  type PrivilegedOps,
  type PrivMethod,
  type PrivParams,
  type PrivResult,
  type TapInfo,
} from './surface.js';
export { opsFrom, parsePrivParams, validatingOps } from './validating.js';

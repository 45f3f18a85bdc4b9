/**
 * Names banger gives host network devices, in one place: the config schema and defaults,
 * the install record, the daemon, the root helper's validators and the tap names all use
 * these. Linux limits interface names to 15 bytes (IFNAMSIZ less its NUL).
 */
export const IFNAMSIZ_MAX = 15;
/** The bridge of a default install and config. */
export const DEFAULT_BRIDGE_NAME = 'br-fc';
/** `br-fc`, or `br-fc-<suffix>` for a second daemon or a test. */
export const BRIDGE_NAME_PATTERN = /^br-fc(-[a-z0-9-]{1,9})?$/;
/** Every tap banger makes starts so; no host interface of the user's may. */
export const TAP_FAMILY_PREFIX = 'tap-';
/** A VM's own tap (`tap-fc-<vm id>`) or a warm pool tap (`tap-pool-<n>`). */
export const TAP_NAME_PATTERN = /^tap-(fc|pool)-[a-z0-9]{1,8}$/;
export const VM_TAP_PREFIX = 'tap-fc-';
export const POOL_TAP_PREFIX = 'tap-pool-';

export const isBridgeName = (name: string) => BRIDGE_NAME_PATTERN.test(name);
export const isTapName = (name: string) => TAP_NAME_PATTERN.test(name) && name.length <= IFNAMSIZ_MAX;
/** A VM's own tap: `tap-fc-<vm id>` (8 hex characters, so it fits IFNAMSIZ). */
export const vmTapName = (vmId: string) => `${VM_TAP_PREFIX}${vmId}`;

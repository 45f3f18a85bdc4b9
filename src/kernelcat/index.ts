export {
  KERNEL_CATALOG,
  KERNEL_CATALOG_VERSION,
  DEFAULT_KERNEL_NAME,
  findKernelEntry,
  type KernelCatalogEntry,
} from './catalog.js';
export { pullDebianKernel, kernelPackageFromDepends } from './kernelPuller.js';
export { buildInitramfs } from './initramfsBuilder.js';
export { renderInitScript } from './initScript.js';
export { INITRAMFS_MODULES, orderModules, parseModulesDep, moduleName } from './moduleOrder.js';
export { readCpio, writeCpio } from './cpio.js';
export { refreshInitramfs } from './initramfsRefresh.js';

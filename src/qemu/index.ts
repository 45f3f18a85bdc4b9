export { QemuDriver, type QemuDriverOptions } from './qemuDriver.js';
export { buildQemuArgv, kernelCommandLine, type Accel } from './argv.js';
export { QmpClient } from './qmpClient.js';
export { decideAccel, readAccelFacts, rememberAccel, type AccelFacts } from './accel.js';
export { tscKhzFrom, hostTscKhz } from './hostTsc.js';

export * from './vmName.js';
export * from './size.js';
export * from './duration.js';
export * from './vm.js';
export * from './spec.js';
export * from './exitCodes.js';
export * from './errors.js';
export * from './version.js';

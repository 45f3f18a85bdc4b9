export * from './layout.js';
export { ensurePrivateDir } from './runtimeDir.js';
export { resolveLayout, resolveMode } from './resolve.js';

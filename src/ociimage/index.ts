/** Importing OCI images as banger images: detection, injection, naming, and the import itself. */
export { type DetectedImage, detectImage, parseOsRelease, type TreeProbe } from './detect.js';
export { type ImportedImage, importOciImage } from './importer.js';
export { describeInjection, INJECTED_AGENT_PATH, INJECTED_INIT_PATH, NEXT_INIT_PATH, planInjection } from './inject.js';
export { formatLayerProgress } from './layerFetch.js';
export { imageNameForRef } from './naming.js';
export { sshdEnsureScript } from './sshdInstall.js';
export { runImportWorker } from './worker.js';

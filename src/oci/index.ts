/**
 * OCI images from registries: references, the distribution v2 client (auth, manifests,
 * platform selection, verified documents) and the content-addressed, verified blob cache.
 */
export { parseImageRef, isLoopbackRegistry, type ImageRef } from './ref.js';
export type { Descriptor } from './manifest.js';
export type { ImageConfigSummary } from './imageConfig.js';
export { RegistryClient, type RegistryClientOptions, type ResolvedImage } from './client.js';
export { BlobCache } from './blobCache.js';
export { formatBlobProgress, type BlobProgress } from './progress.js';

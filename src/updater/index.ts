/** `banger update` and the release build (with its Node runtime and release site): manifest, capped same-origin downloads, signatures, staging, swap and rollback. */
export { buildRelease, type ReleaseInput, type ReleaseOutput } from './release.js';
export { runUpdate } from './update.js';
export {
  fetchNodeRuntime,
  nodeCacheDir,
  pinnedNodeRuntime,
  pinnedNodeVersion,
  sri512,
  unpackNodeRuntime,
} from './nodeRuntime.js';
export { addToManifest, INSTALLER_KEY_LINE, publishedInstaller, publicKeyOf, releaseDirName, siteOf } from './site.js';
export type { UpdateDeps, UpdateOptions } from './deps.js';
export { makeStagingDir } from './stage.js';
export { newDoctorFailures } from './swap.js';
export {
  compareVersions,
  parseManifest,
  RELEASE_VERSION_PATTERN,
  requireReleaseVersion,
  type Manifest,
  type ManifestRelease,
} from './manifest.js';
export {
  parseSums,
  releasePublicKey,
  renderSums,
  sha256Hex,
  signedTarballHash,
  signSums,
  tarballName,
  verifySums,
} from './signing.js';
export { CAPS, fetchCapped, MAX_REDIRECTS, redirectTarget } from './download.js';

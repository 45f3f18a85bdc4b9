/** `banger update` and the release build: manifest, capped same-origin downloads, signatures, staging, swap and rollback. */
export { buildRelease, type ReleaseInput, type ReleaseOutput } from './release.js';
export { CAPS, makeStagingDir, newDoctorFailures, runUpdate, type UpdateDeps, type UpdateOptions } from './update.js';
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
export { fetchCapped, MAX_REDIRECTS, redirectTarget } from './download.js';

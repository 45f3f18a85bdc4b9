/**
 * The image name a pull gets when the user gives none: the repository's last component
 * and the tag (or the digest's first 12 hex digits), lower-cased and reduced to what an
 * image name may hold (artifactNameSchema: letters, digits, '.', '_', '-').
 * `docker.io/library/debian:bookworm` becomes `debian-bookworm`.
 */
export function imageNameForRef(ref: { repository: string; tag: string | null; digest: string | null }): string {
  const base = ref.repository.split('/').pop() ?? ref.repository;
  const suffix = ref.tag ?? (ref.digest ? ref.digest.replace(/^sha256:/, '').slice(0, 12) : 'latest');
  const name = `${base}-${suffix}`
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63)
    .replace(/[^a-z0-9]+$/, '');
  return name || 'image';
}

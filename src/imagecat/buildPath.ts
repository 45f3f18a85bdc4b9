/**
 * Which way this host makes the default image (docs/howto/images.md), decided in one place
 * for the daemon and for `banger doctor`:
 *   - mmdebstrap: from the host's Debian mirror, as root (a root daemon, or a system
 *     install's root helper); the faster path where it can run.
 *   - oci: `default_image_oci_base` pulled as the owner, then the recipe applied inside a
 *     builder VM with NAT; any Linux host, no root.
 */
export type DefaultImageSource = 'auto' | 'mmdebstrap' | 'oci';
export type DefaultImagePath = 'mmdebstrap' | 'oci';

export interface BuildHost {
  hasMmdebstrap: boolean;
  /** A root daemon, or a system install whose root helper runs mmdebstrap. */
  canRunAsRoot: boolean;
}

export function defaultImagePath(source: DefaultImageSource, host: BuildHost): DefaultImagePath {
  if (source !== 'auto') return source;
  return host.hasMmdebstrap && host.canRunAsRoot ? 'mmdebstrap' : 'oci';
}

/** One line for doctor: the path and why. */
export function describeDefaultImagePath(source: DefaultImageSource, host: BuildHost, ociBase: string): string {
  const path = defaultImagePath(source, host);
  const why =
    source !== 'auto'
      ? `default_image_source = "${source}"`
      : path === 'mmdebstrap'
        ? 'mmdebstrap is installed and banger can run it as root'
        : !host.hasMmdebstrap
          ? 'mmdebstrap is not installed'
          : 'banger does not run as root here (no system install)';
  return path === 'mmdebstrap'
    ? `mmdebstrap from the host's Debian mirror (${why})`
    : `${ociBase} plus the recipe in a builder VM with NAT (${why})`;
}

/** The install record (/etc/banger/install.toml): a leaf module read by the installer, the updater and the root helper. */
export { DEFAULT_PINNED_NETWORK, parseInstallToml, renderInstallToml, type InstallRecord } from './installToml.js';

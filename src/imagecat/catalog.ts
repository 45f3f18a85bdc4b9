import { DEFAULT_KERNEL_NAME } from '../kernelcat/index.js';
import { DEBIAN_BOOKWORM_RECIPE, type ImageRecipe } from './recipe.js';

/** The embedded image catalog (versioned with the binary). */
export interface ImageCatalogEntry {
  name: string;
  distro: string;
  arch: 'x86_64';
  kernelRef: string;
  /** Built locally from the host's Debian mirror. Bundles with pinned sha256 come later. */
  recipe: ImageRecipe;
}

export const IMAGE_CATALOG_VERSION = 1;

export const IMAGE_CATALOG: readonly ImageCatalogEntry[] = [
  {
    name: 'debian-bookworm',
    distro: 'debian-12',
    arch: 'x86_64',
    kernelRef: DEFAULT_KERNEL_NAME,
    recipe: DEBIAN_BOOKWORM_RECIPE,
  },
];

export function findImageEntry(name: string): ImageCatalogEntry | undefined {
  return IMAGE_CATALOG.find((e) => e.name === name);
}

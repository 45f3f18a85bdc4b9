export { IMAGE_CATALOG, IMAGE_CATALOG_VERSION, findImageEntry, type ImageCatalogEntry } from './catalog.js';
export { DEBIAN_BOOKWORM_RECIPE, type ImageRecipe } from './recipe.js';
export { buildImage, applyRecipe, ext4SizeFor, type BuiltImage } from './imageBuilder.js';

export { IMAGE_CATALOG, IMAGE_CATALOG_VERSION, findImageEntry, type ImageCatalogEntry } from './catalog.js';
export { agentUnit, DEBIAN_BOOKWORM_RECIPE, type ImageRecipe } from './recipe.js';
export { buildImage, applyRecipe, ext4SizeFor, type BuiltImage } from './imageBuilder.js';
export { renderRecipeScript, type RecipeScriptOptions } from './recipeScript.js';
export {
  type BuildHost,
  type DefaultImagePath,
  type DefaultImageSource,
  defaultImagePath,
  describeDefaultImagePath,
} from './buildPath.js';

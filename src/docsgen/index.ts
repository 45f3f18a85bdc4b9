export { REFERENCE_PAGES, renderConfigReference, renderRpcReference, renderExitCodeReference } from './render.js';

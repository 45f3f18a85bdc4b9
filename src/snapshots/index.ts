export {
  guestShapeSchema,
  readShape,
  restoreSpec,
  shapeFileIn,
  shapeOf,
  writeShape,
  type GuestShape,
} from './shape.js';
export { specInputs, templateKey, type TemplateInputs } from './templateKey.js';
export {
  allocatedBytes,
  rootFormatFor,
  templatePaths,
  TemplateStore,
  type Template,
  type TemplateMeta,
  type TemplatePaths,
} from './templateStore.js';

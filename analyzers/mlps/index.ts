export { defaultMlpsCatalogPath, MlpsCatalog, loadMlpsCatalog, parseMlpsCatalog } from './catalog.js';
export type { Bilingual, MlpsAreaKey, MlpsControl, MlpsItem, MlpsLevel, MlpsRequirementRef } from './catalog.js';
export { MlpsErrors } from './errors.js';

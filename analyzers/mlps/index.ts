export { defaultMlpsCatalogPath, MlpsCatalog, loadMlpsCatalog, parseMlpsCatalog } from './catalog.js';
export type { Bilingual, MlpsAreaKey, MlpsControl, MlpsItem, MlpsLevel } from './catalog.js';
export { MlpsErrors } from './errors.js';

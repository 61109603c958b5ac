import { join } from 'node:path';
import { CoreErrors, type Config } from '../core/index.js';
import { EmbeddedStore } from './embedded/embedded-store.js';
import type { Store } from './ports.js';

/** Opens the store the config names. */
export async function openStore(config: Config): Promise<Store> {
  if (config.store === 'embedded') {
    return new EmbeddedStore({ path: config.embedded.path ?? join(config.dataDir, 'shouwang.db') });
  }
  throw CoreErrors.configInvalid('store', '  - store: the elasticsearch adapter is not built yet; use "embedded"');
}

import { join } from 'node:path';
import { CoreErrors, type Config } from '../core/index.js';
import { EmbeddedStore } from './embedded/embedded-store.js';
import { ElasticsearchStore } from './elasticsearch/elasticsearch-store.js';
import type { Store } from './ports.js';

/** Opens the store the config names. */
export async function openStore(config: Config): Promise<Store> {
  if (config.store === 'embedded') {
    return new EmbeddedStore({ path: config.embedded.path ?? join(config.dataDir, 'shouwang.db'), queryTimeoutMs: config.embedded.queryTimeoutMs });
  }
  const { url, nodes, sniff, shards, replicas, indexPrefix, username, password } = config.elasticsearch;
  if (!url && !nodes) {
    throw CoreErrors.configInvalid('store', '  - elasticsearch.url (SHOUWANG_ELASTICSEARCH_URL) or elasticsearch.nodes (SHOUWANG_ELASTICSEARCH_NODES): required when store is "elasticsearch", got nothing');
  }
  return ElasticsearchStore.open({
    ...(nodes ? { nodes } : { url }), sniff, shards, ...(replicas !== undefined ? { replicas } : {}), indexPrefix,
    ...(username ? { username, password: password ?? '' } : {}),
  });
}

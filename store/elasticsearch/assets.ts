import { randomUUID } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import type { BusinessSystem, Department, Inventory } from '../../core/index.js';
import { StoreErrors } from '../errors.js';
import type { AssetStore, Scope } from '../ports.js';
import type { IndexNames } from './indices.js';
import { bool, scopeClause } from './query.js';
import { call } from './translate.js';

interface AssetDoc {
  kind: 'department' | 'system';
  id: string;
  department: string;
  position: number;
  generation: string;
  doc: Department | BusinessSystem;
}

export class ElasticsearchAssetStore implements AssetStore {
  readonly #client: Client;
  readonly #index: string;

  constructor(client: Client, names: IndexNames) {
    this.#client = client;
    this.#index = names.assets;
  }

  /** Writes the new inventory as a generation, then removes every other generation. */
  async replaceInventory(inventory: Inventory): Promise<void> {
    const generation = randomUUID();
    const docs: AssetDoc[] = [
      ...inventory.departments.map((d, position) => ({ kind: 'department' as const, id: d.id, department: d.id, position, generation, doc: d })),
      ...inventory.systems.map((s, position) => ({ kind: 'system' as const, id: s.id, department: s.department, position, generation, doc: s })),
    ];
    if (docs.length) {
      const operations = docs.flatMap((doc) => [{ index: { _index: this.#index, _id: `${doc.kind}:${doc.id}` } }, doc]);
      const response = await call(() => this.#client.bulk({ operations, refresh: 'wait_for' }));
      const failed = response.items.find((item) => item.index?.error);
      if (failed) throw StoreErrors.unavailable(`inventory write failed: ${failed.index?.error?.reason}`);
    }
    await call(() => this.#client.deleteByQuery({
      index: this.#index, query: { bool: { must_not: [{ term: { generation } }] } }, refresh: true, conflicts: 'proceed',
    }));
  }

  async getInventory(scope?: Scope): Promise<Inventory> {
    const read = async <T>(kind: AssetDoc['kind']): Promise<T[]> => {
      const response = await call(() => this.#client.search<AssetDoc>({
        index: this.#index,
        query: bool([{ term: { kind } }, ...scopeClause('department', scope)]),
        sort: [{ position: 'asc' }],
        size: 10_000,
      }));
      return response.hits.hits.map((hit) => hit._source!.doc as T);
    };
    return { departments: await read<Department>('department'), systems: await read<BusinessSystem>('system') };
  }
}

import { Client } from '@elastic/elasticsearch';
import type { Store } from '../ports.js';
import { ElasticsearchAlertStore } from './alerts.js';
import { ElasticsearchAssetStore } from './assets.js';
import { ElasticsearchAuditTrailStore } from './audit-trail.js';
import { ElasticsearchEventStore } from './events.js';
import { ensureIndices, IndexNames, type IndexLayout } from './indices.js';
import { ElasticsearchJobResultStore } from './job-results.js';
import { call } from './translate.js';
import { ElasticsearchSessionStore, ElasticsearchUserStore } from './users.js';

export interface ElasticsearchStoreOptions extends IndexLayout {
  /** One URL, e.g. a load balancer or proxy in front of the cluster ... */
  url?: string;
  /** ... or the cluster's nodes: the client spreads requests over them and skips a dead one until it answers again. */
  nodes?: readonly string[];
  /**
   * Learn the nodes from the cluster (at start, every minute, after a failure). Off by default: behind a proxy or
   * load balancer the addresses nodes publish are not reachable, and the node list is what the operator gave.
   */
  sniff?: boolean;
  indexPrefix: string;
  username?: string;
  password?: string;
  requestTimeoutMs?: number;
}

/** The scale-out store: events in monthly indices, alerts, assets, results and the audit trail beside them. */
export class ElasticsearchStore implements Store {
  readonly kind = 'elasticsearch';
  readonly events: ElasticsearchEventStore;
  readonly alerts: ElasticsearchAlertStore;
  readonly assets: ElasticsearchAssetStore;
  readonly jobResults: ElasticsearchJobResultStore;
  readonly audit: ElasticsearchAuditTrailStore;
  readonly users: ElasticsearchUserStore;
  readonly sessions: ElasticsearchSessionStore;
  readonly client: Client;
  readonly names: IndexNames;
  #closing: Promise<void> | undefined;

  private constructor(client: Client, names: IndexNames) {
    this.client = client;
    this.names = names;
    this.events = new ElasticsearchEventStore(client, names);
    this.alerts = new ElasticsearchAlertStore(client, names);
    this.assets = new ElasticsearchAssetStore(client, names);
    this.jobResults = new ElasticsearchJobResultStore(client, names);
    this.audit = new ElasticsearchAuditTrailStore(client, names);
    this.users = new ElasticsearchUserStore(client, names);
    this.sessions = new ElasticsearchSessionStore(client, names);
  }

  /** Connects and makes sure the index template and fixed indices exist. */
  static async open(options: ElasticsearchStoreOptions): Promise<ElasticsearchStore> {
    const nodes = options.nodes?.length ? [...options.nodes] : options.url;
    if (!nodes) throw new TypeError('ElasticsearchStore.open needs a url or nodes');
    const client = new Client({
      nodes,
      ...(options.sniff ? { sniffOnStart: true, sniffInterval: 60_000, sniffOnConnectionFault: true } : {}),
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      maxRetries: 2,
      ...(options.username ? { auth: { username: options.username, password: options.password ?? '' } } : {}),
    });
    const store = new ElasticsearchStore(client, new IndexNames(options.indexPrefix));
    try {
      await call(() => ensureIndices(client, store.names, options));
    } catch (error) {
      await client.close();
      throw error;
    }
    return store;
  }

  async health(): Promise<{ ok: boolean; detail: string }> {
    try {
      const health = await this.client.cluster.health({ timeout: '2s' });
      return { ok: health.status !== 'red', detail: `elasticsearch ${health.cluster_name} ${health.status}` };
    } catch (error) {
      return { ok: false, detail: (error as Error).message };
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.client.close();
    return this.#closing;
  }
}

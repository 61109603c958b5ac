import type { Client } from '@elastic/elasticsearch';

/** Index names under one prefix; events go to one index per month, so retention drops whole months. */
export class IndexNames {
  constructor(readonly prefix: string) {}

  get eventsPattern() {
    return `${this.prefix}-events-*`;
  }

  /** Every monthly events index joins this alias, for tools that read the events (Kibana, curl). */
  get eventsAlias() {
    return `${this.prefix}-events`;
  }

  eventsFor(timestamp: string): string {
    return `${this.prefix}-events-${timestamp.slice(0, 4)}.${timestamp.slice(5, 7)}`;
  }

  get alerts() {
    return `${this.prefix}-alerts`;
  }

  get alertSuppressions() {
    return `${this.prefix}-alert-suppressions`;
  }

  get assets() {
    return `${this.prefix}-assets`;
  }

  get jobResults() {
    return `${this.prefix}-job-results`;
  }

  get audit() {
    return `${this.prefix}-audit`;
  }

  get auditCheckpoints() {
    return `${this.prefix}-audit-checkpoints`;
  }

  get users() {
    return `${this.prefix}-users`;
  }

  get sessions() {
    return `${this.prefix}-sessions`;
  }
}

const keyword = { type: 'keyword' } as const;
const date = { type: 'date' } as const;
const opaque = { type: 'object', enabled: false } as const;
/** The triage suppression that marked an alert (core/alert-suppression.ts). */
const SUPPRESSED_MARK = { properties: { id: keyword, until: date } } as const;

/** Shards and replicas; see docs/guides/deployment.md for a real cluster. */
export interface IndexLayout {
  /** Primary shards of each monthly events index (default 1); the other indices are small and keep one. */
  shards?: number;
  /** Replicas of every index; unset: one wherever a second node exists, none on a single node (so it stays green). */
  replicas?: number;
}

function replicasOf(layout: IndexLayout) {
  return layout.replicas === undefined
    ? { auto_expand_replicas: '0-1' }
    : { number_of_replicas: layout.replicas, auto_expand_replicas: 'false' };
}

/** ECS fields we query get explicit types; any other string is a keyword, as ECS mostly wants. */
const EVENT_MAPPINGS = {
  dynamic_templates: [
    { strings_as_keywords: { match_mapping_type: 'string', mapping: { type: 'keyword', ignore_above: 1024 } } },
  ],
  properties: {
    id: keyword,
    '@timestamp': date,
    message: { type: 'text' },
    event: {
      properties: {
        original: { type: 'keyword', index: false, doc_values: false },
        ingested: date,
        severity: { type: 'long' },
      },
    },
    host: { properties: { ip: { type: 'ip' }, name: keyword } },
    source: { properties: { ip: { type: 'ip' }, port: { type: 'long' } } },
    destination: { properties: { ip: { type: 'ip' }, port: { type: 'long' } } },
    client: { properties: { ip: { type: 'ip' } } },
    server: { properties: { ip: { type: 'ip' } } },
    related: { properties: { ip: { type: 'ip' }, user: keyword, hosts: keyword } },
    user: { properties: { name: keyword } },
    // Windows EventData names are open-ended (hundreds across event ids) and their types vary by event:
    // one flattened field each, so neither the field limit nor a type conflict refuses an event.
    winlog: { properties: { event_data: { type: 'flattened', ignore_above: 8191 }, user_data: { type: 'flattened', ignore_above: 8191 } } },
    shouwang: {
      properties: {
        department: keyword, system: keyword, mlps_level: { type: 'byte' }, unknown_asset: { type: 'boolean' }, source: keyword,
      },
    },
  },
};

const FIXED_INDICES = (names: IndexNames) => ({
  [names.alerts]: {
    dynamic: false,
    properties: {
      id: keyword, status: keyword, department: keyword, system: keyword, assignee: keyword, mlps: keyword,
      sampleEventIds: keyword, groupKey: keyword, mlpsLevel: { type: 'byte' }, priority: { type: 'short' }, count: { type: 'long' },
      firstSeen: date, lastSeen: date, timeline: opaque,
      rule: { properties: { id: keyword, level: keyword, title: { type: 'text', fields: { raw: keyword } } } },
      suppressed: SUPPRESSED_MARK,
    },
  },
  [names.alertSuppressions]: {
    dynamic: false,
    properties: { id: keyword, ruleId: keyword, groupKey: keyword, department: keyword, expiresAt: date, createdAt: date },
  },
  [names.assets]: {
    dynamic: false,
    properties: { kind: keyword, id: keyword, department: keyword, position: { type: 'integer' }, generation: keyword, doc: opaque },
  },
  [names.jobResults]: {
    dynamic: false,
    properties: {
      id: keyword, kind: keyword, status: keyword, system: keyword, department: keyword, site: keyword,
      startedAt: date, finishedAt: date, summary: { type: 'text' }, detail: opaque,
    },
  },
  [names.audit]: {
    dynamic: false,
    properties: {
      seq: { type: 'long' }, at: date, actor: keyword, action: keyword, target: keyword, ip: keyword, departments: keyword, departmentCount: { type: 'integer' },
      prevHash: keyword, hash: keyword, detail: opaque,
    },
  },
  [names.auditCheckpoints]: {
    dynamic: false,
    properties: { seq: { type: 'long' }, hash: keyword, at: date, signature: { type: 'keyword', index: false }, publicKey: { type: 'keyword', index: false } },
  },
  [names.users]: {
    dynamic: false,
    properties: { username: keyword, role: keyword, departments: keyword, disabled: { type: 'boolean' } },
  },
  [names.sessions]: {
    dynamic: false,
    properties: { idHash: keyword, username: keyword, expiresAt: date, lastSeenAt: date },
  },
});

/**
 * Creates the events template and the fixed indices; safe to run at every start. Events go to one index per
 * month of event time (no ILM: retention deletes whole months), all under the `<prefix>-events` alias.
 * A configured replica count also applies to the indices that exist already; shards only to new months.
 */
export async function ensureIndices(client: Client, names: IndexNames, layout: IndexLayout = {}): Promise<void> {
  const replicas = replicasOf(layout);
  await client.indices.putIndexTemplate({
    name: `${names.prefix}-events`,
    index_patterns: [names.eventsPattern],
    priority: 200,
    template: {
      settings: { number_of_shards: layout.shards ?? 1, ...replicas, refresh_interval: '1s' },
      mappings: EVENT_MAPPINGS as never,
      aliases: { [names.eventsAlias]: {} },
    },
  });
  const settings = { number_of_shards: 1, ...replicas };
  for (const [index, mappings] of Object.entries(FIXED_INDICES(names))) {
    if (await client.indices.exists({ index })) continue;
    await client.indices
      .create({ index, settings, mappings: mappings as never })
      .catch((error: { meta?: { body?: { error?: { type?: string } } } }) => {
        // Another process created it first.
        if (error.meta?.body?.error?.type !== 'resource_already_exists_exception') throw error;
      });
  }
  // An audit index made before entries carried departments gets the field (adding a field is allowed).
  await client.indices.putMapping({ index: names.audit, properties: { departments: keyword, departmentCount: { type: 'integer' } } });
  // And an alerts index made before triage suppressions gets their mark.
  await client.indices.putMapping({ index: names.alerts, properties: { suppressed: SUPPRESSED_MARK } as never });
  if (layout.replicas !== undefined) {
    await client.indices.putSettings({
      index: [names.eventsPattern, ...Object.keys(FIXED_INDICES(names))], settings: { index: replicas }, allow_no_indices: true,
    });
  }
}

import { readFileSync, existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { CoreErrors } from './errors.js';
import { formatIssues } from './validation.js';
import { durationSchema } from './duration.js';
import { DEFAULT_TIME_ZONE, isTimeZone } from './time-zone.js';
import { parseSentinelHost } from './redis-connection.js';

// 0 asks the kernel for a free port (tests).
const port = z.number().int().min(0).max(65535);
/** A regular expression's source, checked when the config loads. */
const regexSource = z.string().min(1).refine((source) => {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}, 'a valid regular expression');

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
/** An address, a CIDR (`10.0.0.0/8`) or one of proxy-addr's names (`loopback`, `linklocal`, `uniquelocal`). */
function isProxyAddress(text: string): boolean {
  if (PROXY_NAMES.has(text)) return true;
  const [address = '', bits, ...rest] = text.split('/');
  const family = isIP(address);
  if (!family || rest.length) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

/**
 * Whom to believe about the client address: `false` (nobody, the default) or the reverse proxy's
 * address(es)/CIDR. `true` (every hop) is refused: the leftmost X-Forwarded-For entry wins then, and any
 * client writes that itself. A hop count is refused too: Fastify 5 trusts nobody for a number (a hop
 * count cannot tell the proxy from a client connecting directly).
 */
const TRUST_PROXY_HELP = '请填写反向代理的地址或 CIDR（如 10.0.0.5 或 10.0.0.0/24）/ give the reverse proxy\'s address(es) or CIDR (e.g. 10.0.0.5 or 10.0.0.0/24)';
const trustProxySchema = z.union([z.boolean(), z.number(), z.string(), z.array(z.string())]).transform((value, ctx) => {
  const text = typeof value === 'string' ? value.trim() : undefined;
  if (value === false || text === 'false') return false as const;
  if (value === true || text === 'true') {
    ctx.addIssue({ code: 'custom', message: `true 会信任任何一跳，客户端可自选地址 / true trusts every hop, so a client picks its own address: ${TRUST_PROXY_HELP}` });
    return z.NEVER;
  }
  if (typeof value === 'number' || /^\d+$/.test(text ?? '')) {
    ctx.addIssue({ code: 'custom', message: `不支持跳数 / a hop count is not supported: ${TRUST_PROXY_HELP}` });
    return z.NEVER;
  }
  const list = (Array.isArray(value) ? value : String(value).split(',')).map((part) => part.trim());
  const bad = list.find((part) => !isProxyAddress(part));
  if (bad !== undefined || !list.length) {
    ctx.addIssue({ code: 'custom', message: `不是 IP 地址或 CIDR / not an IP address or CIDR: ${JSON.stringify(bad ?? '')}; ${TRUST_PROXY_HELP}` });
    return z.NEVER;
  }
  return list;
});

const RULE_LEVEL_NAMES = ['informational', 'low', 'medium', 'high', 'critical'] as const;
const notifyId = z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'lowercase letters, digits, _ . and -');
/** A secret given inline, or read at start from a file or an environment variable (never logged). */
const secretSchema = z.union([z.string().min(1), z.strictObject({ file: z.string().min(1) }), z.strictObject({ env: z.string().min(1) })]);
/** The name of an environment variable that holds a secret. */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name, such as SHOUWANG_REDIS_SENTINEL_PASSWORD');
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time such as 22:00');
const notifyChannelSchema = z.discriminatedUnion('type', [
  z.strictObject({
    id: notifyId, type: z.literal('email'),
    host: z.string().min(1), port: port.default(587),
    /** `tls`: TLS from the first byte (465); `starttls`: upgrade required; `none`: plain (a local relay only). */
    security: z.enum(['starttls', 'tls', 'none']).default('starttls'),
    user: z.string().min(1).optional(), password: secretSchema.optional(),
    from: z.string().min(3), to: z.array(z.string().min(3)).min(1),
    /** PEM file of a CA to trust besides the system's (a private mail relay). */
    caFile: z.string().min(1).optional(),
  }),
  z.strictObject({ id: notifyId, type: z.literal('webhook'), url: secretSchema, secret: secretSchema.optional() }),
  z.strictObject({ id: notifyId, type: z.literal('wecom'), url: secretSchema, msgtype: z.enum(['markdown', 'text']).default('markdown') }),
  z.strictObject({ id: notifyId, type: z.literal('dingtalk'), url: secretSchema, secret: secretSchema.optional(), msgtype: z.enum(['markdown', 'text']).default('markdown') }),
  z.strictObject({
    id: notifyId, type: z.literal('sms'), url: secretSchema, phones: z.array(z.string().min(3)).min(1),
    /** JSON body with {{text}}, {{phones}} and {{phone}} placeholders (strings, JSON-escaped when filled). */
    // A gateway's API key often sits in the body: the template may come from a file or variable, as other secrets.
    template: z.union([z.string().min(2), z.strictObject({ file: z.string().min(1) }), z.strictObject({ env: z.string().min(1) })])
      .default('{"phones":{{phones}},"text":{{text}}}'),
    secret: secretSchema.optional(),
  }),
]);
const notifyRouteSchema = z.strictObject({
  id: notifyId,
  /** Every condition given must hold; an empty match takes every alert. */
  match: z.strictObject({
    minLevel: z.enum(RULE_LEVEL_NAMES).optional(),
    minPriority: z.number().int().min(1).max(20).optional(),
    departments: z.array(z.string().min(1)).optional(),
    mlpsLevels: z.array(z.number().int().min(1).max(4)).optional(),
    rules: z.array(z.string().min(1)).optional(),
    tags: z.array(z.string().min(1)).optional(),
  }).prefault({}),
  channels: z.array(notifyId).min(1),
  /** Email and SMS also go to the alert's department contacts and whoever is on call then (inventory). */
  toDepartment: z.boolean().default(false),
  /** Email and SMS also go to console users who set their own address (`/api/me/notifications`), within their department scope. */
  toUsers: z.boolean().optional(),
  /** Tier k is notified when the alert is still `new` k × the level's delay after it was raised. */
  escalation: z.array(z.strictObject({ channels: z.array(notifyId).min(1) })).default([]),
});
const notifySchema = z.strictObject({
  /** Console address put in messages as the alert's link. */
  consoleUrl: z.url().optional(),
  channels: z.array(notifyChannelSchema).default([]),
  routes: z.array(notifyRouteSchema).default([]),
  /** Repeats of one rule on one system within this window: one message, then one with the count. */
  groupWindow: durationSchema.prefault('5m'),
  /** Messages per channel per minute; more wait and go out as one summary. */
  rateLimitPerMinute: z.number().int().min(1).default(20),
  quietHours: z.strictObject({ from: clockTime, to: clockTime, utcOffset: z.string().regex(/^[+-]\d{2}:\d{2}$/).optional() }).optional(),
  /** Levels that wait for the daily digest instead of a message each. */
  digestLevels: z.array(z.enum(RULE_LEVEL_NAMES)).default(['informational', 'low']),
  digestAt: clockTime.default('08:30'),
  /** Minutes unacknowledged before the next tier, per level (a level absent: no escalation). */
  escalateAfterMinutes: z.strictObject({
    critical: z.number().min(0.01).optional(), high: z.number().min(0.01).optional(), medium: z.number().min(0.01).optional(),
    low: z.number().min(0.01).optional(), informational: z.number().min(0.01).optional(),
  }).default({ critical: 15, high: 60 }),
  /** Tries per message (first included); later tries wait backoffMs, 2×, 4×… */
  attempts: z.number().int().min(1).max(20).default(5),
  backoffMs: z.number().int().min(10).default(10_000),
  concurrency: z.number().int().min(1).max(64).default(8),
  timeoutMs: z.number().int().min(100).default(10_000),
});

/** The one config schema: types come from it, and every error names its field. */
/** What ioredis reads without surprises: a parseable URL, a real port, and a path that is only a database number. */
function isRedisUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.port === '' || Number(url.port) <= 65535) && /^\/?\d{0,2}$/.test(url.pathname) && url.hostname !== '';
  } catch {
    return false;
  }
}

export const ConfigSchema = z.strictObject({
  /** Where the embedded store, spools, checkpoints and the local Redis keep their files. */
  dataDir: z.string().min(1).default('./data'),
  /** The one time zone (IANA name) of calendar days, cron schedules and timestamps that carry no zone. */
  timeZone: z.string().min(1).default(DEFAULT_TIME_ZONE)
    .refine(isTimeZone, 'an IANA time zone that Node knows, such as Asia/Shanghai, UTC or Europe/Berlin'),
  /** Which store adapter holds events, alerts and results; by default Elasticsearch when its URL is set. */
  store: z.enum(['embedded', 'elasticsearch']).optional(),
  embedded: z
    .strictObject({
      /** SQLite file; defaults to `<dataDir>/shouwang.db`. */
      path: z.string().min(1).optional(),
      /** A console read of events (search, counts, histogram) running longer is stopped (SW_ERR_STORE_QUERY_TIMEOUT). */
      queryTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
    })
    .prefault({}),
  elasticsearch: z
    .strictObject({
      url: z.url().optional(),
      /** The cluster's nodes instead of one URL; in a variable, comma-separated. */
      nodes: z.array(z.url()).min(1).optional(),
      /** Learn the nodes from the cluster; off behind a proxy or load balancer (nodes publish addresses clients may not reach). */
      sniff: z.boolean().default(false),
      /** Primary shards of each monthly events index; replicas of every index (unset: 0 on one node, 1 once there are two). */
      shards: z.number().int().min(1).max(64).default(1),
      replicas: z.number().int().min(0).max(8).optional(),
      indexPrefix: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, _ and -').default('shouwang'),
      username: z.string().optional(),
      password: z.string().optional(),
    })
    .prefault({}),
  redis: z
    .strictObject({
      /** An external Redis; when absent Shouwang starts a local redis-server under dataDir. */
      url: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').refine(isRedisUrl, 'a redis:// URL with a port 1–65535 and at most a database number as its path (redis://host:6379/0)').optional(),
      /** A Redis behind Sentinels (instead of `url`): every connection asks them for the master, and follows a failover. */
      sentinels: z
        .strictObject({
          /** The Sentinels, `host:port` (port 26379 when absent); list several, any one that answers will do. */
          hosts: z.array(z.string().refine((host) => parseSentinelHost(host) !== undefined, 'host:port, such as 10.0.0.5:26379')).min(1),
          /** The master's name in the Sentinels' `sentinel monitor` line. */
          name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ and -'),
          /** Name of the environment variable holding the Sentinels' password (never the password itself). */
          passwordEnv: envName.optional(),
          /** Name of the environment variable holding the master's and replicas' password. */
          masterPasswordEnv: envName.optional(),
        })
        .optional(),
    })
    .refine((redis) => !(redis.url && redis.sentinels), { message: 'set redis.url or redis.sentinels, not both', path: ['sentinels'] })
    .prefault({}),
  http: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: port.default(8080),
      /** When set, /metrics asks for `Authorization: Bearer <token>`. */
      metricsToken: z.string().min(16, 'at least 16 characters').optional(),
      /** Session cookie `Secure` flag; unset: on unless `host` is a loopback address (plain http there). */
      secureCookies: z.boolean().optional(),
      /** Client address from X-Forwarded-For, believed only from these proxy addresses/CIDRs (default false). */
      trustProxy: trustProxySchema.optional(),
      /** A console session ends after this long without a request (default 30), and after `sessionMaxHours` (default 12) in any case. */
      sessionIdleMinutes: z.number().int().min(1).max(24 * 60).optional(),
      sessionMaxHours: z.number().int().min(1).max(24 * 30).optional(),
    })
    .prefault({}),
  inventory: z
    .strictObject({
      path: z.string().min(1).default('config/inventory.demo.yaml'),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  retention: z
    .strictObject({
      /** The Cybersecurity Law asks for at least six months of logs. */
      days: z.number().int().min(1).default(180),
    })
    .prefault({}),
  collect: z
    .strictObject({
      /** Syslog listeners; a transport is off until its port is set (0: any free port). */
      syslog: z
        .strictObject({
          host: z.string().min(1).default('127.0.0.1'),
          udpPort: port.optional(),
          tcpPort: port.optional(),
          tlsPort: port.optional(),
          tlsCert: z.string().min(1).optional(),
          tlsKey: z.string().min(1).optional(),
          /** A longer message is stored cut to this size and tagged `truncated`, with its size in log.original_size. */
          maxMessageBytes: z.number().int().min(1024).max(16 << 20).default(64 * 1024),
          /** SO_RCVBUF of the UDP socket; Linux caps it at net.core.rmem_max. */
          udpReceiveBufferBytes: z.number().int().min(64 * 1024).default(8 << 20),
          encoding: z.enum(['utf-8', 'gbk', 'gb18030']).default('utf-8'),
          /** Senders whose encoding or zone differs from the listener's, by source address. */
          senders: z
            .array(z.strictObject({
              address: z.string().min(1),
              encoding: z.enum(['utf-8', 'gbk', 'gb18030']).optional(),
              utcOffset: z.string().regex(/^[+-]\d{2}:\d{2}$/, 'an offset such as +08:00').optional(),
            }))
            .default([]),
        })
        .prefault({}),
      /** HTTP ingest (`POST /ingest/<source id>`); off until its port is set (0: any free port). */
      http: z
        .strictObject({
          host: z.string().min(1).default('127.0.0.1'),
          port: port.optional(),
          /** Largest request body in bytes; a bigger one gets 413. */
          bodyLimit: z.number().int().min(1024).default(10 << 20),
          /** Records decoded but not yet acknowledged by the sink; past it requests get 503. */
          maxPendingRecords: z.number().int().min(1).default(100_000),
          sources: z
            .array(z.strictObject({
              id: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'lowercase letters, digits, _ . and -'),
              /** Bearer token of this source; each source has its own. */
              token: z.string().min(16, 'at least 16 characters'),
              /** A record format (collectors RECORD_FORMATS), `syslog`, or `json` for generic JSON events. */
              format: z.string().min(1).default('json'),
              encoding: z.enum(['utf-8', 'gbk', 'gb18030']).default('utf-8'),
              /** Host name for records that carry none (database audit): maps them to the server's system. */
              host: z.string().min(1).optional(),
              /** pgaudit: the server's log_line_prefix. */
              logLinePrefix: z.string().min(1).optional(),
              /** app-log: a regex with named groups (message, timestamp, level, logger, thread). */
              pattern: regexSource.optional(),
              /** Zone of this source's timestamps that carry none; else the inventory's log source for the host, else collect.utcOffset. */
              utcOffset: z.string().regex(/^[+-]\d{2}:\d{2}$/, 'an offset such as +08:00').optional(),
            }))
            .default([]),
        })
        .prefault({}),
      /** Log files to tail; reading resumes from `<dataDir>/checkpoints/` after a restart. */
      files: z
        .array(z.strictObject({
          id: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'lowercase letters, digits, _ . and -'),
          /** Glob patterns: `*`, `?`, `[abc]` in a name, `**` for any depth of directories. */
          paths: z.array(z.string().min(1)).min(1),
          /** `syslog` (syslog or NDJSON per line) or a record format (collectors RECORD_FORMATS). */
          format: z.string().min(1).default('syslog'),
          encoding: z.enum(['utf-8', 'gbk', 'gb18030']).default('utf-8'),
          /** For files met at the first start without a checkpoint; files that appear later are read whole. */
          startAt: z.enum(['beginning', 'end']).default('end'),
          /** Host name for records that carry none (database audit, access logs). */
          host: z.string().min(1).optional(),
          /** pgaudit: the server's log_line_prefix. */
          logLinePrefix: z.string().min(1).optional(),
          /** app-log: a regex with named groups (message, timestamp, level, logger, thread). */
          pattern: regexSource.optional(),
          /** Zone of these files' timestamps that carry none; else the inventory's log source for the host, else collect.utcOffset. */
          utcOffset: z.string().regex(/^[+-]\d{2}:\d{2}$/, 'an offset such as +08:00').optional(),
          pollMs: z.number().int().min(10).default(500),
          /** A longer line becomes a dead letter and the rest of it is skipped. */
          maxLineBytes: z.number().int().min(256).default(1 << 20),
          /** Take a last line without a newline after this long at the end of the file; off when unset. */
          idleFlushMs: z.number().int().min(100).optional(),
        }))
        .default([]),
      /** Where events wait on disk while the store is down, and how much may wait. */
      spoolMaxBytes: z.number().int().min(1 << 20).default(1 << 30),
      /**
       * Events per store write at most. 5,000 (~5 MB of bulk on Elasticsearch): with bulks of 500 the pipeline ran at ~80%
       * of this rate and the node spent 0–20% more CPU per event (bench/pipeline.ts, the batchSize 500 column). A free
       * store slot still takes what has arrived at once, so a quiet source waits no longer.
       */
      batchSize: z.number().int().min(1).max(10_000).default(5_000),
      flushMs: z.number().int().min(10).default(1000),
      /** Elasticsearch: bulk requests of events in flight at once (acknowledged in order); the embedded store writes one at a time. */
      inFlightBatches: z.number().int().min(1).max(32).default(3),
      /** Events waiting in memory for a slow store past which HTTP ingest answers 503 and UDP syslog spills to the spool. */
      maxMemoryEvents: z.number().int().min(1).default(20_000),
      /** For timestamps that carry no zone (RFC 3164 syslog); unset: the offset of `timeZone` when the line arrives. */
      utcOffset: z.string().regex(/^[+-]\d{2}:\d{2}$/, 'an offset such as +08:00').optional(),
    })
    .prefault({}),
  analyze: z
    .strictObject({
      /** Sigma rule files (this folder and below). */
      rulesDir: z.string().min(1).default('rules/shouwang'),
      /** YAML file of `expand` placeholder values (`Admins: [admin, dba]`), joined with the inventory's `placeholders`. */
      placeholders: z.string().min(1).optional(),
      /** Correlation still counts an event that arrives this late (event time vs the newest seen). */
      lateness: durationSchema.prefault('5m'),
      /** A source with no event for this long is silent (per-source `silentAfter` in the inventory wins). */
      silentAfter: durationSchema.prefault('1h'),
      /** When to look for silent sources (cron, in `timeZone`). */
      silentCheck: z.string().min(1).default('*/5 * * * *'),
      /** Correlation shared by several processes through Redis streams (start, collect); off: in this process. */
      distributed: z
        .strictObject({
          enabled: z.boolean().default(false),
          /** Redis streams the signals are spread over by correlation group; every process must agree. */
          partitions: z.number().int().min(1).max(1024).default(16),
          keyPrefix: z.string().min(1).default('shouwang:correlation:'),
          /** A partition's lease: a dead owner's partitions move to a live peer within about 4/3 of it. */
          lease: durationSchema.prefault('10s'),
          /** This process also runs correlation (owns partitions); false: it only publishes signals. */
          correlate: z.boolean().default(true),
        })
        .prefault({}),
    })
    .prefault({}),
  demo: z
    .strictObject({
      /** Replay a day of demo logs into the store at start (only while the demo runs). */
      replay: z.boolean().default(true),
      /**
       * The living demo: demo backup sets, live traffic from most hosts, scripted incidents every
       * few minutes. Default: on exactly when `inventory.path` is the bundled demo inventory.
       */
      enabled: z.boolean().optional(),
    })
    .prefault({}),
  backup: z
    .strictObject({
      /** BullMQ key prefix in Redis, so several installations can share one Redis. */
      queuePrefix: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, _ and -').default('shouwang'),
      /** Verification jobs one worker process runs at a time. */
      concurrency: z.number().int().min(1).max(64).default(4),
      /** Tries per job (first run included); later tries wait backoffMs, 2×, 4×… */
      attempts: z.number().int().min(1).max(20).default(3),
      backoffMs: z.number().int().min(100).default(30_000),
      /** Zone of the policies' checkSchedule / drillSchedule cron patterns; unset: `timeZone`. */
      timezone: z.string().min(1).refine(isTimeZone, 'an IANA time zone that Node knows, such as Asia/Shanghai').optional(),
      drill: z
        .strictObject({
          /** Drill server for PostgreSQL dumps: scratch databases are created and dropped there. */
          postgresUrl: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional(),
          /** Drill server for MariaDB/MySQL dumps. */
          mariadbUrl: z.string().regex(/^(mysql|mariadb):\/\//, 'a mysql:// or mariadb:// URL').optional(),
          /** Restore drills one worker process runs at a time. */
          concurrency: z.number().int().min(1).max(16).default(1),
          /** Drills queued or running city-wide beyond which "drill now" is refused (one per system and copy besides). */
          maxQueued: z.number().int().min(1).max(10_000).default(20),
        })
        .prefault({}),
      /** Key and pinned host keys for SFTP targets. */
      sftp: z
        .strictObject({
          /** Private key file; default ~/.ssh/id_ed25519, then ~/.ssh/id_rsa. */
          privateKeyPath: z.string().min(1).optional(),
          /** Comma-separated `SHA256:…` host key fingerprints (`ssh-keygen -lf`); any other key is refused. */
          hostKeyFingerprints: z.string().regex(/^SHA256:[A-Za-z0-9+/]+=*(\s*,\s*SHA256:[A-Za-z0-9+/]+=*)*$/, 'SHA256:… fingerprints separated by commas').optional(),
        })
        .prefault({}),
    })
    .prefault({}),
  /** Alert notifications: channels, routes, quiet hours, grouping, digest, escalation (analyzers/notify). */
  notify: notifySchema.prefault({}),
  evidence: z
    .strictObject({
      /** A period shorter than this gives no 符合 in an evidence export (stated on the report's cover). */
      minimumWindow: durationSchema.prefault('30d'),
      /** The largest policy RPO that counts as 异地实时备份 (levels 3–4, x.1.4.9 b), stated on the cover. */
      realtimeRpo: durationSchema.prefault('15m'),
    })
    .prefault({}),
});

export type Config = Omit<z.infer<typeof ConfigSchema>, 'store'> & { store: 'embedded' | 'elasticsearch' };

const ENV_PREFIX = 'SHOUWANG_';

type Leaf = { path: string[]; kind: 'number' | 'boolean' | 'string' | 'list' };

interface SchemaDef {
  type: string;
  shape?: Record<string, { _zod: { def: SchemaDef } }>;
  innerType?: { _zod: { def: SchemaDef } };
}

/** Walks the schema once to list every leaf field, so each gets a SHOUWANG_* variable. */
function leaves(def: SchemaDef, path: string[] = []): Leaf[] {
  if (def.innerType) return leaves(def.innerType._zod.def, path);
  if (def.type === 'object' && def.shape) {
    return Object.entries(def.shape).flatMap(([key, child]) => leaves(child._zod.def, [...path, key]));
  }
  const kind = def.type === 'number' || def.type === 'boolean' ? def.type : def.type === 'array' ? 'list' : 'string';
  return [{ path, kind }];
}

const upperSnake = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** `http.metricsToken` → `SHOUWANG_HTTP_METRICS_TOKEN`. */
export const ENV_VARIABLES: ReadonlyMap<string, Leaf> = new Map(
  leaves(ConfigSchema._zod.def as unknown as SchemaDef).map((leaf) => [
    ENV_PREFIX + leaf.path.map(upperSnake).join('_'),
    leaf,
  ]),
);

function fromEnv(raw: string, kind: Leaf['kind']): unknown {
  if (kind === 'number' && /^-?\d+(\.\d+)?$/.test(raw.trim())) return Number(raw);
  if (kind === 'boolean' && /^(true|false|1|0)$/i.test(raw.trim())) return /^(true|1)$/i.test(raw.trim());
  if (kind === 'list') return raw.split(',').map((item) => item.trim()).filter(Boolean); // a list in a variable: comma-separated
  return raw; // left as given, so the schema's error quotes it
}

function setAt(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

export interface LoadConfigOptions {
  /** A YAML file; defaults to $SHOUWANG_CONFIG, then config/shouwang.yaml when it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

export interface LoadedConfig {
  config: Config;
  file: string | undefined;
}

export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const file =
    options.file ?? env.SHOUWANG_CONFIG ?? (existsSync('config/shouwang.yaml') ? 'config/shouwang.yaml' : undefined);

  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw CoreErrors.configRead(file, (error as Error).message);
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (error) {
      throw CoreErrors.configRead(file, `YAML: ${(error as Error).message}`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw CoreErrors.configInvalid(file, '  - (root): expected a mapping of settings');
    }
  }

  const fromVariables = new Map<string, string>();
  for (const [name, leaf] of ENV_VARIABLES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setAt(raw as Record<string, unknown>, leaf.path, fromEnv(value, leaf.kind));
    fromVariables.set(leaf.path.join('.'), name);
  }

  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const where = [file, fromVariables.size ? 'environment' : undefined].filter(Boolean).join(' + ') || 'defaults';
    throw CoreErrors.configInvalid(
      where,
      formatIssues(result.error, raw, (path) => (fromVariables.has(path) ? `${path} (${fromVariables.get(path)})` : path)),
    );
  }
  const store = result.data.store ?? (result.data.elasticsearch.url || result.data.elasticsearch.nodes ? 'elasticsearch' : 'embedded');
  return { config: { ...result.data, store }, file };
}

import { Redis, type RedisOptions } from 'ioredis';
import { CoreErrors } from './errors.js';

/** A Redis reached through its Sentinels: they name the current master, and name a new one after a failover. */
export interface SentinelTarget {
  sentinels: { host: string; port: number }[];
  /** The master's name in the Sentinels' configuration (`sentinel monitor <name> …`). */
  name: string;
  /** The Sentinels' own password (`requirepass` in sentinel.conf). */
  sentinelPassword?: string;
  /** The master's and replicas' password. */
  password?: string;
}

/** Where Redis is: a redis:// or rediss:// URL, or Sentinels. Every Redis connection Shouwang opens is built from one. */
export type RedisTarget = string | SentinelTarget;

/** `host:port` (or `[v6]:port`) of a Sentinel; the port defaults to 26379. */
export function parseSentinelHost(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/]+))(?::(\d{1,5}))?$/.exec(text.trim());
  if (!match) return undefined;
  const port = match[3] === undefined ? 26379 : Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1] ?? match[2]!, port };
}

/** The `redis` settings (core/config.ts), as loaded. */
export interface RedisSettings {
  url?: string | undefined;
  sentinels?: { hosts: string[]; name: string; passwordEnv?: string | undefined; masterPasswordEnv?: string | undefined } | undefined;
}

/**
 * The one place `redis.url` / `redis.sentinels` become a target; undefined: neither is set (a local redis-server).
 * Passwords come from the environment variables the settings name, so no secret sits in the config file.
 */
export function redisTarget(redis: RedisSettings, env: NodeJS.ProcessEnv = process.env): RedisTarget | undefined {
  if (redis.url) return redis.url;
  const sentinels = redis.sentinels;
  if (!sentinels) return undefined;
  const secret = (field: 'passwordEnv' | 'masterPasswordEnv') => {
    const name = sentinels[field];
    if (name === undefined) return undefined;
    const value = env[name];
    if (!value) throw CoreErrors.configInvalid('redis.sentinels', `  - redis.sentinels.${field}: environment variable ${name} is not set`);
    return value;
  };
  const sentinelPassword = secret('passwordEnv');
  const password = secret('masterPasswordEnv');
  return {
    // The schema checked each host already.
    sentinels: sentinels.hosts.map((host) => parseSentinelHost(host)!),
    name: sentinels.name,
    ...(sentinelPassword ? { sentinelPassword } : {}),
    ...(password ? { password } : {}),
  };
}

/** Where a target points, for logs and the start banner: never a password. */
export function describeRedis(target: RedisTarget): string {
  if (typeof target !== 'string') {
    return `sentinel ${target.name} @ ${target.sentinels.map(({ host, port }) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`)).join(',')}`;
  }
  try {
    const url = new URL(target);
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return '(an unparsable Redis URL)';
  }
}

/**
 * ioredis options for a target, with the caller's settings on top (BullMQ workers need `maxRetriesPerRequest: null`).
 * Through Sentinels, a lost connection asks them for the master again, so a failover needs no restart.
 */
export function redisOptions(target: RedisTarget, extra: RedisOptions = {}): RedisOptions {
  if (typeof target !== 'string') {
    return {
      sentinels: target.sentinels, name: target.name,
      ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
      ...(target.password ? { password: target.password } : {}),
      // Keep asking the Sentinels while none answers (all restarting), as a URL connection keeps reconnecting.
      sentinelRetryStrategy: (times: number) => Math.min(times * 100, 2000),
      ...extra,
    };
  }
  let parsed: URL;
  try {
    parsed = new URL(target);
  } catch {
    throw CoreErrors.configInvalid('redis.url', '  - redis.url: the Redis URL cannot be parsed');
  }
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: Number(parsed.port || 6379),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.pathname.length > 1 ? { db: Number(parsed.pathname.slice(1)) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    ...extra,
  };
}

/**
 * A new ioredis client for a target. Connection errors (a restart, a failover) come back as failed commands
 * while ioredis reconnects on its own, so the client's error events need no listener beyond this one.
 */
export function connectRedis(target: RedisTarget, extra: RedisOptions = {}): Redis {
  const redis = new Redis(redisOptions(target, extra));
  redis.on('error', () => undefined);
  return redis;
}

import { lookup } from 'node:dns/promises';
import type { BusinessSystem } from '../../core/index.js';
import type { DrillServer } from './drill-server.js';

const DEFAULT_PORT = { postgresql: 5432, mariadb: 3306 } as const;
const ENGINES = { postgresql: ['postgresql'], mariadb: ['mariadb', 'mysql'] } as const;

/** Every address a host name stands for (the name itself when it does not resolve), loopback names as one. */
async function addresses(host: string): Promise<Set<string>> {
  const name = host.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  const found = new Set([name]);
  const resolved = await lookup(name, { all: true }).catch(() => []);
  for (const { address } of resolved) found.add(address.toLowerCase());
  for (const address of [...found]) if (address === 'localhost' || address === '::1' || address.startsWith('127.')) found.add('loopback');
  return found;
}

/**
 * The system's own database (its source) the drill server is, if it is one: restoring there would run
 * the dump's statements next to production data. A drill server must be a separate instance.
 */
export async function sourceDatabaseOf(system: BusinessSystem, server: DrillServer): Promise<string | undefined> {
  const engines: readonly string[] = ENGINES[server.engine];
  const mine = await addresses(server.endpoint.host);
  for (const database of system.databases) {
    if (!engines.includes(database.engine) || (database.port ?? DEFAULT_PORT[server.engine]) !== server.endpoint.port) continue;
    const theirs = await addresses(database.host);
    if ([...theirs].some((address) => mine.has(address))) return `${database.engine}:${database.name}@${database.host}:${database.port ?? DEFAULT_PORT[server.engine]}`;
  }
  return undefined;
}

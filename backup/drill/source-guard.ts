import { lookup } from 'node:dns/promises';
import type { BusinessSystem } from '../../core/index.js';
import type { DrillServer } from './drill-server.js';

const DEFAULT_PORT = { postgresql: 5432, mariadb: 3306 } as const;
const ENGINES = { postgresql: ['postgresql'], mariadb: ['mariadb', 'mysql'] } as const;

/** A production database a drill server turned out to be, and the system it belongs to. */
export interface ProductionMatch {
  system: string;
  database: string;
}

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
 * The production database (of `system` first, then of any other system in the inventory) the drill server is, if
 * it is one: restoring there would run the dump's statements next to that system's data. A drill server must be a
 * separate instance.
 */
export async function productionDatabaseOf(
  system: BusinessSystem, others: readonly BusinessSystem[], server: DrillServer,
): Promise<ProductionMatch | undefined> {
  const engines: readonly string[] = ENGINES[server.engine];
  const candidates = [system, ...others.filter((other) => other.id !== system.id)].flatMap((candidate) => candidate.databases
    .map((database) => ({ candidate, database, port: database.port ?? DEFAULT_PORT[server.engine] }))
    .filter(({ database, port }) => engines.includes(database.engine) && port === server.endpoint.port));
  // A city's inventory names many hosts: each is looked up once, all at the same time.
  const lookups = new Map<string, Promise<Set<string>>>();
  const resolve = (host: string) => lookups.get(host) ?? lookups.set(host, addresses(host)).get(host)!;
  const [mine, ...theirs] = await Promise.all([addresses(server.endpoint.host), ...candidates.map(({ database }) => resolve(database.host))]);
  const match = candidates.find((_, index) => [...theirs[index]!].some((address) => mine!.has(address)));
  return match && { system: match.candidate.id, database: `${match.database.engine}:${match.database.name}@${match.database.host}:${match.port}` };
}

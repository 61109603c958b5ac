import { createHash } from 'node:crypto';

/** One state-changing console action: who, what, when, from where, and whose departments it concerns. */
export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  target?: string;
  ip?: string;
  /**
   * The departments of the object acted on, sorted and unique (auditDepartments); absent means city-wide
   * (users, inventory, rules, sessions): such entries are shown to unscoped users only.
   */
  departments?: string[];
  detail?: Record<string, unknown>;
}

export interface ChainedAuditEntry extends AuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with sorted keys, so the hash does not depend on property order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The departments an entry records: sorted, unique, blanks dropped; undefined (city-wide) when none remain. */
export function auditDepartments(departments: Iterable<string | undefined> | undefined): string[] | undefined {
  const unique = [...new Set([...(departments ?? [])].filter((d): d is string => typeof d === 'string' && d !== ''))].sort();
  return unique.length ? unique : undefined;
}

/** Every field a store filters on (at, departments, actor, action, target) is hashed, so none can change unseen. */
export function chainHash(prevHash: string, seq: number, entry: AuditEntry): string {
  const { at, actor, action, target, ip, departments, detail } = entry;
  return createHash('sha256').update(prevHash)
    .update(canonicalJson({ seq, at, actor, action, target, ip, departments, detail })).digest('hex');
}

export function chainEntry(prev: { seq: number; hash: string } | undefined, entry: AuditEntry): ChainedAuditEntry {
  const seq = (prev?.seq ?? 0) + 1;
  const prevHash = prev?.hash ?? GENESIS_HASH;
  const departments = auditDepartments(entry.departments);
  const normalized: AuditEntry = { ...entry, departments };
  if (!departments) delete normalized.departments;
  return { ...normalized, seq, prevHash, hash: chainHash(prevHash, seq, normalized) };
}

/** Returns the seq of the first entry that breaks the chain, or undefined when it is intact. */
export function findChainBreak(entries: readonly ChainedAuditEntry[], start?: { seq: number; hash: string }): number | undefined {
  let prev = start;
  for (const entry of entries) {
    if (!linksTo(prev, entry)) return entry.seq;
    prev = entry;
  }
  return undefined;
}

/** Whether `entry` is the entry that follows `prev` (or the first one) and hashes to itself. */
export function linksTo(prev: { seq: number; hash: string } | undefined, entry: ChainedAuditEntry): boolean {
  const expectedSeq = (prev?.seq ?? 0) + 1;
  const expectedPrev = prev?.hash ?? GENESIS_HASH;
  return entry.seq === expectedSeq && entry.prevHash === expectedPrev && entry.hash === chainHash(expectedPrev, entry.seq, entry);
}

import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, chainHash, linksTo, type ChainedAuditEntry } from './audit-chain.js';
import type { AuditHighWater } from './audit-high-water.js';

/**
 * A signed (seq, head hash) of the console audit trail. A chain can be recomputed by whoever can write
 * the store; a checkpoint cannot be re-signed without the instance key, so cutting the tail or
 * rewriting and re-hashing entries up to a checkpoint shows.
 */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  at: string;
  algorithm: 'ed25519' | 'sm2';
  /** SPKI PEM of the signer, for offline checks; the server checks against its own key, never this one. */
  publicKey: string;
  /** `SHA256:` + base64 of the SPKI DER. */
  fingerprint: string;
  /** Base64 over checkpointBytes(). */
  signature: string;
}

export interface AuditKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/**
 * Checkpoints are signed at every append (so the head is always anchored), at start, every this many ms
 * (a retry when a signing failed) and at each evidence export.
 */
export const CHECKPOINT_EVERY_MS = 10 * 60_000;
/** The cadence of versions before per-append checkpoints; their trails must still verify. */
export const CHECKPOINT_EVERY_ENTRIES = 100;
/** More entries than this between two checkpoints, or after the last one, means checkpoints were removed. */
export const CHECKPOINT_MAX_GAP = 2 * CHECKPOINT_EVERY_ENTRIES;

export const CHECKPOINT_FORMAT = 'shouwang-audit-checkpoint/1';

/** The signed bytes: the canonical JSON of format, seq, hash and time. */
export const checkpointBytes = (cp: Pick<AuditCheckpoint, 'seq' | 'hash' | 'at'>): Buffer =>
  Buffer.from(canonicalJson({ format: CHECKPOINT_FORMAT, seq: cp.seq, hash: cp.hash, at: cp.at }), 'utf8');

/** Ed25519 or SM2 (the only signing keys Shouwang uses); undefined for any other key. */
export const algorithmOf = (key: KeyObject): AuditCheckpoint['algorithm'] | undefined =>
  key.asymmetricKeyType === 'ed25519' ? 'ed25519'
    : key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'SM2' ? 'sm2' : undefined;
/** Ed25519 hashes internally (no digest argument); SM2 signs an SM3 digest. */
export const digestFor = (algorithm: AuditCheckpoint['algorithm']) => (algorithm === 'ed25519' ? null : 'sm3');

export function keyFingerprint(publicKey: KeyObject): string {
  return `SHA256:${createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64').replace(/=+$/, '')}`;
}

// A checkpoint follows every append: the PEM and fingerprint of a key are made once.
const publicParts = new WeakMap<KeyObject, { publicKey: string; fingerprint: string }>();
function publicPartsOf(publicKey: KeyObject): { publicKey: string; fingerprint: string } {
  let parts = publicParts.get(publicKey);
  if (!parts) {
    parts = { publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), fingerprint: keyFingerprint(publicKey) };
    publicParts.set(publicKey, parts);
  }
  return parts;
}

export function signCheckpoint(head: { seq: number; hash: string }, at: string, key: AuditKey): AuditCheckpoint {
  const algorithm = algorithmOf(key.privateKey);
  if (!algorithm) throw new Error(`audit checkpoints need an Ed25519 or SM2 key, not ${key.privateKey.asymmetricKeyType}`);
  const body = { seq: head.seq, hash: head.hash, at };
  return {
    ...body, algorithm,
    ...publicPartsOf(key.publicKey),
    signature: sign(digestFor(algorithm), checkpointBytes(body), key.privateKey).toString('base64'),
  };
}

/** Whether `publicKey` (the trusted key, not the one the checkpoint names) signed this checkpoint. */
export function checkpointSigned(cp: AuditCheckpoint, publicKey: KeyObject): boolean {
  const algorithm = algorithmOf(publicKey);
  if (!algorithm || cp.algorithm !== algorithm || typeof cp.signature !== 'string') return false;
  try {
    return verify(digestFor(algorithm), checkpointBytes(cp), publicKey, Buffer.from(cp.signature, 'base64'));
  } catch {
    return false;
  }
}

export type ChainProblem =
  /** An entry does not hash to itself or does not link to the one before. */
  | 'chain'
  /** A stored column (time, departments, seq, hash) differs from the hashed entry. */
  | 'column_mismatch'
  /** The chain's hash at a checkpoint is not the signed one: entries up to it were rewritten. */
  | 'checkpoint_mismatch'
  /**
   * A checkpoint, or the high-water mark kept outside the store, names a seq past the last entry, or the
   * checkpoints end below the high-water mark: entries (and checkpoints) were cut off the end.
   */
  | 'truncated'
  /** A checkpoint's (or the high-water mark's) signature does not verify with the instance key, or the mark is unreadable. */
  | 'bad_signature'
  /** Too many entries without a checkpoint, or none while the high-water mark exists: checkpoints were removed. */
  | 'checkpoint_missing';

export interface AuditVerification {
  ok: boolean;
  /** Entries read. */
  count: number;
  firstSeq?: number;
  lastSeq?: number;
  checkpoints: number;
  lastCheckpointSeq?: number;
  /** Whether checkpoint signatures were checked (the store knows the instance key). */
  signaturesChecked: boolean;
  /** The seq of the high-water mark kept outside the store, when there is one. */
  highWaterSeq?: number;
  brokenAt?: number;
  problem?: ChainProblem;
}

/**
 * Checks a chain read page by page in seq order against the signed checkpoints. Without a key the
 * checkpoints still pin the head hashes, but their signatures are not checked (signaturesChecked false).
 */
export class ChainVerifier {
  readonly #checkpoints: Map<number, AuditCheckpoint>;
  readonly #sorted: AuditCheckpoint[];
  readonly #signaturesChecked: boolean;
  readonly #highWater: AuditCheckpoint | undefined;
  #prev: { seq: number; hash: string } | undefined;
  #count = 0;
  #firstSeq: number | undefined;
  #lastSeq: number | undefined;
  #broken: { seq: number; problem: ChainProblem } | undefined;

  /**
   * A checkpoint the key did not sign is reported before anything else: nothing it pins can be trusted.
   * `highWater` is the mark kept outside the store: read it BEFORE the checkpoints and entries, so an
   * append racing with verify can only put the store ahead of it, never behind.
   */
  constructor(checkpoints: readonly AuditCheckpoint[], publicKey?: KeyObject, highWater?: AuditHighWater) {
    this.#sorted = [...checkpoints].sort((a, b) => a.seq - b.seq);
    this.#checkpoints = new Map(this.#sorted.map((cp) => [cp.seq, cp]));
    this.#signaturesChecked = publicKey !== undefined;
    if (highWater === 'unreadable') this.#broken = { seq: 0, problem: 'bad_signature' };
    else this.#highWater = highWater;
    if (publicKey) {
      const forged = [...this.#sorted, ...(this.#highWater ? [this.#highWater] : [])].find((cp) => !checkpointSigned(cp, publicKey));
      if (forged) this.#broken ??= { seq: forged.seq, problem: 'bad_signature' };
    }
  }

  /** Marks an entry broken for a reason only the adapter can see (a column that disagrees with the entry). */
  breakAt(seq: number, problem: ChainProblem): void {
    this.#broken ??= { seq, problem };
  }

  /** Feeds the next entries in seq order; past a break it only counts, so the answer covers the whole trail. */
  push(entries: readonly ChainedAuditEntry[]): void {
    for (const entry of entries) {
      this.#count += 1;
      this.#firstSeq ??= entry.seq;
      this.#lastSeq = entry.seq;
      if (this.#broken) continue;
      if (!linksTo(this.#prev, entry)) {
        this.#broken = { seq: entry.seq, problem: 'chain' };
        continue;
      }
      const cp = this.#checkpoints.get(entry.seq);
      const mark = this.#highWater?.seq === entry.seq ? this.#highWater : undefined;
      if ((cp && cp.hash !== entry.hash) || (mark && mark.hash !== entry.hash)) this.#broken = { seq: entry.seq, problem: 'checkpoint_mismatch' };
      this.#prev = { seq: entry.seq, hash: entry.hash };
    }
  }

  result(): AuditVerification {
    const lastSeq = this.#lastSeq;
    const last = this.#sorted.at(-1);
    if (!this.#broken && last && last.seq > (lastSeq ?? 0)) this.#broken = { seq: (lastSeq ?? 0) + 1, problem: 'truncated' };
    const mark = this.#highWater;
    if (!this.#broken && mark) {
      // The store must reach the mark: entries, then checkpoints (an empty trail or no checkpoint at all fails).
      if (mark.seq > (lastSeq ?? 0)) this.#broken = { seq: (lastSeq ?? 0) + 1, problem: 'truncated' };
      else if (!last) this.#broken = { seq: mark.seq, problem: 'checkpoint_missing' };
      else if (last.seq < mark.seq) this.#broken = { seq: last.seq + 1, problem: 'truncated' };
    }
    if (!this.#broken && this.#signaturesChecked && lastSeq !== undefined) {
      // Once anchoring started (the first checkpoint), no stretch may go unanchored for long.
      const seqs = this.#sorted.map((cp) => cp.seq);
      if (seqs.length === 0 && lastSeq > CHECKPOINT_MAX_GAP) this.#broken = { seq: lastSeq, problem: 'checkpoint_missing' };
      for (let i = 0; !this.#broken && i < seqs.length; i += 1) {
        const next = seqs[i + 1] ?? lastSeq;
        if (next - seqs[i]! > CHECKPOINT_MAX_GAP) this.#broken = { seq: next, problem: 'checkpoint_missing' };
      }
    }
    return {
      ok: !this.#broken, count: this.#count,
      ...(this.#firstSeq !== undefined ? { firstSeq: this.#firstSeq } : {}),
      ...(lastSeq !== undefined ? { lastSeq } : {}),
      checkpoints: this.#sorted.length,
      ...(last ? { lastCheckpointSeq: last.seq } : {}),
      signaturesChecked: this.#signaturesChecked,
      ...(mark ? { highWaterSeq: mark.seq } : {}),
      ...(this.#broken ? { brokenAt: this.#broken.seq, problem: this.#broken.problem } : {}),
    };
  }
}

/** One link of the chain without its content: enough to tie an extract to a checkpoint. */
export interface AuditLink {
  seq: number;
  prevHash: string;
  hash: string;
}

/**
 * Offline check of an evidence bundle's audit extract: every extract entry hashes to itself and sits
 * on the links, the links run unbroken up to the checkpoint's seq and end at its hash, and `publicKey`
 * signed the checkpoint. Returns the problem, or undefined when the extract holds.
 */
export function verifyAuditExtract(
  entries: readonly ChainedAuditEntry[], links: readonly AuditLink[], checkpoint: AuditCheckpoint, publicKey: KeyObject,
): string | undefined {
  if (!checkpointSigned(checkpoint, publicKey)) return 'checkpoint signature does not verify';
  const bySeq = new Map<number, AuditLink>();
  for (let i = 0; i < links.length; i += 1) {
    const link = links[i]!;
    if (i > 0 && (link.seq !== links[i - 1]!.seq + 1 || link.prevHash !== links[i - 1]!.hash)) return `links break at ${link.seq}`;
    bySeq.set(link.seq, link);
  }
  const last = links.at(-1);
  if (entries.length && (!last || last.seq !== checkpoint.seq || last.hash !== checkpoint.hash)) return 'links do not end at the checkpoint';
  for (const entry of entries) {
    const link = bySeq.get(entry.seq);
    if (!link || link.prevHash !== entry.prevHash || link.hash !== entry.hash || chainHash(entry.prevHash, entry.seq, entry) !== entry.hash) {
      return `entry ${entry.seq} does not fit the chain`;
    }
  }
  return undefined;
}

export const checkpointPublicKey = (cp: AuditCheckpoint): KeyObject => createPublicKey(cp.publicKey);

/**
 * Attacks on the console audit trail by someone who can write the store (a DBA, a stolen disk, an
 * Elasticsearch account) but not the instance key. Each adapter supplies the raw writes; the
 * expectations are the same for both.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  chainEntry, findChainBreak, signCheckpoint, type AuditCheckpoint, type AuditKey, type ChainedAuditEntry,
} from '../../core/index.js';
import type { Store } from '../../store/index.js';

export interface AuditTamper {
  /** Removes the entries with these seqs. */
  deleteEntries(store: Store, seqs: number[]): Promise<void>;
  /** Overwrites stored entries with these (same seqs), columns and all. */
  replaceEntries(store: Store, entries: ChainedAuditEntry[]): Promise<void>;
  /** Changes only what the time filters read: a column in SQLite, the stored document in Elasticsearch. */
  setTime(store: Store, seq: number, at: string): Promise<void>;
  /** Overwrites (or adds) the stored checkpoint of its seq. */
  putCheckpoint(store: Store, checkpoint: AuditCheckpoint): Promise<void>;
  /** Makes writes visible to searches. */
  refresh(store: Store): Promise<void>;
}

const newKey = (): AuditKey => generateKeyPairSync('ed25519');

export function describeAuditTamper(name: string, open: () => Promise<Store>, tamper: AuditTamper) {
  describe(`audit trail anchoring: ${name}`, () => {
    /** A fresh anchored trail: 5 entries, a checkpoint at 5, then 2 more (not yet anchored). */
    async function anchoredTrail() {
      const store = await open();
      const key = newKey();
      const stop = await store.audit.anchorWith(key);
      for (let n = 1; n <= 5; n += 1) {
        await store.audit.append({ at: `2026-05-0${n}T00:00:00.000Z`, actor: 'admin', action: `act.${n}`, departments: ['d-a'] });
      }
      const checkpoint = await store.audit.checkpoint();
      for (let n = 6; n <= 7; n += 1) await store.audit.append({ at: `2026-05-0${n}T00:00:00.000Z`, actor: 'admin', action: `act.${n}` });
      await tamper.refresh(store);
      const entries = (await store.audit.list({}, { order: 'asc', size: 100 })).items;
      return { store, key, stop, checkpoint: checkpoint!, entries, close: async () => { stop(); await store.close(); } };
    }

    it('signs a checkpoint of the head and verifies the intact chain with its signatures', async () => {
      const { store, key, checkpoint, close } = await anchoredTrail();
      // The first append is anchored at once (no checkpoint yet), then the export-style checkpoint at 5.
      expect(checkpoint).toMatchObject({ seq: 5, algorithm: 'ed25519' });
      expect(checkpoint.publicKey).toBe(key.publicKey.export({ type: 'spki', format: 'pem' }));
      expect(await store.audit.verify()).toEqual({
        ok: true, count: 7, firstSeq: 1, lastSeq: 7, checkpoints: 2, lastCheckpointSeq: 5, signaturesChecked: true,
      });
      expect((await store.audit.links(4, 5)).map((l) => l.seq)).toEqual([4, 5]);
      await close();
    });

    it('fails verify naming truncation when the last entries are deleted past a checkpoint', async () => {
      const { store, close } = await anchoredTrail();
      await tamper.deleteEntries(store, [4, 5, 6, 7]);
      await tamper.refresh(store);
      expect(await store.audit.verify()).toMatchObject({ ok: false, problem: 'truncated', brokenAt: 4, lastSeq: 3 });
      await close();
    });

    it('fails verify at the checkpoint when an entry is rewritten and every hash after it recomputed', async () => {
      const { store, entries, close } = await anchoredTrail();
      const forged: ChainedAuditEntry[] = [];
      let prev: ChainedAuditEntry | undefined = entries[0];
      for (const entry of entries.slice(1)) {
        const { seq: _seq, prevHash: _p, hash: _h, ...content } = entry;
        const next = chainEntry(prev, entry.seq === 2 ? { ...content, actor: 'someone-else' } : content);
        forged.push(next);
        prev = next;
      }
      // The rewritten chain is internally consistent: only the signed checkpoint can tell.
      expect(findChainBreak([entries[0]!, ...forged])).toBeUndefined();
      await tamper.replaceEntries(store, forged);
      await tamper.refresh(store);
      expect(await store.audit.verify()).toMatchObject({ ok: false, problem: 'checkpoint_mismatch', brokenAt: 5 });
      await close();
    });

    it('fails verify when only an entry’s time is changed (which hides it from time-filtered lists)', async () => {
      const { store, close } = await anchoredTrail();
      await tamper.setTime(store, 2, '1999-01-01T00:00:00.000Z');
      await tamper.refresh(store);
      const listed = await store.audit.list({ from: '2026-01-01T00:00:00.000Z' }, { order: 'asc', size: 100 });
      expect(listed.items.map((e) => e.seq)).not.toContain(2);
      expect(await store.audit.verify()).toMatchObject({ ok: false, brokenAt: 2, problem: expect.stringMatching(/^(column_mismatch|chain)$/) });
      await close();
    });

    it('fails verify when a checkpoint’s signature does not hold, or another key signed it', async () => {
      const { store, checkpoint, close } = await anchoredTrail();
      const signature = Buffer.from(checkpoint.signature, 'base64');
      signature[0]! ^= 0xff;
      await tamper.putCheckpoint(store, { ...checkpoint, signature: signature.toString('base64') });
      await tamper.refresh(store);
      expect(await store.audit.verify()).toMatchObject({ ok: false, problem: 'bad_signature', brokenAt: 5 });

      // A forger re-signs a checkpoint of a rewritten head with a key of their own.
      const forged = signCheckpoint({ seq: 5, hash: 'f'.repeat(64) }, checkpoint.at, newKey());
      await tamper.putCheckpoint(store, forged);
      await tamper.refresh(store);
      expect(await store.audit.verify()).toMatchObject({ ok: false, problem: 'bad_signature', brokenAt: 5 });
      await close();
    });

    it('binds departments into the hash: moving an entry to another department fails verify', async () => {
      const { store, entries, close } = await anchoredTrail();
      await tamper.replaceEntries(store, [{ ...entries[2]!, departments: ['d-b'] }]);
      await tamper.refresh(store);
      expect(await store.audit.verify()).toMatchObject({ ok: false, brokenAt: 3, problem: 'chain' });
      await close();
    });
  });
}

/**
 * Attacks on the console audit trail by someone who can write the store (a DBA, a stolen disk, an
 * Elasticsearch account) but not the instance key. Each adapter supplies the raw writes; the
 * expectations are the same for both.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chainEntry, findChainBreak, readHighWater, signCheckpoint, type AuditCheckpoint, type AuditKey, type ChainedAuditEntry,
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
  /** Removes the stored checkpoints with these seqs. */
  deleteCheckpoints(store: Store, seqs: number[]): Promise<void>;
  /** Makes writes visible to searches. */
  refresh(store: Store): Promise<void>;
}

const newKey = (): AuditKey => generateKeyPairSync('ed25519');

export function describeAuditTamper(name: string, open: () => Promise<Store>, tamper: AuditTamper) {
  describe(`audit trail anchoring: ${name}`, () => {
    /** A fresh anchored trail of 7 entries (each signed at its append), its high-water file in a folder of its own. */
    async function anchoredTrail() {
      const store = await open();
      const key = newKey();
      const folder = mkdtempSync(join(tmpdir(), 'shouwang-audit-head-'));
      const highWaterPath = join(folder, 'audit-head.json');
      const stop = await store.audit.anchorWith(key, { highWaterPath });
      for (let n = 1; n <= 5; n += 1) {
        await store.audit.append({ at: `2026-05-0${n}T00:00:00.000Z`, actor: 'admin', action: `act.${n}`, departments: ['d-a'] });
      }
      const checkpoint = await store.audit.checkpoint();
      for (let n = 6; n <= 7; n += 1) await store.audit.append({ at: `2026-05-0${n}T00:00:00.000Z`, actor: 'admin', action: `act.${n}` });
      await tamper.refresh(store);
      const entries = (await store.audit.list({}, { order: 'asc', size: 100 })).items;
      return {
        store, key, stop, checkpoint: checkpoint!, entries, highWaterPath,
        close: async () => { stop(); await store.close(); rmSync(folder, { recursive: true, force: true }); },
      };
    }

    it('signs a checkpoint at every append, keeps the newest outside the store, and verifies the intact chain', async () => {
      const { store, key, checkpoint, highWaterPath, close } = await anchoredTrail();
      expect(checkpoint).toMatchObject({ seq: 5, algorithm: 'ed25519' });
      expect(checkpoint.publicKey).toBe(key.publicKey.export({ type: 'spki', format: 'pem' }));
      expect((await store.audit.checkpoints()).map((cp) => cp.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(readHighWater(highWaterPath)).toMatchObject({ seq: 7, hash: (await store.audit.links(7, 7))[0]!.hash });
      expect(statSync(highWaterPath).mode & 0o777).toBe(0o600);
      expect(await store.audit.verify()).toEqual({
        ok: true, count: 7, firstSeq: 1, lastSeq: 7, checkpoints: 7, lastCheckpointSeq: 7, signaturesChecked: true, highWaterSeq: 7,
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
      expect(await store.audit.verify()).toMatchObject({ ok: false, problem: 'checkpoint_mismatch', brokenAt: 2 });
      await close();
    });

    it('fails verify naming truncation when only the newest entry is deleted', async () => {
      const { store, close } = await anchoredTrail();
      await tamper.deleteEntries(store, [7]);
      await tamper.refresh(store);
      expect(await store.audit.verify()).toMatchObject({ ok: false, problem: 'truncated', brokenAt: 7, lastSeq: 6 });
      await close();
    });

    it('fails verify through the high-water mark when the newest entries and their checkpoints are deleted', async () => {
      const { store, close } = await anchoredTrail();
      await tamper.deleteEntries(store, [6, 7]);
      await tamper.deleteCheckpoints(store, [6, 7]);
      await tamper.refresh(store);
      expect(await store.audit.verify()).toMatchObject({ ok: false, problem: 'truncated', brokenAt: 6, lastSeq: 5, highWaterSeq: 7 });
      await close();
    });

    it('fails verify when the checkpoints alone end below the high-water mark, or are all gone', async () => {
      const { store, close } = await anchoredTrail();
      await tamper.deleteCheckpoints(store, [7]);
      await tamper.refresh(store);
      expect(await store.audit.verify()).toMatchObject({ ok: false, problem: 'truncated', brokenAt: 7 });
      await tamper.deleteCheckpoints(store, [1, 2, 3, 4, 5, 6]);
      await tamper.refresh(store);
      expect(await store.audit.verify()).toMatchObject({ ok: false, problem: 'checkpoint_missing', checkpoints: 0 });
      await close();
    });

    it('fails verify when every entry and every checkpoint is deleted', async () => {
      const { store, close } = await anchoredTrail();
      await tamper.deleteEntries(store, [1, 2, 3, 4, 5, 6, 7]);
      await tamper.deleteCheckpoints(store, [1, 2, 3, 4, 5, 6, 7]);
      await tamper.refresh(store);
      expect(await store.audit.verify()).toMatchObject({ ok: false, problem: 'truncated', count: 0, checkpoints: 0, brokenAt: 1, highWaterSeq: 7 });
      await close();
    });

    it('fails verify when the newest entry is rewritten and re-hashed, with or without its checkpoint', async () => {
      const { store, entries, close } = await anchoredTrail();
      const { seq: _seq, prevHash: _p, hash: _h, ...content } = entries[6]!;
      const forged = chainEntry(entries[5], { ...content, actor: 'someone-else' });
      await tamper.replaceEntries(store, [forged]);
      await tamper.refresh(store);
      expect(await store.audit.verify()).toMatchObject({ ok: false, problem: 'checkpoint_mismatch', brokenAt: 7 });
      await tamper.deleteCheckpoints(store, [7]);
      await tamper.refresh(store);
      expect(await store.audit.verify()).toMatchObject({ ok: false, problem: 'checkpoint_mismatch', brokenAt: 7 });
      await close();
    });

    it('keeps failing after a cut trail grows again past the mark: the mark does not move over a cut', async () => {
      const { store, highWaterPath, close } = await anchoredTrail();
      const mark = readHighWater(highWaterPath);
      await tamper.deleteEntries(store, [6, 7]);
      await tamper.deleteCheckpoints(store, [6, 7]);
      await tamper.refresh(store);
      for (let n = 0; n < 3; n += 1) await store.audit.append({ at: '2026-05-09T00:00:00.000Z', actor: 'admin', action: 'after.cut' });
      await tamper.refresh(store);
      expect(readHighWater(highWaterPath)).toEqual(mark);
      expect(await store.audit.verify()).toMatchObject({ ok: false });
      await close();
    });

    it('fails verify when the high-water file is garbage or signed by another key', async () => {
      const { store, checkpoint, highWaterPath, close } = await anchoredTrail();
      writeFileSync(highWaterPath, '{"seq": 1, "hash"');
      expect(await store.audit.verify()).toMatchObject({ ok: false, problem: 'bad_signature' });
      writeFileSync(highWaterPath, JSON.stringify(signCheckpoint({ seq: 3, hash: checkpoint.hash }, checkpoint.at, newKey())));
      expect(await store.audit.verify()).toMatchObject({ ok: false, problem: 'bad_signature', brokenAt: 3 });
      await close();
    });

    it('verifies ok while appends run alongside (the mark is read before the store)', async () => {
      const { store, close } = await anchoredTrail();
      const appends = Array.from({ length: 8 }, (_, n) => store.audit.append({ at: '2026-05-10T00:00:00.000Z', actor: 'admin', action: `busy.${n}` }));
      const verdicts = [];
      for (let n = 0; n < 5; n += 1) verdicts.push(await store.audit.verify());
      await Promise.all(appends);
      await tamper.refresh(store);
      verdicts.push(await store.audit.verify());
      expect(verdicts.map((v) => v.problem)).toEqual(verdicts.map(() => undefined));
      expect(verdicts.at(-1)).toMatchObject({ ok: true, count: 15, highWaterSeq: 15 });
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

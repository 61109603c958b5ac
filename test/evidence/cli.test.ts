import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEvidenceCommand } from '../../bin/evidence-command.js';
import { readZipEntries, type Manifest } from '../../evidence/index.js';
import { PERIOD, SILENT, seedFixture, type Fixture } from './fixture.js';

let fixture: Fixture;
let config: string;

function capture() {
  let out = '';
  let err = '';
  return { io: { out: { write: (t: string) => (out += t) }, err: { write: (t: string) => (err += t) } }, out: () => out, err: () => err };
}

beforeAll(async () => {
  fixture = await seedFixture();
  config = join(fixture.dir, 'shouwang.yaml');
  writeFileSync(config, `dataDir: ${fixture.dir}\nstore: embedded\nembedded:\n  path: ${join(fixture.dir, 'store.db')}\n`);
});

afterAll(async () => {
  await fixture?.close();
});

describe('shouwang evidence', () => {
  it('keygen, export, verify with the pinned key and with the bundle key; a wrong key fails naming it', async () => {
    const keyPath = join(fixture.dir, 'keys', 'reviewer.pem');
    const keygen = capture();
    expect(await runEvidenceCommand(['keygen', '--config', config, '--out', keyPath], keygen.io)).toBe(0);
    expect(keygen.out()).toMatch(/fingerprint: SHA256:/);
    await expect(runEvidenceCommand(['keygen', '--config', config, '--out', keyPath], capture().io)).rejects.toThrow(/never overwritten/);

    const out = join(fixture.dir, 'cli.zip');
    const exported = capture();
    const code = await runEvidenceCommand(['export', '--config', config, '--system', SILENT, '--from', PERIOD.from, '--to', PERIOD.to, '--out', out, '--key', keyPath], exported.io);
    expect(code).toBe(0);
    expect(exported.out()).toContain('1 systems');
    expect(exported.out()).toContain('不符合');
    expect(exported.err()).toContain('[100%]');

    const verified = capture();
    expect(await runEvidenceCommand(['verify', out, '--public-key', `${keyPath}.pub`], verified.io)).toBe(0);
    expect(verified.out()).toContain('bundle intact');

    const unpinned = capture();
    expect(await runEvidenceCommand(['verify', out], unpinned.io)).toBe(0);
    expect(unpinned.out()).toContain('used the public key in the bundle: SHA256:');

    const other = join(fixture.dir, 'keys', 'other.pem');
    await runEvidenceCommand(['keygen', '--config', config, '--out', other], capture().io);
    const wrong = capture();
    expect(await runEvidenceCommand(['verify', out, '--public-key', `${other}.pub`], wrong.io)).toBe(1);
    expect(wrong.out()).toContain('wrong key');
  });

  it('exports from a data dir that only ingest has filled: the inventory comes from its file, as at start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shouwang-evidence-cli-'));
    try {
      const fresh = join(dir, 'shouwang.yaml');
      writeFileSync(fresh, `dataDir: ${dir}\nstore: embedded\ninventory:\n  path: config/inventory.demo.yaml\n`);
      const exported = capture();
      const code = await runEvidenceCommand(['export', '--config', fresh, '--system', 'gaj-jwzh', '--from', PERIOD.from, '--to', PERIOD.to, '--out', join(dir, 'b.zip')], exported.io);
      expect(code).toBe(0);
      expect(exported.out()).toContain('1 systems');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exports in the configured timeZone: the manifest names it and the facts are dated in it', async () => {
    const utcConfig = join(fixture.dir, 'shouwang-utc.yaml');
    writeFileSync(utcConfig, `dataDir: ${fixture.dir}\nstore: embedded\ntimeZone: UTC\nembedded:\n  path: ${join(fixture.dir, 'store.db')}\n`);
    const out = join(fixture.dir, 'cli-utc.zip');
    expect(await runEvidenceCommand(['export', '--config', utcConfig, '--system', SILENT, '--from', PERIOD.from, '--to', PERIOD.to, '--out', out], capture().io)).toBe(0);
    const files = await readZipEntries(out);
    expect((JSON.parse(files.get('manifest.json')!.toString('utf8')) as Manifest).timeZone).toBe('UTC');
    const facts = JSON.parse(files.get('evidence/system-facts.ndjson')!.toString('utf8').split('\n')[0]!) as { audit: { retention: { requiredTo: string } } };
    expect(facts.audit.retention.requiredTo).toMatch(/ \+00:00$/);
  });

  it('reads bare dates as midnight in timeZone: a Shanghai reviewer\'s June is 16:00 UTC on May 31 to 16:00 UTC on June 30', async () => {
    const out = join(fixture.dir, 'cli-days.zip');
    expect(await runEvidenceCommand(['export', '--config', config, '--system', SILENT, '--from', '2026-06-01', '--to', '2026-07-01', '--out', out], capture().io)).toBe(0);
    const manifest = JSON.parse((await readZipEntries(out)).get('manifest.json')!.toString('utf8')) as Manifest;
    expect(manifest.timeZone).toBe('Asia/Shanghai');
    expect(manifest.selection).toMatchObject({ from: '2026-05-31T16:00:00.000Z', to: '2026-06-30T16:00:00.000Z' });
    await expect(runEvidenceCommand(['export', '--config', config, '--all', '--from', '2026-02-30', '--to', PERIOD.to], capture().io))
      .rejects.toThrow(/--from is not a date/);
  });

  it('answers bad arguments with usage and exit 2', async () => {
    const bad = capture();
    expect(await runEvidenceCommand(['export', '--config', config, '--all', '--system', SILENT, '--from', PERIOD.from, '--to', PERIOD.to], bad.io)).toBe(2);
    expect(bad.err()).toContain('exactly one of --system, --department or --all');
    expect(await runEvidenceCommand(['export', '--config', config, '--all'], capture().io)).toBe(2);
    await expect(runEvidenceCommand(['export', '--config', config, '--all', '--from', 'yesterday', '--to', PERIOD.to], capture().io))
      .rejects.toThrow(/--from is not a date/);
  });
});

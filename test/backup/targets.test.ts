import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PathTarget, SftpTarget, digestFile, formatSetName, parseManifestJson, parseSetTime, parseSha256Sums, readManifest, type BackupTarget,
} from '../../backup/index.js';
import { startSftp, type SftpServer } from '../harness/sftp.js';

let root: string;
let sftp: SftpServer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'shouwang-targets-'));
  const set = join(root, '20261126T020000Z');
  mkdirSync(join(set, 'db'), { recursive: true });
  // Larger than one 4 MiB read, so SFTP reads span several requests.
  writeFileSync(join(set, 'app.tar'), randomBytes(5 << 20));
  writeFileSync(join(set, 'db', 'main.dump'), 'PGDMP fake dump');
  // The manifest comes from the real sha256sum, as backup scripts make it.
  execFileSync('sh', ['-c', 'sha256sum app.tar db/main.dump > SHA256SUMS'], { cwd: set });
  mkdirSync(join(root, '2026-11-25T02-00-00Z'));
  mkdirSync(join(root, 'not-a-set'));
  writeFileSync(join(root, '20261127T020000Z'), 'a file, not a set');
  sftp = await startSftp();
});

afterAll(async () => {
  await sftp?.stop();
  rmSync(root, { recursive: true, force: true });
});

const targets: [string, () => BackupTarget][] = [
  ['path', () => new PathTarget(root)],
  ['sftp', () => new SftpTarget(
    { host: sftp.host, port: sftp.port, user: sftp.user, path: root },
    { privateKey: sftp.privateKey, hostKeyFingerprints: [sftp.hostKeyFingerprint] },
  )],
];

describe.each(targets)('%s target', (_name, make) => {
  it('lists sets by time, files with sizes, reads files and the manifest', async () => {
    const target = make();
    try {
      const sets = await target.listSets();
      expect(sets.map((set) => set.name)).toEqual(['2026-11-25T02-00-00Z', '20261126T020000Z']);
      expect(sets[1]!.time.toISOString()).toBe('2026-11-26T02:00:00.000Z');
      const files = await target.listFiles('20261126T020000Z');
      expect(files.map((f) => [f.path, f.size])).toEqual([['SHA256SUMS', expect.any(Number)], ['app.tar', 5 << 20], ['db/main.dump', 15]]);
      const chunks: Buffer[] = [];
      for await (const chunk of target.openRead('20261126T020000Z', 'db/main.dump')) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('PGDMP fake dump');
      const digest = await digestFile(target, '20261126T020000Z', 'app.tar', true);
      const local = readFileSync(join(root, '20261126T020000Z', 'app.tar'));
      expect(digest).toMatchObject({
        bytes: 5 << 20,
        sha256: createHash('sha256').update(local).digest('hex'),
        sm3: createHash('sm3').update(local).digest('hex'),
      });
      const manifest = await readManifest(target, '20261126T020000Z');
      expect(manifest?.source).toBe('SHA256SUMS');
      expect(manifest?.files.map((f) => f.path)).toEqual(['app.tar', 'db/main.dump']);
      expect(await readManifest(target, '2026-11-25T02-00-00Z')).toBeUndefined();
    } finally {
      await target.close();
      await target.close();
    }
  });

  it('refuses paths that climb out of the set', () => {
    const target = make();
    expect(() => target.openRead('20261126T020000Z', '../../etc/passwd')).toThrow(/unsafe relative path/);
    return target.close();
  });
});

describe('sftp target failures', () => {
  it('names the target when the key is not authorized', async () => {
    const target = new SftpTarget({ host: sftp.host, port: sftp.port, user: sftp.user, path: root }, {
      privateKey: execFileSync('sh', ['-c', `d=$(mktemp -d) && ssh-keygen -q -t ed25519 -N '' -f $d/k && cat $d/k && rm -r $d`]),
    });
    await expect(target.listSets()).rejects.toMatchObject({
      code: 'SW_ERR_BACKUP_TARGET', message: expect.stringMatching(/sftp:\/\/.*authentication methods failed/),
    });
    await target.close();
  });

  it('refuses a host key that does not match the pinned fingerprint', async () => {
    const target = new SftpTarget({ host: sftp.host, port: sftp.port, user: sftp.user, path: root }, {
      privateKey: sftp.privateKey, hostKeyFingerprints: ['SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    });
    await expect(target.listSets()).rejects.toMatchObject({ code: 'SW_ERR_BACKUP_TARGET', message: expect.stringMatching(/not one of the pinned fingerprints/) });
    await target.close();
  });

  it('trusts a host key on first use and refuses a different one later, naming the host and the file', async () => {
    const knownHostsPath = join(mkdtempSync(join(tmpdir(), 'shouwang-known-')), 'sftp-known-hosts.json');
    const address = `${sftp.host}:${sftp.port}`;
    const listWith = async () => {
      const target = new SftpTarget({ host: sftp.host, port: sftp.port, user: sftp.user, path: root }, { privateKey: sftp.privateKey, knownHostsPath });
      try {
        return (await target.listSets()).length;
      } finally {
        await target.close();
      }
    };
    expect(await listWith()).toBe(2);
    expect(JSON.parse(readFileSync(knownHostsPath, 'utf8'))).toEqual({ [address]: sftp.hostKeyFingerprint });
    expect(await listWith()).toBe(2);
    // The server answers with another key than the one recorded: a man in the middle, or a re-keyed server.
    writeFileSync(knownHostsPath, JSON.stringify({ [address]: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }));
    await expect(listWith()).rejects.toMatchObject({
      code: 'SW_ERR_BACKUP_TARGET',
      message: expect.stringContaining(`host key of ${address} changed: was SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA, now ${sftp.hostKeyFingerprint}; if the server was re-keyed on purpose, remove its entry from ${knownHostsPath}`),
    });
  });
});

describe('set names and manifests', () => {
  it('parses compact and ISO-like set times and rejects others', () => {
    expect(parseSetTime('20261126T020000Z')?.toISOString()).toBe('2026-11-26T02:00:00.000Z');
    expect(parseSetTime('2026-11-26T02:00:00Z')?.toISOString()).toBe('2026-11-26T02:00:00.000Z');
    expect(parseSetTime('20261332T020000Z')).toBeUndefined();
    expect(parseSetTime('latest')).toBeUndefined();
    expect(formatSetName(new Date('2026-11-26T02:00:00.123Z'))).toBe('20261126T020000Z');
  });

  it('reads sha256sum binary mode and escaped names, and names a bad line', () => {
    const hash = 'a'.repeat(64);
    const parsed = parseSha256Sums(`${hash} *./bin.dat\n\\${hash}  back\\\\slash\n`);
    expect(parsed.files.map((f) => f.path)).toEqual(['bin.dat', 'back\\slash']);
    expect(() => parseSha256Sums(`${hash}  ok\nnot a line\n`)).toThrow(/line 2/);
    expect(() => parseSha256Sums(`${hash}  ../outside\n`)).toThrow(/not a plain relative path/);
  });

  it('validates manifest.json and names the bad field', () => {
    expect(() => parseManifestJson('{"files":[{"path":"a","sha256":"xyz"}]}')).toThrow(/files\.0\.sha256/);
    expect(() => parseManifestJson('{oops')).toThrow(/not JSON/);
    const hash = 'b'.repeat(64);
    expect(() => parseManifestJson(JSON.stringify({ files: [{ path: 'a', sha256: hash }, { path: 'a', sha256: hash }] }))).toThrow(/listed twice/);
  });
});

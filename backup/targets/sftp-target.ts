import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { Client, type SFTPWrapper, type FileEntryWithStats } from 'ssh2';
import { ShouwangError } from '../../core/index.js';
import { BackupErrors } from '../errors.js';
import { assertSafeRelative, sortSets, type BackupFileInfo, type BackupSetRef, type BackupTarget, type ReadOptions } from './target.js';

export interface SftpOptions {
  /** Private key (OpenSSH or PEM); else `privateKeyPath`; else ~/.ssh/id_ed25519, then ~/.ssh/id_rsa. */
  privateKey?: Buffer | string;
  privateKeyPath?: string;
  passphrase?: string;
  /**
   * Accepted host keys as `SHA256:<base64>` fingerprints (what `ssh-keygen -lf` prints). When given,
   * any other host key is refused.
   */
  hostKeyFingerprints?: readonly string[];
  /**
   * Without pinned fingerprints: a JSON file of `host:port` → fingerprint, trust on first use (as
   * OpenSSH's known_hosts). The first key seen is recorded; a different key later is refused.
   */
  knownHostsPath?: string;
  readyTimeoutMs?: number;
}

export interface SftpLocation {
  host: string;
  port: number;
  user: string;
  path: string;
}

function loadKey(options: SftpOptions): Buffer | string {
  if (options.privateKey) return options.privateKey;
  const candidates = options.privateKeyPath
    ? [options.privateKeyPath]
    : [join(homedir(), '.ssh', 'id_ed25519'), join(homedir(), '.ssh', 'id_rsa')];
  for (const path of candidates) {
    try {
      return readFileSync(path);
    } catch {
      // try the next one
    }
  }
  throw new Error(`no SSH private key (looked at ${candidates.join(', ')})`);
}

export const fingerprintOf = (hostKey: Buffer) => `SHA256:${createHash('sha256').update(hostKey).digest('base64').replace(/=+$/, '')}`;

function readKnownHosts(path: string): Record<string, string> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read known hosts ${path}: ${(error as Error).message}`);
  }
}

/**
 * Checks a host key against the pinned fingerprints or the known-hosts file; returns why it is refused,
 * or undefined when accepted (recording it when the host is new to the file).
 */
function refuseHostKey(options: SftpOptions, address: string, hostKey: Buffer): string | undefined {
  const seen = fingerprintOf(hostKey);
  const pinned = options.hostKeyFingerprints;
  if (pinned?.length) return pinned.includes(seen) ? undefined : `主机密钥不在允许列表 / host key ${seen} is not one of the pinned fingerprints`;
  if (!options.knownHostsPath) return undefined;
  const known = readKnownHosts(options.knownHostsPath);
  const expected = known[address];
  if (expected === seen) return undefined;
  if (expected) {
    return `主机密钥已变化 / host key of ${address} changed: was ${expected}, now ${seen}; `
      + `if the server was re-keyed on purpose, remove its entry from ${options.knownHostsPath}`;
  }
  mkdirSync(dirname(options.knownHostsPath), { recursive: true });
  const temp = `${options.knownHostsPath}.${process.pid}`;
  // Read again just before the rename: another process (a worker, a CLI run) may have recorded a host meanwhile.
  const latest = readKnownHosts(options.knownHostsPath);
  if (latest[address] && latest[address] !== seen) return refuseHostKey(options, address, hostKey);
  writeFileSync(temp, `${JSON.stringify({ ...latest, [address]: seen }, null, 2)}\n`);
  renameSync(temp, options.knownHostsPath);
  return undefined;
}

/** An SFTP server reached with key authentication; one connection, opened on first use. */
export class SftpTarget implements BackupTarget {
  readonly description: string;
  readonly #location: SftpLocation;
  readonly #options: SftpOptions;
  #connecting: Promise<{ client: Client; sftp: SFTPWrapper }> | undefined;
  #closing: Promise<void> | undefined;

  constructor(location: SftpLocation, options: SftpOptions = {}) {
    this.#location = location;
    this.#options = options;
    this.description = `sftp://${location.user}@${location.host}:${location.port}${location.path}`;
  }

  #connect(): Promise<{ client: Client; sftp: SFTPWrapper }> {
    this.#connecting ??= new Promise((resolve, reject) => {
      const client = new Client();
      const fail = (error: Error) => {
        client.end();
        reject(BackupErrors.target(this.description, error.message));
      };
      let key: Buffer | string;
      try {
        key = loadKey(this.#options);
      } catch (error) {
        fail(error as Error);
        return;
      }
      let refused: string | undefined;
      client
        .once('ready', () => {
          client.sftp((error, sftp) => (error ? fail(error) : resolve({ client, sftp })));
        })
        .once('error', (error: Error) => fail(refused ? new Error(refused) : error))
        .connect({
          host: this.#location.host,
          port: this.#location.port,
          username: this.#location.user,
          privateKey: key,
          ...(this.#options.passphrase ? { passphrase: this.#options.passphrase } : {}),
          readyTimeout: this.#options.readyTimeoutMs ?? 20_000,
          hostVerifier: (hostKey: Buffer) => {
            try {
              refused = refuseHostKey(this.#options, `${this.#location.host}:${this.#location.port}`, hostKey);
            } catch (error) {
              refused = (error as Error).message;
            }
            return refused === undefined;
          },
        });
    });
    // A failed connection is not cached: the next call tries again.
    this.#connecting.catch(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  #remote(...parts: string[]): string {
    return [this.#location.path.replace(/\/+$/, ''), ...parts].join('/');
  }

  async #readdir(path: string): Promise<FileEntryWithStats[]> {
    const { sftp } = await this.#connect();
    return new Promise((resolve, reject) =>
      sftp.readdir(path, (error, list) => (error ? reject(error) : resolve(list))),
    );
  }

  async listSets(): Promise<BackupSetRef[]> {
    try {
      const entries = await this.#readdir(this.#remote());
      return sortSets(entries.filter((entry) => entry.attrs.isDirectory()).map((entry) => entry.filename));
    } catch (error) {
      throw asTargetError(this.description, error);
    }
  }

  async listFiles(set: string): Promise<BackupFileInfo[]> {
    assertSafeRelative(set);
    const files: BackupFileInfo[] = [];
    const walk = async (relative: string): Promise<void> => {
      const entries = await this.#readdir(relative ? this.#remote(set, relative) : this.#remote(set));
      for (const entry of entries) {
        const path = relative ? `${relative}/${entry.filename}` : entry.filename;
        if (entry.attrs.isDirectory()) await walk(path);
        else if (entry.attrs.isFile()) files.push({ path, size: entry.attrs.size, mtimeMs: entry.attrs.mtime * 1000 });
      }
    };
    try {
      await walk('');
    } catch (error) {
      throw asTargetError(`${this.description}/${set}`, error);
    }
    return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /**
   * SFTP answers one read request at a time per round trip, so a plain stream is bound by latency on
   * a WAN link. We keep several reads in flight and hand the chunks on in order.
   */
  openRead(set: string, path: string, options: ReadOptions = {}): Readable {
    assertSafeRelative(set);
    assertSafeRelative(path);
    const connect = () => this.#connect();
    const remote = this.#remote(set, path);
    return Readable.from(pipelinedRead(connect, remote, options.signal), { objectMode: false, highWaterMark: options.highWaterMark ?? 4 << 20 });
  }

  async readSmallFile(set: string, path: string): Promise<Buffer | undefined> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of this.openRead(set, path, { highWaterMark: 256 << 10 })) chunks.push(chunk as Buffer);
    } catch (error) {
      // SFTP status 2 is "no such file".
      if ((error as { code?: unknown }).code === 2) return undefined;
      throw asTargetError(`${this.description}/${set}/${path}`, error);
    }
    return Buffer.concat(chunks);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const connecting = this.#connecting;
      if (!connecting) return;
      const { client } = await connecting.catch(() => ({ client: undefined }));
      if (!client) return;
      await new Promise<void>((resolve) => {
        client.once('close', () => resolve());
        client.end();
      });
    })();
    return this.#closing;
  }
}

/** Connection failures are already ours; wrap only what the server said. */
function asTargetError(where: string, error: unknown): Error {
  return error instanceof ShouwangError ? error : BackupErrors.target(where, (error as Error).message);
}

/** Bytes per SFTP read request: OpenSSH serves at most 256 KiB per request. */
const SFTP_CHUNK = 255 << 10;
/** Read requests in flight: 16 × 255 KiB covers a 40 ms round trip at 100 MB/s. */
const SFTP_DEPTH = 16;
/** SFTP status codes from the protocol draft. */
const SFTP_EOF = 1;

function call<T>(run: (callback: (error: Error | undefined | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value))));
}

async function* pipelinedRead(
  connect: () => Promise<{ sftp: SFTPWrapper }>, remote: string, signal: AbortSignal | undefined,
): AsyncGenerator<Buffer> {
  const { sftp } = await connect();
  signal?.throwIfAborted();
  const handle = await call<Buffer>((cb) => sftp.open(remote, 'r', cb));
  try {
    const { size } = await call<{ size: number }>((cb) => sftp.fstat(handle, cb));
    let next = 0;
    const inflight: Promise<Buffer>[] = [];
    const issue = () => {
      const position = next;
      const length = Math.min(SFTP_CHUNK, size - position);
      next += length;
      const read = new Promise<Buffer>((resolve, reject) => {
        sftp.read(handle, Buffer.allocUnsafe(length), 0, length, position, (error, bytesRead, buffer) => {
          if (error && (error as { code?: unknown }).code !== SFTP_EOF) reject(error);
          else resolve(buffer.subarray(0, error ? 0 : bytesRead));
        });
      });
      // Awaited in order below; a later one failing first must not count as unhandled.
      read.catch(() => undefined);
      inflight.push(read);
    };
    while (next < size && inflight.length < SFTP_DEPTH) issue();
    while (inflight.length) {
      signal?.throwIfAborted();
      const chunk = await inflight.shift()!;
      // A short read means the file shrank while we read it: stop, and let the checksum tell.
      if (chunk.length === 0) break;
      if (next < size) issue();
      yield chunk;
    }
    // Whatever is still in flight after an early stop finishes before the handle closes.
    await Promise.allSettled(inflight);
  } finally {
    await new Promise<void>((resolve) => sftp.close(handle, () => resolve()));
  }
}

import { readFileSync } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { ShouwangError } from '../../core/index.js';
import { BackupErrors } from '../errors.js';
import { assertSafeRelative, sortSets, type BackupFileInfo, type BackupSetRef, type BackupTarget, type ReadOptions } from './target.js';

export interface S3Location {
  bucket: string;
  /** Ends in `/`; empty for the bucket root. */
  prefix?: string;
  endpoint?: string;
  region: string;
  forcePathStyle?: boolean;
  credentialsFile?: string;
  accessKeyIdEnv?: string;
  secretAccessKeyEnv?: string;
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What the store says about one object without sending its content. */
export interface ObjectFacts {
  size: number;
  etag?: string;
  /** Hex SHA-256 of the whole object, when the store keeps a full-object checksum. */
  sha256?: string;
  lockMode?: string;
  retainUntil?: Date;
  legalHold: boolean;
}

/** The bucket's Object Lock configuration; `enabled: false` when it has none. */
export interface BucketLock {
  enabled: boolean;
  defaultMode?: string;
  defaultDays?: number;
  defaultYears?: number;
}

/**
 * Access keys from an AWS credentials file (`[default]` or the only profile) or from environment
 * variables; the values go to the client only, never into a message.
 */
export function resolveS3Credentials(location: S3Location, where: string): S3Credentials {
  if (location.credentialsFile) {
    let text: string;
    try {
      text = readFileSync(location.credentialsFile, 'utf8');
    } catch (error) {
      throw BackupErrors.target(where, `cannot read credentialsFile ${location.credentialsFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const profiles = new Map<string, Record<string, string>>();
    let current = 'default';
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#') || line.startsWith(';')) continue;
      const section = /^\[(?:profile\s+)?([^\]]+)\]$/.exec(line);
      if (section) current = section[1]!.trim();
      else {
        const eq = line.indexOf('=');
        if (eq > 0) {
          const values = profiles.get(current) ?? {};
          values[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
          profiles.set(current, values);
        }
      }
    }
    const values = profiles.get('default') ?? (profiles.size === 1 ? [...profiles.values()][0] : undefined);
    const accessKeyId = values?.aws_access_key_id;
    const secretAccessKey = values?.aws_secret_access_key;
    if (!accessKeyId || !secretAccessKey) {
      throw BackupErrors.target(where, `credentialsFile ${location.credentialsFile} has no aws_access_key_id and aws_secret_access_key in [default]`);
    }
    return { accessKeyId, secretAccessKey, ...(values.aws_session_token ? { sessionToken: values.aws_session_token } : {}) };
  }
  const idVar = location.accessKeyIdEnv ?? 'AWS_ACCESS_KEY_ID';
  const secretVar = location.secretAccessKeyEnv ?? 'AWS_SECRET_ACCESS_KEY';
  const accessKeyId = process.env[idVar];
  const secretAccessKey = process.env[secretVar];
  if (!accessKeyId) throw BackupErrors.target(where, `environment variable ${idVar} is not set`);
  if (!secretAccessKey) throw BackupErrors.target(where, `environment variable ${secretVar} is not set`);
  return { accessKeyId, secretAccessKey };
}

/** An endpoint URL without `user:password@`: the description goes into results and logs. */
function withoutUserInfo(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    if (!url.username && !url.password) return endpoint;
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return endpoint;
  }
}

/** `s3://bucket/prefix/`, or the endpoint's URL for a private store: for humans, never with keys. */
export function describeS3(location: S3Location): string {
  const base = location.endpoint ? `${withoutUserInfo(location.endpoint).replace(/\/+$/, '')}/${location.bucket}` : `s3://${location.bucket}`;
  return `${base}/${location.prefix ?? ''}`;
}

const hexOfBase64 = (value: string | undefined) => (value ? Buffer.from(value, 'base64').toString('hex') : undefined);

// The SDK is loaded on first use: importing it costs every CLI command ~0.5 s, and most never touch S3.
let sdk: Promise<typeof import('@aws-sdk/client-s3')> | undefined;
const loadSdk = () => (sdk ??= import('@aws-sdk/client-s3'));

/** A service error: the SDK's S3ServiceException carries `$metadata` (checked without loading the SDK). */
const serviceError = (error: unknown): (Error & { $metadata: { httpStatusCode?: number } }) | undefined =>
  error instanceof Error && typeof (error as { $metadata?: unknown }).$metadata === 'object'
    ? (error as Error & { $metadata: { httpStatusCode?: number } })
    : undefined;

/** Our message for an SDK error: the service's code and HTTP status, never the request (it carries the signature). */
function reason(error: unknown): string {
  const service = serviceError(error);
  if (service) return `${service.name} (HTTP ${service.$metadata.httpStatusCode ?? '?'}): ${service.message}`;
  return (error as Error).message;
}

const isNotFound = (error: unknown) => {
  const service = serviceError(error);
  return service !== undefined && (service.name === 'NoSuchKey' || service.name === 'NotFound' || service.$metadata.httpStatusCode === 404);
};

/**
 * Sets in object storage: each set is the common prefix `<prefix><set>/`, its files the objects under
 * it, with the same `manifest.json` / `SHA256SUMS` as on a path. Reads are streamed; nothing is staged.
 */
export class S3Target implements BackupTarget {
  readonly kind = 's3' as const;
  readonly description: string;
  readonly #location: S3Location;
  readonly #prefix: string;
  #client: Promise<{ client: S3Client; sdk: typeof import('@aws-sdk/client-s3') }> | undefined;

  readonly #smallFileLimit: number;

  /** `smallFileLimit`: the largest manifest read whole (256 MiB; a million-file manifest.json fits). */
  constructor(location: S3Location, options: { smallFileLimit?: number } = {}) {
    this.#smallFileLimit = options.smallFileLimit ?? 256 << 20;
    this.#location = location;
    this.#prefix = location.prefix ?? '';
    this.description = describeS3(location);
  }

  get bucket(): string {
    return this.#location.bucket;
  }

  /** Created on first use, so a missing key fails the check that needs it, not the whole run. */
  #s3(): Promise<{ client: S3Client; sdk: typeof import('@aws-sdk/client-s3') }> {
    // The SDK warns on every run that its future releases need Node 22; the lockfile pins this one,
    // built for Node 20, so the warning only clutters an operator's CLI output.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const open = async () => {
      const credentials = resolveS3Credentials(this.#location, this.description);
      const loaded = await loadSdk();
      const client = new loaded.S3Client({
        region: this.#location.region,
        credentials,
        ...(this.#location.endpoint ? { endpoint: this.#location.endpoint } : {}),
        ...(this.#location.forcePathStyle ? { forcePathStyle: true } : {}),
        // We hash every byte ourselves; the SDK's own response checksum would be a second pass.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        maxAttempts: 3,
      });
      return { client, sdk: loaded };
    };
    const opening = open();
    // A failed open (missing key) is not cached: the next call reports it again.
    this.#client = opening;
    opening.catch(() => { if (this.#client === opening) this.#client = undefined; });
    return opening;
  }

  #connection(): Promise<{ client: S3Client; sdk: typeof import('@aws-sdk/client-s3') }> {
    return this.#client ?? this.#s3();
  }

  #key(set: string, path: string): string {
    assertSafeRelative(set);
    assertSafeRelative(path);
    return `${this.#prefix}${set}/${path}`;
  }

  async #list(prefix: string, delimiter?: string): Promise<{ keys: { key: string; size: number; mtimeMs: number }[]; prefixes: string[] }> {
    const keys: { key: string; size: number; mtimeMs: number }[] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    try {
      do {
        const { client, sdk: { ListObjectsV2Command } } = await this.#connection();
        const page = await client.send(new ListObjectsV2Command({
          Bucket: this.#location.bucket, Prefix: prefix, ...(delimiter ? { Delimiter: delimiter } : {}), ...(token ? { ContinuationToken: token } : {}),
        }));
        for (const item of page.Contents ?? []) {
          if (item.Key) keys.push({ key: item.Key, size: item.Size ?? 0, mtimeMs: item.LastModified?.getTime() ?? 0 });
        }
        for (const common of page.CommonPrefixes ?? []) if (common.Prefix) prefixes.push(common.Prefix);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      if (error instanceof ShouwangError) throw error;
      throw BackupErrors.target(`${this.description}${prefix.slice(this.#prefix.length)}`, reason(error));
    }
    return { keys, prefixes };
  }

  async listSets(): Promise<BackupSetRef[]> {
    const { prefixes } = await this.#list(this.#prefix, '/');
    return sortSets(prefixes.map((prefix) => prefix.slice(this.#prefix.length, -1)));
  }

  async listFiles(set: string): Promise<BackupFileInfo[]> {
    assertSafeRelative(set);
    const base = `${this.#prefix}${set}/`;
    const { keys } = await this.#list(base);
    return keys
      // Zero-byte "folder" markers some consoles create are not files.
      .filter(({ key }) => !key.endsWith('/'))
      .map(({ key, size, mtimeMs }) => ({ path: key.slice(base.length), size, mtimeMs }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  openRead(set: string, path: string, options: ReadOptions = {}): Readable {
    // Unsafe names throw here, as a path target's do, before any request.
    const key = this.#key(set, path);
    const out = new PassThrough({ highWaterMark: options.highWaterMark ?? 4 << 20 });
    const where = `${this.description}${set}/${path}`;
    void (async () => {
      const { client, sdk: { GetObjectCommand } } = await this.#connection();
      const response = await client.send(
        new GetObjectCommand({ Bucket: this.#location.bucket, Key: key }),
        options.signal ? { abortSignal: options.signal } : {},
      );
      const body = response.Body as Readable | undefined;
      if (!body) throw new Error('empty response body');
      body.on('error', (error) => out.destroy(BackupErrors.target(where, reason(error))));
      out.on('close', () => body.destroy());
      body.pipe(out);
    })().catch((error: unknown) => {
      out.destroy(error instanceof ShouwangError ? error : BackupErrors.target(where, reason(error)));
    });
    return out;
  }

  async readSmallFile(set: string, path: string): Promise<Buffer | undefined> {
    const key = this.#key(set, path);
    try {
      const { client, sdk: { GetObjectCommand } } = await this.#connection();
      const response = await client.send(new GetObjectCommand({ Bucket: this.#location.bucket, Key: key }));
      // A manifest is read whole: a bucket's writer must not make us buffer gigabytes (counted too, should the length lie).
      const body = response.Body as Readable;
      const chunks: Buffer[] = [];
      let bytes = 0;
      const tooBig = () => BackupErrors.target(`${this.description}${set}/${path}`, `larger than ${this.#smallFileLimit} bytes, not read`);
      if ((response.ContentLength ?? 0) > this.#smallFileLimit) {
        body.destroy();
        throw tooBig();
      }
      for await (const chunk of body) {
        bytes += (chunk as Buffer).length;
        if (bytes > this.#smallFileLimit) {
          body.destroy();
          throw tooBig();
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      if (error instanceof ShouwangError) throw error;
      throw BackupErrors.target(`${this.description}${set}/${path}`, reason(error));
    }
  }

  /** HeadObject: size, ETag, the full-object SHA-256 when kept, and the object's lock — no content. */
  async objectFacts(set: string, path: string): Promise<ObjectFacts> {
    return this.#head(this.#key(set, path), `${this.description}${set}/${path}`);
  }

  /** HeadObject of a key under the prefix that is no set's file (a restic repository's `config`, `keys/<id>`). */
  async objectFactsAt(path: string): Promise<ObjectFacts> {
    assertSafeRelative(path);
    return this.#head(`${this.#prefix}${path}`, `${this.description}${path}`);
  }

  async #head(key: string, where: string): Promise<ObjectFacts> {
    try {
      const { client, sdk: { HeadObjectCommand } } = await this.#connection();
      const head = await client.send(new HeadObjectCommand({ Bucket: this.#location.bucket, Key: key, ChecksumMode: 'ENABLED' }));
      // A composite (per-part) checksum is not the object's hash; only a full-object one compares.
      const sha256 = head.ChecksumType === 'COMPOSITE' || head.ChecksumSHA256?.includes('-') ? undefined : hexOfBase64(head.ChecksumSHA256);
      return {
        size: head.ContentLength ?? 0,
        ...(head.ETag ? { etag: head.ETag.replace(/"/g, '') } : {}),
        ...(sha256 ? { sha256 } : {}),
        ...(head.ObjectLockMode ? { lockMode: head.ObjectLockMode } : {}),
        ...(head.ObjectLockRetainUntilDate ? { retainUntil: head.ObjectLockRetainUntilDate } : {}),
        legalHold: head.ObjectLockLegalHoldStatus === 'ON',
      };
    } catch (error) {
      if (error instanceof ShouwangError) throw error;
      throw BackupErrors.target(where, reason(error));
    }
  }

  async bucketLock(): Promise<BucketLock> {
    try {
      const { client, sdk: { GetObjectLockConfigurationCommand } } = await this.#connection();
      const { ObjectLockConfiguration: config } = await client.send(new GetObjectLockConfigurationCommand({ Bucket: this.#location.bucket }));
      const rule = config?.Rule?.DefaultRetention;
      return {
        enabled: config?.ObjectLockEnabled === 'Enabled',
        ...(rule?.Mode ? { defaultMode: rule.Mode } : {}),
        ...(rule?.Days ? { defaultDays: rule.Days } : {}),
        ...(rule?.Years ? { defaultYears: rule.Years } : {}),
      };
    } catch (error) {
      if (serviceError(error)?.name === 'ObjectLockConfigurationNotFoundError') return { enabled: false };
      if (error instanceof ShouwangError) throw error;
      throw BackupErrors.target(this.description, reason(error));
    }
  }

  async close(): Promise<void> {
    const opening = this.#client;
    this.#client = undefined;
    const open = await opening?.catch(() => undefined);
    open?.client.destroy();
  }
}

export const isS3Target = (target: unknown): target is S3Target => target instanceof S3Target;

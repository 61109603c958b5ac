import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import {
  CoreErrors, defineError, recordShapeProblem, ShouwangError, type Logger, type ShouwangEvent, type AssetIndex,
} from '../../core/index.js';
import { deadLetter, type DeadLetter, type DeadLetterSink } from '../dead-letter.js';
import { createTextDecoder, type SourceEncoding, type TextDecodeFn } from '../decoders/text-encoding.js';
import type { EventSink } from '../event-sink.js';
import type { Decoded } from '../decoders/event-decode.js';
import { resolveFormat, type ResolvedFormat } from '../decoders/resolve-format.js';
import { countIngest, type IngestMetrics } from '../metrics.js';
import { HttpAdmission, type Reservation } from './http-admission.js';

export const HttpIngestErrors = {
  unknownSource: defineError('SW_ERR_INGEST_SOURCE', 404, (id: string) =>
    `未配置的采集源 / no HTTP ingest source named "${id}"`),
  token: defineError('SW_ERR_INGEST_TOKEN', 401, (id: string) =>
    `令牌缺失或错误 / missing or wrong bearer token for source "${id}"`),
  mediaType: defineError('SW_ERR_INGEST_MEDIA_TYPE', 415, (got: string) =>
    `不支持的内容类型 / unsupported content type ${got || '(none)'}: send application/x-ndjson, text/plain or application/json`),
  /** Past `bodyLimit` bytes, or past `collect.maxMemoryEvents` records (a body of tiny records). */
  tooLarge: defineError('SW_ERR_INGEST_TOO_LARGE', 413, (limit: number, unit: 'bytes' | 'records' = 'bytes') => unit === 'bytes'
    ? `请求体过大 / request body larger than ${limit} bytes: split it into smaller requests`
    : `请求体记录过多（超过 ${limit} 条），请拆分为多个请求 / request body holds more than ${limit} records (collect.maxMemoryEvents): split it into smaller requests`),
  body: defineError('SW_ERR_INGEST_BODY', 400, (reason: string) =>
    `请求体无法解析 / request body cannot be read: ${reason}`),
  busy: defineError('SW_ERR_INGEST_BUSY', 503, (reason: string) =>
    `采集管道繁忙，请稍后重试 / ingest is saturated (${reason}): retry after the Retry-After delay`),
};

/** One sender with its own token and record format. */
export interface HttpSourceConfig {
  id: string;
  token: string;
  /** A RECORD_FORMATS name, `syslog` (syslog or JSON lines), or `json` (generic JSON events). */
  format: string;
  encoding?: SourceEncoding;
  /** The server the records come from, for records that name none (database audit): maps them to its system. */
  host?: string;
  /** pgaudit: the server's log_line_prefix. */
  logLinePrefix?: string;
  /** app-log: a regex with named groups for a record's first line. */
  pattern?: string;
  /** Zone of the records' timestamps that carry none; else the inventory's log source for the host, else `collect.utcOffset`. */
  utcOffset?: string;
}

export interface HttpSourceOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  sources: readonly HttpSourceConfig[];
  /** Without `maxMemoryEvents` (a plain fake), no memory bound is applied. */
  sink: Pick<EventSink, 'write' | 'flush' | 'saturated'> & Partial<Pick<EventSink, 'memoryEvents' | 'heldAgainstBound' | 'maxMemoryEvents'>>;
  assets: AssetIndex;
  deadLetters: DeadLetterSink;
  /** Largest body in bytes (default 10 MiB); a bigger one gets 413. */
  bodyLimit?: number;
  /**
   * Records of this source handed to the sink and not yet acknowledged; past it requests get 503 (default 100,000).
   * The sink's own bound (`maxMemoryEvents`, events of every source in memory, with what requests being read may add)
   * answers 503 the same way.
   */
  maxPendingRecords?: number;
  /** Seconds a client is told to wait when it gets 503. */
  retryAfterSeconds?: number;
  /**
   * A connection that sends nothing for this long is closed (default 60 s): a sender gone mid-body (no reset reaches
   * us) would otherwise hold its share of the memory bound, and its socket, for ever. A slow upload that moves is kept.
   */
  idleTimeoutMs?: number;
  utcOffset?: string;
  /** `timeZone`: the zone of timestamps without one when no offset is stated. */
  timeZone?: string;
  metrics?: IngestMetrics;
  logger?: Logger;
}

export interface IngestResponse {
  accepted: number;
  /** Records kept as dead letters (the same as `failed.length`): a bad record never fails the request. */
  deadLettered: number;
  /** 1-based line (NDJSON) or element (JSON array) numbers, with why each failed. */
  failed: { line: number; reason: string }[];
}

interface Source {
  config: HttpSourceConfig;
  tokenHash: Buffer;
  decodeText: TextDecodeFn;
  format: ResolvedFormat;
}

/** A record of the body: its text (for the id, the dead letter and `event.original`), and a parsed JSON element when there is one. */
interface BodyRecord {
  number: number;
  text: string;
  element?: unknown;
  /** Why the element cannot even be read (past RECORD_LIMITS): it is a dead letter as it is. */
  problem?: string;
}

const DEFAULT_BODY_LIMIT = 10 << 20;
const NDJSON_TYPES = ['application/x-ndjson', 'text/plain'];
const JSON_TYPE = 'application/json';
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest();

/**
 * `POST /ingest/:source` with NDJSON or a JSON array; each source has its own bearer token and
 * format. The answer comes only after the sink has stored or spooled the events, so a client that
 * gets 200/207 may forget what it sent; ids come from the content, so a retry never duplicates.
 */
export class HttpSource {
  readonly #options: HttpSourceOptions;
  readonly #sources = new Map<string, Source>();
  readonly #app: FastifyInstance;
  readonly #admission: HttpAdmission;
  /** Each admitted request's reservation, until its records are handed to the sink or it ends. */
  readonly #reservations = new WeakMap<object, Reservation>();
  #pending = 0;
  #closing: Promise<void> | undefined;

  constructor(options: HttpSourceOptions) {
    this.#options = options;
    for (const [index, config] of options.sources.entries()) {
      this.#sources.set(config.id, {
        config,
        tokenHash: sha256(config.token),
        decodeText: createTextDecoder(config.encoding ?? 'utf-8'),
        format: sourceFormat(config, index, options.assets, options.utcOffset, options.timeZone),
      });
    }
    this.#admission = new HttpAdmission(options.sink, options.bodyLimit ?? DEFAULT_BODY_LIMIT);
    this.#app = this.#build();
  }

  /** Records reserved by requests admitted and still being read (counted against the sink's bound). */
  get reservedRecords(): number {
    return this.#admission.reserved;
  }

  /** The bound port once started. */
  get port(): number | undefined {
    const address = this.#app.server.address();
    return typeof address === 'object' && address ? address.port : undefined;
  }

  async start(): Promise<void> {
    await this.#app.listen({ host: this.#options.host ?? '127.0.0.1', port: this.#options.port });
  }

  /** Stops taking requests and waits for those in flight (their events reach the sink). Safe twice. */
  close(): Promise<void> {
    this.#closing ??= this.#app.close();
    return this.#closing;
  }

  #build(): FastifyInstance {
    const bodyLimit = this.#options.bodyLimit ?? DEFAULT_BODY_LIMIT;
    // No Fastify request log: the Authorization header must never reach a log line; outcomes are metrics.
    // connectionTimeout is the socket's idle timeout (Node's server.timeout); Fastify's default is none.
    const app = Fastify({ bodyLimit, logger: false, connectionTimeout: this.#options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS });
    app.removeAllContentTypeParsers();
    app.addContentTypeParser([...NDJSON_TYPES, JSON_TYPE], { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, request, reply) => {
      const ours = error instanceof ShouwangError ? error
        : error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? HttpIngestErrors.tooLarge(bodyLimit)
        : error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? HttpIngestErrors.mediaType(request.headers['content-type'] ?? '')
        : (error.statusCode ?? 500) < 500 ? HttpIngestErrors.body(error.message)
        : undefined;
      if (!ours) {
        this.#options.logger?.error({ err: error, source: sourceId(request) }, 'http ingest failed');
        return reply.status(500).send({ code: 'SW_ERR_INTERNAL', message: '内部错误 / internal error' });
      }
      if (ours.statusCode === 503) void reply.header('retry-after', String(this.#options.retryAfterSeconds ?? 5));
      return reply.status(ours.statusCode).send({ code: ours.code, message: ours.message });
    });

    // Before the body is read: an unknown or unauthenticated sender never makes us buffer 10 MiB.
    app.addHook('onRequest', async (request, reply) => {
      const id = sourceId(request);
      const source = this.#sources.get(id);
      if (!source) throw HttpIngestErrors.unknownSource(id);
      const presented = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim() ?? '';
      if (!timingSafeEqual(sha256(presented), source.tokenHash)) throw HttpIngestErrors.token(id);
      // Also before the body: a sender refused while the store lags keeps its records and retries; none is taken then lost.
      if (this.#options.sink.saturated) throw HttpIngestErrors.busy('spool full');
      if (this.#pending >= (this.#options.maxPendingRecords ?? 100_000)) throw HttpIngestErrors.busy('too many records waiting for the store');
      // Counted with the requests read meanwhile: many admitted at once must not together pass the sink's bound.
      const reservation = this.#admission.admit(request.headers['content-length']);
      if (!reservation) throw HttpIngestErrors.busy('too many events waiting for the store');
      this.#reservations.set(request.raw, reservation);
      // Whatever ends the request (answered, refused, aborted mid-body) gives the reservation back.
      reply.raw.once('close', () => reservation.release());
    });

    app.post<{ Params: { source: string } }>('/ingest/:source', async (request, reply) => {
      const source = this.#sources.get(request.params.source)!; // checked in onRequest
      const reservation = this.#reservations.get(request.raw)!; // made in onRequest
      try {
        if (!Buffer.isBuffer(request.body)) throw HttpIngestErrors.mediaType(request.headers['content-type'] ?? '');
        const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        const result = await this.#ingest(source, request.body, mediaType === JSON_TYPE, { address: request.ip, port: request.socket.remotePort ?? 0 }, reservation);
        return reply.status(result.failed.length ? 207 : 200).send(result);
      } finally {
        reservation.release();
      }
    });
    return app;
  }

  async #ingest(
    source: Source, body: Buffer, isJsonArray: boolean, peer: { address: string; port: number }, reservation: Reservation,
  ): Promise<IngestResponse> {
    const { id } = source.config;
    const { text, invalid } = source.decodeText(body);
    // Counted before any record is decoded: 2 MiB of `{}` lines are 700,000 records, decoded in one synchronous loop
    // and handed to the sink at once they would stall every source for seconds and pass the sink's bound many times.
    const maxRecords = this.#options.sink.maxMemoryEvents ?? Number.POSITIVE_INFINITY;
    const records = isJsonArray ? arrayRecords(text, maxRecords) : ndjsonRecords(text, maxRecords);
    const now = new Date();
    const events: ShouwangEvent[] = [];
    const failed: IngestResponse['failed'] = [];
    const letters: DeadLetter[] = [];
    const seen = new Map<string, number>();
    const lineOf = new Map<string, number>();
    for (const record of records) {
      // Same content, same id: a retried request is stored once. Identical records inside one request stay distinct.
      const digest = sha256(record.text).toString('base64url');
      const occurrence = (seen.get(digest) ?? 0) + 1;
      seen.set(digest, occurrence);
      const decoded: Decoded = record.problem !== undefined ? { ok: false as const, reason: record.problem }
        : record.element !== undefined && typeof record.element !== 'string' && source.config.format !== 'json'
        ? { ok: false as const, reason: `format ${source.config.format} expects each array element to be a string line` }
        : source.format.decode({ text: typeof record.element === 'string' ? record.element : record.text, position: `${digest}#${occurrence}` },
          // Bytes invalid in the source's encoding became U+FFFD: the records holding one say so.
          { now, peer, invalid: invalid && record.text.includes('\uFFFD') });
      if (decoded.ok) {
        events.push(decoded.event);
        lineOf.set(decoded.event.id, record.number);
      } else {
        failed.push({ line: record.number, reason: decoded.reason });
        letters.push(deadLetter(id, `http:${peer.address}:line:${record.number}`, decoded.reason, record.text));
      }
    }
    // Refused before the dead letters are written when the sink is already at its bound: the sender's retry then writes
    // them once. Only a sink that fills during their write refuses after them (the check below).
    if (!this.#admission.mayTake(events.length)) throw HttpIngestErrors.busy('too many events waiting for the store');
    // Dead letters first: when they cannot be written (disk full) the sender is told 503 and nothing is taken, which is
    // then true. Written beside the sink write, a failure answered 503 for records already taken.
    try {
      await this.#options.deadLetters.write(letters);
    } catch (error) {
      this.#options.logger?.warn({ err: error, source: id }, 'http ingest: dead letters cannot be written');
      throw HttpIngestErrors.busy('dead letters cannot be written');
    }
    // The sink reached its bound while this body was read: refused as before the body, nothing taken, nothing counted.
    if (!this.#admission.take(reservation, events.length)) throw HttpIngestErrors.busy('too many events waiting for the store');
    countIngest(this.#options.metrics, id, { received: records.length, decoded: events.length, failed: failed.length });

    this.#pending += events.length;
    try {
      // Handed to the sink in the turn of the check above, so no other request's records come in between.
      const written = this.#options.sink.write(events);
      // A request is already a batch: deliver it now rather than after the sink's flush interval.
      void this.#options.sink.flush();
      const outcome = await written;
      // Records the store refused (a mapping conflict) are dead letters too: the answer counts them so.
      for (const { id, reason } of outcome.deadLettered) failed.push({ line: lineOf.get(id) ?? 0, reason });
    } catch (error) {
      this.#options.logger?.warn({ err: error, source: id }, 'http ingest: sink refused the events');
      throw HttpIngestErrors.busy('store error');
    } finally {
      this.#pending -= events.length;
    }
    failed.sort((a, b) => a.line - b.line);
    return { accepted: records.length - failed.length, deadLettered: failed.length, failed };
  }
}

const sourceId = (request: FastifyRequest) => (request.params as { source?: string } | undefined)?.source ?? '';

function ndjsonRecords(text: string, maxRecords: number): BodyRecord[] {
  if (countLines(text, maxRecords) > maxRecords) throw HttpIngestErrors.tooLarge(maxRecords, 'records');
  const records: BodyRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    if (line.trim() !== '') records.push({ number: i + 1, text: line });
  }
  return records;
}

function arrayRecords(text: string, maxRecords: number): BodyRecord[] {
  // Counted before JSON.parse: 10 MiB of `{},` are 3.5 million objects, parsed in one synchronous call.
  if (countArrayElements(text, maxRecords) > maxRecords) throw HttpIngestErrors.tooLarge(maxRecords, 'records');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw HttpIngestErrors.body(`invalid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw HttpIngestErrors.body('application/json must be an array of records (或使用 NDJSON)');
  if (parsed.length > maxRecords) throw HttpIngestErrors.tooLarge(maxRecords, 'records');
  return parsed.map((element, i) => {
    // Checked before it is serialized again for its id: a 100,000-deep element would overflow the stack.
    const problem = typeof element === 'string' ? undefined : recordShapeProblem(element);
    if (problem) return { number: i + 1, text: previewJson(element), problem };
    return { number: i + 1, text: typeof element === 'string' ? element : JSON.stringify(element), element };
  });
}

/** The lines ndjsonRecords keeps (not blank), counted up to one past `stopAfter` without splitting the text. */
function countLines(text: string, stopAfter: number): number {
  let count = 0;
  for (let start = 0; start < text.length && count <= stopAfter;) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    // Most lines start with their record; only one starting with white space needs a closer look.
    if (end > start && (!/\s/.test(text[start]!) || text.slice(start, end).trim() !== '')) count += 1;
    start = end + 1;
  }
  return count;
}

/**
 * The elements of a top-level JSON array, counted up to one past `stopAfter` by its commas outside strings and
 * nested values, without building anything. Text that is not an array counts 0 and is left to JSON.parse to refuse.
 */
export function countArrayElements(text: string, stopAfter: number): number {
  const start = text.search(/\S/);
  if (start === -1 || text.charCodeAt(start) !== 0x5b /* [ */) return 0;
  let commas = 0;
  let any = false;
  let depth = 1;
  let inString = false;
  for (let i = start + 1; i < text.length && (commas < stopAfter || !any); i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i += 1;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b /* [ { */) depth += 1;
    else if (c === 0x5d || c === 0x7d /* ] } */) {
      depth -= 1;
      if (depth === 0) break;
    } else if (c === 0x2c /* , */) {
      if (depth === 1) commas += 1;
    } else if (c <= 0x20) continue;
    any = true;
  }
  return any ? commas + 1 : 0;
}

const PREVIEW_DEPTH = 40;
const PREVIEW_CHARS = 64 * 1024;

/** The first levels and characters of an element too large to keep whole, for its dead letter. */
function previewJson(element: unknown): string {
  const depths = new WeakMap<object, number>();
  let budget = PREVIEW_CHARS;
  const text = JSON.stringify(element, function (this: unknown, _key, value: unknown) {
    const depth = typeof this === 'object' && this !== null && depths.has(this) ? depths.get(this)! + 1 : 0;
    if (value === null || typeof value !== 'object') {
      budget -= typeof value === 'string' ? value.length : 8;
      return budget < 0 ? '…' : value;
    }
    if (depth >= PREVIEW_DEPTH || (budget -= 2) < 0) return '…';
    depths.set(value, depth);
    return value;
  }) ?? '';
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
}

/** Resolves a source's format once, at start; an unknown format is a config error naming the field. */
function sourceFormat(
  config: HttpSourceConfig, index: number, assets: AssetIndex, defaultUtcOffset: string | undefined, timeZone: string | undefined,
): ResolvedFormat {
  try {
    return resolveFormat({
      source: config.id, format: config.format, assets, host: config.host, logLinePrefix: config.logLinePrefix, pattern: config.pattern,
      utcOffset: config.utcOffset, defaultUtcOffset, timeZone,
    });
  } catch (error) {
    const message = (error as Error).message;
    throw CoreErrors.configInvalid('collect.http', `  - collect.http.sources.${index}${message.startsWith('format:') ? '.' : ': '}${message}`);
  }
}

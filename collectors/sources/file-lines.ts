import { createReadStream } from 'node:fs';
import { CSV_JOIN, RecordJoiner, type JoinRule } from '../record-join.js';
import type { Line } from '../decoders/event-decode.js';
import { pgStderrJoin } from '../decoders/pgaudit.js';
import { createTextDecoder, type SourceEncoding } from '../decoders/text-encoding.js';

/** A line (or joined record) read from a file, with what the reader knows of it. */
export interface FileLine extends Line {
  /** Bytes invalid in the file's encoding became U+FFFD. */
  invalid?: boolean;
  /** The line was longer than `maxLineBytes`: `text` has its first bytes only, and this is its size. */
  originalBytes?: number;
}

export interface ReadLinesOptions {
  encoding?: SourceEncoding;
  /** A longer line keeps only its first bytes and says how long it was (default 1 MiB, as collect.files). */
  maxLineBytes?: number;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Reads a file line by line as bytes, decoding each line in the file's encoding; the position is the
 * line number, stable across re-reads. Memory holds one line at most (`maxLineBytes`), whatever the file's size.
 */
export async function* readFileLines(path: string, options: ReadLinesOptions = {}): AsyncGenerator<FileLine> {
  const decode = createTextDecoder(options.encoding ?? 'utf-8');
  const max = options.maxLineBytes ?? 1 << 20;
  let parts: Buffer[] = [];
  let kept = 0; // bytes of the current line held in `parts`
  let size = 0; // bytes of the current line in the file
  let number = 0;
  const line = (): FileLine => {
    number += 1;
    let bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, kept);
    // CRLF files: the CR goes with the newline, as readline does.
    if (size <= max && bytes.length && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, -1);
    const { text, invalid } = decode(bytes);
    const read: FileLine = { text, position: `line:${number}`, ...(invalid ? { invalid } : {}), ...(size > max ? { originalBytes: size } : {}) };
    parts = [];
    kept = 0;
    size = 0;
    return read;
  };
  const take = (piece: Buffer) => {
    size += piece.length;
    const room = max - kept;
    if (room > 0) {
      const part = piece.length > room ? piece.subarray(0, room) : piece;
      // A copy, so a kept piece does not pin the whole read buffer.
      parts.push(Buffer.from(part));
      kept += part.length;
    }
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 16 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE, start); newline >= 0; newline = chunk.indexOf(NEWLINE, start)) {
      take(chunk.subarray(start, newline));
      yield line();
      start = newline + 1;
    }
    if (start < chunk.length) take(chunk.subarray(start));
  }
  if (size > 0) yield line();
}

/**
 * Records of a format whose records span lines (PostgreSQL, stack traces), joined by its rule as the
 * lines stream in; the position is the record's number.
 */
export async function* readRecords(path: string, rule: JoinRule, options: ReadLinesOptions = {}): AsyncGenerator<FileLine> {
  const joiner = new RecordJoiner<FileLine>(rule);
  let number = 0;
  const record = (lines: FileLine[]): FileLine => {
    number += 1;
    const cut = lines.find((line) => line.originalBytes !== undefined);
    return {
      text: lines.length === 1 ? lines[0]!.text : lines.map((line) => line.text).join('\n'),
      position: `record:${number}`,
      ...(lines.some((line) => line.invalid) ? { invalid: true } : {}),
      ...(cut ? { originalBytes: cut.originalBytes! } : {}),
    };
  };
  for await (const line of readFileLines(path, options)) {
    for (const lines of joiner.push(line)) yield record(lines);
  }
  const last = joiner.end();
  if (last) yield record(last);
}

/** PostgreSQL log records, joined from their lines; the position is the record's number. */
export function readPostgresRecords(path: string, format: 'stderr' | 'csvlog'): AsyncGenerator<FileLine> {
  return readRecords(path, format === 'csvlog' ? CSV_JOIN : pgStderrJoin());
}

/** A file as its format reads it: joined records when the format's records span lines, else its lines. */
export function readFileRecords(path: string, join: JoinRule | undefined, options: ReadLinesOptions = {}): AsyncGenerator<FileLine> {
  return join ? readRecords(path, join, options) : readFileLines(path, options);
}

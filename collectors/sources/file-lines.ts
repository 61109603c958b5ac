import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { postgresLogRecords } from '../decoders/pgaudit.js';
import type { Line } from '../line-ingest.js';
import { joinRecords, type JoinRule } from '../record-join.js';

/** PostgreSQL log records, joined from their lines; the position is the record's first line. */
export function readPostgresRecords(path: string, format: 'stderr' | 'csvlog'): AsyncGenerator<Line> {
  return readJoinedRecords(path, (lines) => postgresLogRecords(lines, format));
}

/** Records of a format whose records span lines (PostgreSQL, stack traces), joined by its rule. */
export function readRecords(path: string, rule: JoinRule): AsyncGenerator<Line> {
  return readJoinedRecords(path, (lines) => joinRecords(lines, rule));
}

async function* readJoinedRecords(path: string, join: (lines: string[]) => Iterable<string>): AsyncGenerator<Line> {
  const lines: string[] = [];
  for await (const line of readFileLines(path)) lines.push(line.text);
  let number = 0;
  for (const text of join(lines)) {
    number += 1;
    yield { text, position: `record:${number}` };
  }
}

/** Reads a file line by line; the position is the line number, stable across re-reads. */
export async function* readFileLines(path: string): AsyncGenerator<Line> {
  const reader = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let number = 0;
  for await (const text of reader) {
    number += 1;
    yield { text, position: `line:${number}` };
  }
}

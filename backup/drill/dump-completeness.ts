import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

const TAIL_BYTES = 4096;

/**
 * mariadb-dump and mysqldump end every dump with `-- Dump completed`. A dump cut short at a statement
 * boundary (the job killed, the disk full) still restores without an error, with its last tables missing;
 * its checksum only proves the copy, not the dump. So a SQL dump must end with that line.
 */
export async function sqlDumpIncomplete(file: string): Promise<string | undefined> {
  let tail = Buffer.alloc(0);
  const bytes = createReadStream(file);
  const text = file.toLowerCase().endsWith('.gz') ? bytes.pipe(createGunzip()) : bytes;
  bytes.on('error', (error) => text.destroy(error));
  for await (const chunk of text as AsyncIterable<Buffer>) {
    tail = Buffer.concat([tail, chunk]);
    if (tail.length > TAIL_BYTES) tail = tail.subarray(tail.length - TAIL_BYTES);
  }
  return /^-- Dump completed/m.test(tail.toString('latin1'))
    ? undefined
    : 'SQL 转储不完整：末尾没有 “-- Dump completed” 行（被截断？）/ SQL dump incomplete: it does not end with a "-- Dump completed" line (truncated?)';
}

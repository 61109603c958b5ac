import { deflateRaw } from 'node:zlib';
import { promisify } from 'node:util';
import type { BackupFileInfo, BackupTarget } from '../targets/index.js';

const deflate = promisify(deflateRaw);

/** Bytes read from the start of a file, and again from its middle when it is larger than two blocks. */
export const SAMPLE_BLOCK_BYTES = 64 << 10;
/** Without range reads (restic, Borg, SFTP today) the middle block is read only below this size; above it, the head alone. */
export const STREAM_MIDDLE_LIMIT_BYTES = 64 << 20;
/** Below this many sampled bytes entropy and deflate say too little to call a file high-entropy. */
export const MIN_SAMPLE_BYTES = 512;
/** Encrypted and already-compressed data: deflate cannot shrink it and its bytes are near-uniform. */
export const HIGH_ENTROPY_RATIO = 0.95;
export const HIGH_ENTROPY_BITS = 7.2;
/** Text, CSV, JSON, SQL dumps: deflate shrinks them well below this. */
export const COMPRESSIBLE_RATIO = 0.9;

/** What one file's sample measured; `error` instead of figures when it could not be read. */
export interface ByteSample {
  /** Bytes sampled (at most two blocks). */
  bytes: number;
  /** Shannon entropy of the sampled bytes, bits per byte (0–8). */
  entropy: number;
  /** Deflated size over sampled size; ≥ 1 means deflate could not shrink it. 0 for an empty sample. */
  ratio: number;
  error?: string;
}

/** Byte counts, filled chunk by chunk so a sample is never copied twice. */
export class ByteHistogram {
  readonly counts = new Float64Array(256);
  total = 0;

  add(chunk: Uint8Array): void {
    const counts = this.counts;
    for (let i = 0; i < chunk.length; i++) counts[chunk[i]!]! += 1;
    this.total += chunk.length;
  }

  /** Shannon entropy in bits per byte; 0 for no bytes. */
  entropy(): number {
    if (!this.total) return 0;
    let bits = 0;
    for (const count of this.counts) {
      if (!count) continue;
      const p = count / this.total;
      bits -= p * Math.log2(p);
    }
    return bits;
  }
}

/** Shannon entropy of a buffer in bits per byte. */
export function shannonEntropy(bytes: Uint8Array): number {
  const histogram = new ByteHistogram();
  histogram.add(bytes);
  return histogram.entropy();
}

/** Deflated over original size, deflate running on the libuv thread pool (never on the event loop). */
export async function deflateRatio(bytes: Uint8Array): Promise<number> {
  if (!bytes.length) return 0;
  const deflated = await deflate(bytes, { level: 6 });
  return deflated.length / bytes.length;
}

export async function measureBytes(blocks: readonly Uint8Array[]): Promise<ByteSample> {
  const histogram = new ByteHistogram();
  for (const block of blocks) histogram.add(block);
  const all = blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks);
  return { bytes: histogram.total, entropy: round(histogram.entropy()), ratio: round(await deflateRatio(all)) };
}

/** High-entropy and incompressible: encrypted, or already compressed (gzip, PNG, ZIP). */
export function isHighEntropy(sample: ByteSample): boolean {
  return !sample.error && sample.bytes >= MIN_SAMPLE_BYTES && sample.ratio >= HIGH_ENTROPY_RATIO && sample.entropy >= HIGH_ENTROPY_BITS;
}

export function isCompressible(sample: ByteSample): boolean {
  return !sample.error && sample.bytes >= MIN_SAMPLE_BYTES && sample.ratio < COMPRESSIBLE_RATIO;
}

/** Reads up to `limit` bytes of a stream from its start, then stops it (the rest is never read). */
async function readHead(target: BackupTarget, set: string, path: string, limit: number, start: number, signal?: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  const stream = target.openRead(set, path, {
    highWaterMark: Math.min(limit, SAMPLE_BLOCK_BYTES),
    ...(start ? { start } : {}),
    ...(signal ? { signal } : {}),
  });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk.subarray(0, limit - have));
      have += Math.min(chunk.length, limit - have);
      if (have >= limit) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks, have);
}

/**
 * Reads two blocks, [0, `block`) and [`middleAt`, `middleAt` + `block`), in one pass over a stream that
 * cannot seek (a restic dump, a Borg extract: one process per read, so never two); only for files below
 * STREAM_MIDDLE_LIMIT_BYTES.
 */
async function readFirstAndMiddle(
  target: BackupTarget, set: string, path: string, block: number, middleAt: number, signal?: AbortSignal,
): Promise<[Buffer, Buffer]> {
  const first: Buffer[] = [];
  const middle: Buffer[] = [];
  let offset = 0;
  let haveMiddle = 0;
  const stream = target.openRead(set, path, { highWaterMark: SAMPLE_BLOCK_BYTES, ...(signal ? { signal } : {}) });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (offset < block) first.push(chunk.subarray(0, block - offset));
      const from = Math.max(0, middleAt - offset);
      if (from < chunk.length) {
        const part = chunk.subarray(from, from + (block - haveMiddle));
        middle.push(part);
        haveMiddle += part.length;
      }
      offset += chunk.length;
      if (haveMiddle >= block) break;
    }
  } finally {
    stream.destroy();
  }
  return [Buffer.concat(first), Buffer.concat(middle)];
}

/**
 * Samples one file: its first block, and a block from its middle when it is larger than two blocks
 * (files grow at the end and headers are often plain, so the middle says more about the content).
 * A file that cannot be read gives `error`, never an exception.
 */
export async function sampleFile(
  target: BackupTarget, set: string, file: BackupFileInfo, options: { blockBytes?: number; signal?: AbortSignal } = {},
): Promise<ByteSample> {
  const block = options.blockBytes ?? SAMPLE_BLOCK_BYTES;
  try {
    // The size is the listing's: a file that grew since is still read only up to two blocks.
    if (file.size <= block * 2) return await measureBytes([await readHead(target, set, file.path, block * 2, 0, options.signal)]);
    // Never overlapping the first block: deflate would find the shared bytes and call random data compressible.
    const middleAt = Math.max(block, Math.floor(file.size / 2 - block / 2));
    let blocks: Buffer[];
    if (target.rangeReads) {
      blocks = [
        await readHead(target, set, file.path, block, 0, options.signal),
        await readHead(target, set, file.path, block, middleAt, options.signal),
      ];
    } else if (file.size <= STREAM_MIDDLE_LIMIT_BYTES) {
      blocks = await readFirstAndMiddle(target, set, file.path, block, middleAt, options.signal);
    } else {
      blocks = [await readHead(target, set, file.path, block, 0, options.signal)];
    }
    return await measureBytes(blocks.filter((b) => b.length));
  } catch (error) {
    options.signal?.throwIfAborted();
    return { bytes: 0, entropy: 0, ratio: 0, error: (error as Error).message };
  }
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;

import { z } from 'zod';
import { BackupErrors } from './errors.js';
import type { BackupTarget } from './targets/index.js';

export interface ManifestEntry {
  path: string;
  size?: number;
  sha256: string;
  sm3?: string;
}

export interface Manifest {
  /** Which file it came from. */
  source: 'manifest.json' | 'SHA256SUMS';
  createdAt?: string;
  files: ManifestEntry[];
}

/** Files that describe a set rather than belong to it; they are never "extra". */
export const MANIFEST_FILES: readonly string[] = ['manifest.json', 'SHA256SUMS'];

const hex64 = z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex digits').transform((s) => s.toLowerCase());

const ManifestJsonSchema = z.object({
  createdAt: z.string().optional(),
  files: z.array(z.object({
    path: z.string().min(1),
    size: z.number().int().min(0).optional(),
    sha256: hex64,
    sm3: hex64.optional(),
  })),
});

function normalizePath(path: string, where: string): string {
  const clean = path.replace(/^\.\//, '');
  if (!clean || clean.startsWith('/') || clean.split('/').some((part) => part === '..' || part === '' || part === '.')) {
    throw BackupErrors.manifest(where, `path ${JSON.stringify(path)} is not a plain relative path inside the set`);
  }
  return clean;
}

function checkUnique(files: ManifestEntry[], where: string): ManifestEntry[] {
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file.path)) throw BackupErrors.manifest(where, `${file.path} is listed twice`);
    seen.add(file.path);
  }
  return files;
}

/** `manifest.json`: `{ createdAt?, files: [{ path, size?, sha256, sm3? }] }`. */
export function parseManifestJson(text: string, where = 'manifest.json'): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw BackupErrors.manifest(where, `not JSON: ${(error as Error).message}`);
  }
  const parsed = ManifestJsonSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw BackupErrors.manifest(where, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const files = parsed.data.files.map((file) => ({ ...file, path: normalizePath(file.path, where) }));
  return {
    source: 'manifest.json',
    ...(parsed.data.createdAt ? { createdAt: parsed.data.createdAt } : {}),
    files: checkUnique(files, where),
  };
}

/**
 * `sha256sum` output: `<hex>  <path>` (text mode) or `<hex> *<path>` (binary mode). Names with a
 * newline or backslash are written by sha256sum with a leading `\` and escaped; we undo that.
 */
export function parseSha256Sums(text: string, where = 'SHA256SUMS'): Manifest {
  const files: ManifestEntry[] = [];
  text.split('\n').forEach((line, index) => {
    if (!line.trim() || line.startsWith('#')) return;
    const escaped = line.startsWith('\\');
    const match = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(escaped ? line.slice(1) : line);
    if (!match) throw BackupErrors.manifest(where, `line ${index + 1} is not "<sha256>  <file>": ${JSON.stringify(line.slice(0, 120))}`);
    const name = escaped ? match[2]!.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\')) : match[2]!;
    files.push({ path: normalizePath(name, `${where} line ${index + 1}`), sha256: match[1]!.toLowerCase() });
  });
  return { source: 'SHA256SUMS', files: checkUnique(files, where) };
}

/** The set's manifest, `manifest.json` first, else `SHA256SUMS`; undefined when it has neither. */
export async function readManifest(target: BackupTarget, set: string): Promise<Manifest | undefined> {
  const json = await target.readSmallFile(set, 'manifest.json');
  if (json) return parseManifestJson(json.toString('utf8'), `${target.description}/${set}/manifest.json`);
  const sums = await target.readSmallFile(set, 'SHA256SUMS');
  if (sums) return parseSha256Sums(sums.toString('utf8'), `${target.description}/${set}/SHA256SUMS`);
  return undefined;
}

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureExecutable } from '../core/index.js';

/** The cover line that names the signing key; the renderer prints it and the verifier reads it back. */
export const FINGERPRINT_LABEL = '签名公钥指纹 Signing key fingerprint：';

/** poppler's text extractor: the PDF embeds a CJK font subset, whose glyph codes only a real PDF reader maps back to text. */
export const PDFTOTEXT = { command: 'pdftotext', debianPackage: 'poppler-utils' };

const FINGERPRINT_LINE = /Signing key fingerprint[：:]\s*([\x21-\x7e]+)/g; // printable ASCII only: no terminal escapes reach the output
// A hostile PDF must not hang verify or fill memory.
const EXTRACT_TIMEOUT_MS = 60_000;
const EXTRACT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Every signing-key fingerprint the report's text names (normally one, on the cover). Throws when the
 * bytes are no readable PDF; pdftotext is installed with apt-get when missing (a clear error otherwise).
 */
export async function reportFingerprints(pdf: Buffer): Promise<string[]> {
  const pdftotext = await ensureExecutable(PDFTOTEXT);
  const dir = await mkdtemp(join(tmpdir(), 'shouwang-verify-'));
  try {
    const file = join(dir, 'report.pdf');
    await writeFile(file, pdf, { mode: 0o600 });
    const { stdout } = await promisify(execFile)(pdftotext, ['-q', '-enc', 'UTF-8', file, '-'], {
      encoding: 'utf8', timeout: EXTRACT_TIMEOUT_MS, maxBuffer: EXTRACT_MAX_BYTES,
    });
    return [...stdout.matchAll(FINGERPRINT_LINE)].map((match) => match[1]!);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

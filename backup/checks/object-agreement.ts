import type { Manifest } from '../manifest.js';
import type { ObjectFacts, S3Target } from '../targets/index.js';
import { mapLimited } from './immutability.js';
import { digestFile } from './integrity.js';

export interface ObjectAgreement {
  differing: string[];
  /** How each file was compared: by the stores' SHA-256, by ETag, or by streaming both copies. */
  byChecksum: number;
  byEtag: number;
  byDownload: number;
  bytesDownloaded: number;
}

/** A single-part ETag is the content's MD5; a multipart one (`…-N`) depends on the part size. */
const plainEtag = (facts: ObjectFacts) => (facts.etag && /^[0-9a-f]{32}$/i.test(facts.etag) ? facts.etag.toLowerCase() : undefined);

/**
 * Two object stores holding the same set: each file's copies are compared by what the stores already
 * know (full-object SHA-256, else a plain ETag), and streamed through SHA-256 only when they cannot
 * tell. Different SHA-256 checksums prove a difference; different ETags do not (server-side
 * encryption changes them), so those are streamed too.
 */
export async function compareObjects(sameCity: S3Target, offSite: S3Target, set: string, manifest: Manifest): Promise<ObjectAgreement> {
  const result: ObjectAgreement = { differing: [], byChecksum: 0, byEtag: 0, byDownload: 0, bytesDownloaded: 0 };
  const paths = manifest.files.map((file) => file.path);
  await mapLimited(paths, 8, async (path) => {
    const [a, b] = await Promise.all([sameCity.objectFacts(set, path), offSite.objectFacts(set, path)]);
    if (a.size !== b.size) {
      result.differing.push(path);
      return;
    }
    if (a.sha256 && b.sha256) {
      result.byChecksum += 1;
      if (a.sha256 !== b.sha256) result.differing.push(path);
      return;
    }
    const etagA = plainEtag(a);
    if (etagA && etagA === plainEtag(b)) {
      result.byEtag += 1;
      return;
    }
    result.byDownload += 1;
    const [left, right] = await Promise.all([digestFile(sameCity, set, path, false), digestFile(offSite, set, path, false)]);
    result.bytesDownloaded += left.bytes + right.bytes;
    if (left.sha256 !== right.sha256) result.differing.push(path);
  });
  result.differing.sort();
  return result;
}

import {
  createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { algorithmOf, canonicalJson, digestFor, keyFingerprint, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../core/index.js';
import { EvidenceErrors } from './errors.js';

/** `ed25519` (default) or `sm2` (SM2 over SM3, GB/T 32918, where Node's OpenSSL has it). */
export type SignatureAlgorithm = 'ed25519' | 'sm2';

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
  sm3: string;
}

export interface Manifest {
  format: 'shouwang-evidence/1';
  createdAt: string;
  generator: string;
  /** `timeZone` of the report's local dates and times (IANA name); absent in bundles made before it was recorded. */
  timeZone?: string;
  selection: Record<string, unknown>;
  /** Sorted by path; every file of the bundle but manifest.json and manifest.sig. */
  files: ManifestFile[];
  signature: {
    algorithm: SignatureAlgorithm;
    /** SPKI PEM of the signer. */
    publicKey: string;
    /** `SHA256:` + base64 of the SPKI DER, as ssh-keygen prints fingerprints. */
    fingerprint: string;
    /** How the signed bytes are made from manifest.json. */
    canonicalization: string;
  };
}

export const CANONICALIZATION = 'JSON with object keys sorted by code unit, no whitespace, UTF-8 (core canonicalJson)';

export function digestsOf(path: string, data: Buffer): ManifestFile {
  return {
    path, size: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
    sm3: createHash('sm3').update(data).digest('hex'),
  };
}

/** Whether this Node's OpenSSL can sign with SM2. */
export function sm2Supported(): boolean {
  try {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'SM2' });
    const data = Buffer.from('probe');
    return verify('sm3', data, publicKey, sign('sm3', data, privateKey));
  } catch {
    return false;
  }
}

// One key, one fingerprint: the evidence bundle and the audit checkpoints name a key the same way.
export { algorithmOf, keyFingerprint as fingerprintOf };

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  algorithm: SignatureAlgorithm;
}

export function generateSigningKey(algorithm: SignatureAlgorithm = 'ed25519'): SigningKey {
  if (algorithm === 'sm2' && !sm2Supported()) throw EvidenceErrors.key('(new key)', `this Node's OpenSSL (${process.versions.openssl}) cannot sign with SM2`);
  const pair = algorithm === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'SM2' });
  return { ...pair, algorithm };
}

/** Writes the private key (PKCS#8 PEM, mode 600) and `<path>.pub` (SPKI PEM). */
export function writeSigningKey(path: string, key: SigningKey): { privatePath: string; publicPath: string } {
  // Folders it creates are 0700 whatever the umask (an existing folder, e.g. one named with --out, is left as it is).
  mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
  writeFileSync(path, key.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  chmodSync(path, PRIVATE_FILE_MODE);
  const publicPath = `${path}.pub`;
  writeFileSync(publicPath, key.publicKey.export({ type: 'spki', format: 'pem' }));
  return { privatePath: path, publicPath };
}

export function readSigningKey(path: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(path));
  } catch (error) {
    throw EvidenceErrors.key(path, (error as Error).message);
  }
  const algorithm = algorithmOf(privateKey);
  if (!algorithm) throw EvidenceErrors.key(path, `unsupported key type ${privateKey.asymmetricKeyType}; use Ed25519 or SM2 (shouwang evidence keygen)`);
  return { privateKey, publicKey: createPublicKey(privateKey), algorithm };
}

/** The signing key at `path`, created (Ed25519) on first use. */
export function ensureSigningKey(path: string): SigningKey {
  if (!existsSync(path)) writeSigningKey(path, generateSigningKey('ed25519'));
  return readSigningKey(path);
}

export function readPublicKey(path: string): KeyObject {
  try {
    const key = createPublicKey(readFileSync(path));
    if (!algorithmOf(key)) throw new Error(`unsupported key type ${key.asymmetricKeyType}`);
    return key;
  } catch (error) {
    throw EvidenceErrors.key(path, (error as Error).message);
  }
}

/** The bytes the signature covers: the canonical form of manifest.json. */
export const signedBytes = (manifest: unknown): Buffer => Buffer.from(canonicalJson(manifest), 'utf8');

export function signManifest(manifest: Manifest, key: SigningKey): Buffer {
  return sign(digestFor(key.algorithm), signedBytes(manifest), key.privateKey);
}

export function verifyManifestSignature(manifest: unknown, signature: Buffer, publicKey: KeyObject): boolean {
  const algorithm = algorithmOf(publicKey);
  if (!algorithm) return false;
  try {
    return verify(digestFor(algorithm), signedBytes(manifest), publicKey, signature);
  } catch {
    return false;
  }
}

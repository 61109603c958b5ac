import { createHmac, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';

/** What the audit trail records for a failed login whose username no user has. */
export const UNKNOWN_USER = '(unknown user)';

/**
 * A fingerprint key derived from the instance's signing key: the same across restarts (repeated attempts
 * still correlate), and no use for signing anything.
 */
export function fingerprintKeyFrom(privateKey: KeyObject): Buffer {
  return Buffer.from(hkdfSync('sha256', privateKey.export({ type: 'pkcs8', format: 'der' }), '', 'shouwang login username fingerprint', 32));
}

/** Without a configured key, one per process: fingerprints then correlate only until a restart. */
export const processFingerprintKey = (): Buffer => randomBytes(32);

/**
 * How a failed login's username is audited. People type their password into the username field, so a name
 * no user has is never recorded: only `(unknown user) #` and a keyed HMAC, which cannot be checked against guesses without the key.
 */
export function unknownUserLabel(key: Buffer, typed: string): string {
  return `${UNKNOWN_USER} #${createHmac('sha256', key).update(typed, 'utf8').digest('hex').slice(0, 16)}`;
}

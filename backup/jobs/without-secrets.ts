/** A reason longer than this is cut: a result's summary is read on a console, not a log. */
const MAX_REASON = 1000;

/**
 * An error message as a result may keep it: a URL's password (`//user:secret@`) and `password=…`-style parameters
 * masked, the length bounded. Errors from targets and tools may quote the connection string they failed on.
 */
export function withoutSecrets(message: string): string {
  const masked = message
    .replace(/(\/\/[^\s/:@]*:)[^\s/@]*@/g, '$1***@')
    // No word boundary: PGPASSWORD= and X-Api-Key: count too, and the scan stays linear.
    .replace(/(pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|access[_-]?key|secret[_-]?key)(["']?\s*[=:]\s*["']?)[^\s&"',;]+/gi, '$1$2***');
  return masked.length > MAX_REASON ? `${masked.slice(0, MAX_REASON)}…` : masked;
}

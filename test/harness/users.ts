import { readFileSync } from 'node:fs';

/** Reads a system user's uid and gid from /etc/passwd, falling back to `nobody`. */
export function lookupUser(name: string): { uid: number; gid: number; name: string } {
  const lines = readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const wanted of [name, 'nobody']) {
    const fields = lines.find((line) => line.startsWith(`${wanted}:`))?.split(':');
    if (fields) return { name: wanted, uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new Error(`no user ${name} or nobody in /etc/passwd`);
}

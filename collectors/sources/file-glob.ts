import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';

/**
 * Lists the regular files a glob pattern matches. Node 20 has no fs.glob, and log paths need little:
 * `*` and `?` within a name, `[abc]` classes, and `**` for any depth of directories
 * (`/var/log/**\/app-*.log`). Symbolic links to directories are not followed, so a loop cannot hang a scan.
 */
export async function expandGlob(pattern: string, cwd = process.cwd()): Promise<string[]> {
  const absolute = isAbsolute(pattern) ? pattern : resolve(cwd, pattern);
  const segments = absolute.split(sep).filter((segment, i) => segment !== '' || i === 0);
  // The part without wildcards is where the walk starts.
  let base = segments[0] === '' ? sep : segments[0]!;
  let i = 1;
  while (i < segments.length - 1 && !isWild(segments[i]!)) base = join(base, segments[i++]!);
  const matchers = segments.slice(i).map(compileSegment);
  const found: string[] = [];
  await walk(base, matchers, found);
  return found.sort();
}

type Matcher = '**' | RegExp;

async function walk(dir: string, matchers: readonly Matcher[], found: string[]): Promise<void> {
  const [first, ...rest] = matchers;
  if (!first) return;
  if (first === '**') {
    await walk(dir, rest, found); // zero directories
    for (const entry of await entries(dir)) if (entry.isDirectory()) await walk(join(dir, entry.name), matchers, found);
    return;
  }
  for (const entry of await entries(dir)) {
    if (!first.test(entry.name)) continue;
    const path = join(dir, entry.name);
    if (rest.length === 0) {
      if (entry.isFile() || (entry.isSymbolicLink() && (await isFile(path)))) found.push(path);
    } else if (entry.isDirectory()) await walk(path, rest, found);
  }
}

async function entries(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return []; // a directory that is not there (yet), or one we may not read: nothing matches in it
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

const isWild = (segment: string) => /[*?[]/.test(segment);

function compileSegment(segment: string): Matcher {
  if (segment === '**') return '**';
  let source = '';
  for (let i = 0; i < segment.length; i += 1) {
    const char = segment[i]!;
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[' && segment.indexOf(']', i + 2) > 0) {
      const end = segment.indexOf(']', i + 2);
      const body = segment.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
      source += `[${body}]`;
      i = end;
    } else source += char.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  // Hidden files (rotated leftovers such as `.app.log.swp`) match only a pattern that names the dot.
  return new RegExp(`^${segment.startsWith('.') ? '' : '(?!\\.)'}${source}$`);
}

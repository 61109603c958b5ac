import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Which test files are integration tests, decided from the code so the split cannot drift:
 * a file is one when it, or a test module it imports (transitively, inside test/), imports the
 * harness (test/harness/: real Redis, PostgreSQL, MariaDB, Elasticsearch, Chromium, sshd, rsyslog,
 * the built CLI) or imports vitest's `inject` (the service URLs). Every other file is a unit test:
 * no services, no global setup, run in parallel.
 */
export interface TestSplit {
  unit: string[];
  integration: string[];
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
// vitest's inject (the service URLs the global setup provides), not Fastify's `app.inject()`.
const INJECT = /import\s*\{[^}]*\binject\b[^}]*\}\s*from\s*['"]vitest['"]/;

export function splitTests(root: string): TestSplit {
  const testDir = resolve(root, 'test');
  const harness = join(testDir, 'harness') + '/';
  const memo = new Map<string, boolean>();

  const needsServices = (file: string, seen: Set<string>): boolean => {
    const known = memo.get(file);
    if (known !== undefined) return known;
    if (seen.has(file)) return false;
    seen.add(file);
    if (file.startsWith(harness)) return true;
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch {
      return false; // not a test module (a fixture, a .mjs passed to a child process)
    }
    let found = INJECT.test(source);
    for (const match of source.matchAll(IMPORT)) {
      if (found) break;
      const target = resolve(dirname(file), (match[1] ?? match[2])!).replace(/\.js$/, '.ts');
      if (target.startsWith(testDir + '/')) found = needsServices(target, seen);
    }
    memo.set(file, found);
    return found;
  };

  const split: TestSplit = { unit: [], integration: [] };
  for (const file of walk(testDir).filter((f) => f.endsWith('.test.ts')).sort()) {
    split[needsServices(file, new Set()) ? 'integration' : 'unit'].push(relative(root, file));
  }
  return split;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)]);
}

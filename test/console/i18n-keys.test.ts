import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const WEB = 'console/web';
const I18N = join(WEB, 'js', 'i18n.js');

/** The keys of i18n.js's TABLE, read from its text (the module is browser code). */
function tableKeys(source: string): { keys: string[]; table: string } {
  const start = source.indexOf('const TABLE = {');
  const end = source.indexOf('\n};', start);
  const table = source.slice(start, end);
  return { keys: [...table.matchAll(/^ {2}([A-Za-z0-9_.]+): \[/gm)].map((m) => m[1]!), table };
}

function webSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return webSources(path);
    return /\.(js|html)$/.test(entry.name) ? [readFileSync(path, 'utf8')] : [];
  });
}

describe('console strings', () => {
  it('every zh-CN/English pair in i18n.js is used by a page (quoted, or built from a prefix such as channel_)', () => {
    const source = readFileSync(I18N, 'utf8');
    const { keys, table } = tableKeys(source);
    expect(keys.length).toBeGreaterThan(100);
    const rest = webSources(WEB).join('\n').replace(table, '');
    const prefixes = [...rest.matchAll(/\bt\(`([A-Za-z_.]+)\$\{/g)].map((m) => m[1]!);
    const unused = keys.filter((key) => !rest.includes(`'${key}'`) && !rest.includes(`"${key}"`) && !prefixes.some((p) => key.startsWith(p)));
    expect(unused).toEqual([]);
  });
});

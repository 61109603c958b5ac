import { existsSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorsOf, markdownFiles, prose, readText } from './markdown.js';

/** Every relative link `[text](target)` or `<a href>` in README.md and docs/, resolved against its page. */
function brokenLinks(): string[] {
  const broken: string[] = [];
  for (const page of markdownFiles()) {
    const text = prose(readText(page));
    for (const match of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const file = path === '' ? page : normalize(join(dirname(page), decodeURIComponent(path)));
      if (!existsSync(file)) {
        broken.push(`${page}: ${target} (no such file)`);
        continue;
      }
      if (anchor !== undefined && statSync(file).isFile() && file.endsWith('.md')
        && !anchorsOf(readText(file)).has(decodeURIComponent(anchor))) {
        broken.push(`${page}: ${target} (no heading #${anchor} in ${file})`);
      }
    }
  }
  return broken;
}

describe('documentation links', () => {
  it('resolve every relative link in README.md and docs/ to a file and, when given, a heading', () => {
    expect(markdownFiles().length).toBeGreaterThan(10);
    expect(brokenLinks()).toEqual([]);
  });

  it('computes anchors the way GitHub does, Chinese and code spans included', () => {
    const anchors = anchorsOf('# 守望 Shouwang\n## Syslog listeners (`collect.syslog`)\n## Correlation 关联分析\n## A\n## A\n```\n# not a heading\n```\n');
    expect([...anchors]).toEqual(['守望-shouwang', 'syslog-listeners-collectsyslog', 'correlation-关联分析', 'a', 'a-1']);
  });

  it('reports a link to a missing page or heading', () => {
    // The checker itself: a link it cannot resolve must show up, not pass silently.
    const text = prose('see [x](nowhere.md) and `[y](in-code.md)`');
    expect([...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1])).toEqual(['nowhere.md']);
  });
});

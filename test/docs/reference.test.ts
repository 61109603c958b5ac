import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES } from '../../core/index.js';
import { readText, tableRows } from './markdown.js';
import { CLI } from '../harness/built.js';

/** The setting paths a row of the settings table names: `a.b` / `.c` / `d` → a.b, a.c, a.d; `x[]` → x. */
function settingsOf(cell: string): string[] {
  const names = cell.split(' / ').map((name) => name.replace(/`/g, '').replace(/\[\]/g, '').trim());
  const first = names[0]!.split('.');
  return names.map((name, i) => {
    if (i === 0) return names[0]!;
    const leaf = name.replace(/^\./, '');
    return leaf.includes('.') ? leaf : [...first.slice(0, -1), leaf].join('.');
  });
}

/** Every metric the code declares through core's counter/gauge/histogram helpers. */
function declaredMetrics(): string[] {
  const names = new Set<string>();
  for (const dir of ['core', 'store', 'collectors', 'analyzers', 'backup', 'console', 'bin']) {
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const text = readText(join(entry.parentPath, entry.name));
      for (const match of text.matchAll(/\b(?:counter|gauge|histogram)(?:<[^>]*>)?\(\s*[\w.]+\s*,\s*\{\s*name:\s*'([a-z0-9_]+)'/g)) {
        names.add(`shouwang_${match[1]}`);
      }
    }
  }
  return [...names].sort();
}

describe('reference pages', () => {
  it('the settings table in docs/reference/configuration.md names every setting of the config schema', () => {
    const documented = new Set(tableRows(readText('docs/reference/configuration.md'), 'setting').flatMap((row) => settingsOf(row[0]!)));
    const settings = [...ENV_VARIABLES.values()].map((leaf) => leaf.path.join('.'));
    expect(settings.length).toBeGreaterThan(40);
    expect(settings.filter((path) => !documented.has(path))).toEqual([]);
  });

  it('reads the abbreviated rows of the settings table', () => {
    expect(settingsOf('`collect.syslog.udpPort` / `tcpPort` / `tlsPort`')).toEqual(['collect.syslog.udpPort', 'collect.syslog.tcpPort', 'collect.syslog.tlsPort']);
    expect(settingsOf('`elasticsearch.username` / `.password`')).toEqual(['elasticsearch.username', 'elasticsearch.password']);
    expect(settingsOf('`collect.files[].host` / `collect.http.sources[].host`')).toEqual(['collect.files.host', 'collect.http.sources.host']);
  });

  it('docs/reference/metrics.md lists every metric the code declares', () => {
    const metrics = declaredMetrics();
    expect(metrics.length).toBeGreaterThan(12); // the scan finds the folders' metrics
    const table = tableRows(readText('docs/reference/metrics.md'), 'metric').map((row) => row[0]!.replace(/`/g, ''));
    expect(metrics.filter((name) => !table.includes(name))).toEqual([]);
  });

  it('docs/reference/cli.md holds the --help of every command as the built CLI prints it', () => {
    const cli = readText('docs/reference/cli.md');
    const top = execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    const commands = [...top.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]!);
    expect(commands).toContain('evidence');
    for (const command of commands) {
      const args = command === 'inventory' ? ['inventory', 'check', '--help'] : [command, '--help'];
      const help = execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8' }).trim();
      expect(cli, `shouwang ${args.join(' ')}`).toContain(help);
    }
  });
});

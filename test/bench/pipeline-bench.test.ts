import { describe, expect, it } from 'vitest';
import { decodeSyslogLine } from '../../collectors/index.js';
import { rsyslogConfig, syslogNgConfig } from '../../bench/peers/peer-config.js';
import { pipelineInput } from '../../bench/pipeline-input.js';

const target = { workDir: '/tmp/shouwang-bench-pipeline-x/rsyslog-y', port: 40123, elasticsearchUrl: 'http://127.0.0.1:9200', index: 'bench-peer-1a2b' };
const layout = { version: '3.38', elasticHttpScl: '/var/cache/shouwang-bench/syslog-ng/root/usr/share/syslog-ng/include/scl/elasticsearch/elastic-http.conf' };
// The junction's filter in the syslog-ng config, as a JavaScript regex.
const RFC5424_FILTER = /^<[0-9]{1,3}>1 /;

describe('pipeline bench peers', () => {
  it('renders rsyslog listening on loopback, bulk-writing to the index without the _type Elasticsearch 8 refuses', () => {
    const config = rsyslogConfig(target);
    expect(config).toContain('input(type="imtcp" port="40123" address="127.0.0.1" ruleset="shouwang_bench")');
    expect(config).toContain('server="127.0.0.1" serverport="9200" searchIndex="bench-peer-1a2b"');
    expect(config).toContain('bulkmode="on" esVersion.major="8"');
    expect(config).toContain(`global(workDirectory="${target.workDir}")`);
  });

  it('renders syslog-ng parsing RFC 5424 first and RFC 3164 otherwise, into elasticsearch-http on _bulk', () => {
    const config = syslogNgConfig({ ...target, elasticsearchUrl: 'http://127.0.0.1:9200/' }, layout);
    expect(config.startsWith('@version: 3.38\n')).toBe(true);
    expect(config).toContain(`@include "${layout.elasticHttpScl}"`);
    expect(config).toContain('url("http://127.0.0.1:9200/_bulk") index("bench-peer-1a2b") type("")');
    expect(config.indexOf('flags(syslog-protocol)')).toBeLessThan(config.indexOf('parser { syslog-parser(); }'));
    expect(config).toContain('port(40123)');
  });

  it('refuses values that would break out of the config quotes or that Elasticsearch would refuse', () => {
    expect(() => rsyslogConfig({ ...target, workDir: '/tmp/a" module(load="omprog") x="' })).toThrow(/cannot carry/);
    expect(() => rsyslogConfig({ ...target, workDir: '/tmp/a\nmodule(load="omprog")' })).toThrow(/cannot carry/);
    expect(() => syslogNgConfig(target, { ...layout, elasticHttpScl: '/x"; @include "/etc/passwd' })).toThrow(/cannot carry/);
    expect(() => syslogNgConfig(target, { ...layout, version: '3.38"' })).toThrow(/version/);
    for (const index of ['Bench', 'bench-*', 'a,b', '_all', '']) expect(() => rsyslogConfig({ ...target, index })).toThrow(/index name/);
    for (const url of ['http://u:p@127.0.0.1:9200', 'https://127.0.0.1:9200', 'http://127.0.0.1:9200/prefix']) {
      expect(() => rsyslogConfig({ ...target, elasticsearchUrl: url })).toThrow(/plain http/);
    }
    for (const port of [0, 65_536, 1.5, Number.NaN]) expect(() => syslogNgConfig({ ...target, port }, layout)).toThrow(/TCP port/);
  });

  it('gives every receiver the same unique lines, half RFC 5424, all of which our decoder reads', () => {
    const now = new Date();
    const lines = pipelineInput(3_000, now);
    expect(lines).toHaveLength(3_000);
    // Our collector stores a repeated message once: a duplicate would leave the count short forever.
    expect(new Set(lines).size).toBe(lines.length);
    expect(lines.filter((line) => RFC5424_FILTER.test(line))).toHaveLength(1_500);
    const failed = lines.map((line) => decodeSyslogLine(line, { utcOffset: '+08:00', now })).filter((decoded) => !decoded.ok);
    expect(failed).toEqual([]);
    // Within the hour before now, whichever format carried them (RFC 3164 keeps whole seconds only).
    for (const line of [lines[0]!, lines[1]!, lines.at(-1)!, lines.at(-2)!]) {
      const decoded = decodeSyslogLine(line, { utcOffset: '+08:00', now });
      const at = decoded.ok ? Date.parse(decoded.fields.timestamp) : Number.NaN;
      expect(now.getTime() - at).toBeGreaterThanOrEqual(0);
      expect(now.getTime() - at).toBeLessThanOrEqual(3_601_000);
    }
  });
});

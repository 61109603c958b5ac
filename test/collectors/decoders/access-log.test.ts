import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { decodeAccessLog, decodeWebErrorLog } from '../../../collectors/decoders/access-log.js';
import type { RecordDecoder } from '../../../collectors/decoders/types.js';

const FIXTURES = 'test/fixtures/logs';
const context = { utcOffset: '+08:00', now: new Date('2026-11-26T12:00:00Z') };
// Both fit the record-decoder slot (checked by the type checker).
export const RECORD_DECODERS: RecordDecoder[] = [decodeAccessLog, decodeWebErrorLog];

function readLines(file: string): string[] {
  return readFileSync(`${FIXTURES}/${file}`, 'utf8').split('\n').filter(Boolean);
}

interface AccessFields {
  '@timestamp': string;
  event: { outcome: string };
  http: { request?: { method?: string }; response: { status_code: number; body?: { bytes?: number } } };
  url?: { original?: string; path?: string; query?: string };
  source?: { ip?: string };
  error?: { message: string };
}

describe('access-log decoder', () => {
  it("matches Filebeat's nginx access fields for every line of its test log", () => {
    // From filebeat/module/nginx/access/test/test.log-expected.json (elastic/beats): the client is the
    // first public address of the X-Forwarded-For list, else its first entry; times carry their zone.
    const expected = [
      { '@timestamp': '2016-12-07T10:05:07.000Z', source: { ip: '10.0.0.2' }, http: { request: { method: 'GET' }, version: '1.1', response: { status_code: 200, body: { bytes: 571 } } },
        url: { original: '/ocelot', path: '/ocelot' }, event: { outcome: 'success', category: ['web'], type: ['access'] } },
      { '@timestamp': '2017-05-29T19:02:48.000Z', source: { ip: '172.17.0.1' }, http: { response: { status_code: 404, body: { bytes: 612 } } },
        url: { original: '/stringpatch' }, event: { outcome: 'failure' },
        user_agent: { original: 'Mozilla/5.0 (Windows NT 6.1; rv:15.0) Gecko/20120716 Firefox/15.0a2' } },
      { '@timestamp': '2016-12-07T10:05:07.000Z', source: { ip: '85.181.35.98' }, related: { ip: ['10.0.0.2', '10.0.0.1', '85.181.35.98'] } },
      { '@timestamp': '2016-12-07T10:05:07.000Z', source: { ip: '85.181.35.98' }, http: { response: { status_code: 200 } } },
      { '@timestamp': '2016-01-22T13:18:29.000Z', source: { ip: '199.96.1.1' }, url: { original: '/assets/xxxx?q=100', path: '/assets/xxxx', query: 'q=100' },
        user_agent: { original: 'Amazon CloudFront' }, http: { response: { status_code: 200, body: { bytes: 25507 } } } },
      { '@timestamp': '2016-12-30T06:47:09.000Z', source: { ip: '2a03:0000:10ff:f00f:0000:0000:0:8000' }, http: { response: { status_code: 404, body: { bytes: 8571 } } },
        event: { outcome: 'failure' } },
      { '@timestamp': '2018-04-12T07:48:40.000Z', source: { ip: '127.0.0.1' }, http: { response: { status_code: 400, body: { bytes: 0 } } }, event: { outcome: 'failure' } },
    ];
    const results = readLines('elastic-beats-filebeat-tests/nginx-access/test.log').map((line) => decodeAccessLog(line));
    expect(results).toHaveLength(expected.length);
    results.forEach((result, i) => expect(result, `line ${i + 1}`).toMatchObject({ ok: true, fields: expected[i] }));
    // The empty request line ("") has no method, URL or version, and no referrer or agent ("-").
    expect(results[6]).toEqual({
      ok: true,
      fields: {
        '@timestamp': '2018-04-12T07:48:40.000Z',
        event: { category: ['web'], type: ['access'], outcome: 'failure' },
        http: { response: { status_code: 400, body: { bytes: 0 } } },
        source: { address: '127.0.0.1', ip: '127.0.0.1' },
        related: { ip: ['127.0.0.1'] },
      },
    });
  });

  it('decodes all 10,000 Apache combined lines, counting failures and the one cut-off line', () => {
    const lines = readLines('elastic-examples-apache_logs/apache_logs');
    expect(lines).toHaveLength(10_000);
    const statuses: Record<number, number> = {};
    const methods: Record<string, number> = {};
    const partial: number[] = [];
    let failed = 0;
    let withoutBytes = 0;
    lines.forEach((line, i) => {
      const result = decodeAccessLog(line);
      if (!result.ok) {
        failed += 1;
        return;
      }
      const f = result.fields as unknown as AccessFields;
      statuses[f.http.response.status_code] = (statuses[f.http.response.status_code] ?? 0) + 1;
      methods[f.http.request!.method!] = (methods[f.http.request!.method!] ?? 0) + 1;
      if (f.http.response.body?.bytes === undefined) withoutBytes += 1;
      if (f.error) partial.push(i + 1);
      expect(f.event.outcome).toBe(f.http.response.status_code >= 400 ? 'failure' : 'success');
    });
    expect(failed).toBe(0);
    // Counted independently with awk over the status column.
    expect(statuses).toEqual({ 200: 9126, 206: 45, 301: 164, 304: 445, 403: 2, 404: 213, 416: 2, 500: 3 });
    expect(Object.entries(statuses).filter(([s]) => Number(s) >= 400).reduce((n, [, c]) => n + c, 0)).toBe(220);
    expect(methods).toEqual({ GET: 9952, HEAD: 42, OPTIONS: 1, POST: 5 });
    expect(withoutBytes).toBe(669);
    // Line 8899 ends inside the user agent's quotes: kept, and flagged.
    expect(partial).toEqual([8899]);
    expect(decodeAccessLog(lines[8898]!)).toMatchObject({
      ok: true,
      fields: {
        source: { ip: '46.118.127.106' }, url: { path: '/scripts/grok-py-test/configlib.py' },
        error: { message: expect.stringContaining('unterminated quote') },
      },
    });
  });

  it('reads a full combined line into ECS fields', () => {
    const line = '83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36"';
    expect(decodeAccessLog(line)).toEqual({
      ok: true,
      fields: {
        '@timestamp': '2015-05-17T10:05:03.000Z',
        event: { category: ['web'], type: ['access'], outcome: 'success' },
        http: {
          request: { method: 'GET', referrer: 'http://semicomplete.com/presentations/logstash-monitorama-2013/' },
          version: '1.1',
          response: { status_code: 200, body: { bytes: 203023 } },
        },
        url: {
          original: '/presentations/logstash-monitorama-2013/images/kibana-search.png',
          path: '/presentations/logstash-monitorama-2013/images/kibana-search.png',
        },
        source: { address: '83.149.9.216', ip: '83.149.9.216' },
        related: { ip: ['83.149.9.216'] },
        user_agent: { original: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36' },
      },
    });
  });

  it.each<[string, string, object]>([
    ['common format with a user, local zone', '10.20.30.40 - zhangwei [26/Nov/2026:10:00:00 +0800] "GET /oa/index.jsp?id=7 HTTP/1.0" 200 2326',
      { '@timestamp': '2026-11-26T02:00:00.000Z', user: { name: 'zhangwei' }, url: { path: '/oa/index.jsp', query: 'id=7' }, http: { version: '1.0' } }],
    ['a "-" request line', '10.20.30.40 - - [26/Nov/2026:10:00:00 +0800] "-" 408 0 "-" "-"',
      { http: { response: { status_code: 408, body: { bytes: 0 } } }, event: { outcome: 'failure' } }],
    ['TLS bytes sent to a plain-HTTP port (nginx escapes them)', '203.0.113.5 - - [26/Nov/2026:10:00:00 +0800] "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03" 400 157 "-" "-"',
      { http: { response: { status_code: 400 } }, source: { ip: '203.0.113.5' } }],
    ['an escaped quote inside the user agent', '203.0.113.5 - - [26/Nov/2026:10:00:00 +0800] "GET / HTTP/1.1" 200 5 "-" "sqlmap \\"1.7\\""',
      { user_agent: { original: 'sqlmap \\"1.7\\"' } }],
    ['an absolute URL (proxy probing)', '203.0.113.5 - - [26/Nov/2026:10:00:00 +0800] "GET http://example.com:8080/a?b=1 HTTP/1.1" 404 0 "-" "-"',
      { url: { original: 'http://example.com:8080/a?b=1', scheme: 'http', domain: 'example.com', port: 8080, path: '/a', query: 'b=1' } }],
    ['nginx extra fields after the agent', '10.1.1.1 - - [26/Nov/2026:10:00:00 +0800] "GET / HTTP/2.0" 200 5 "-" "curl/8" "198.51.100.7" rt=0.003',
      { http: { version: '2.0' }, user_agent: { original: 'curl/8' } }],
  ])('%s', (_what, line, expected) => {
    const result = decodeAccessLog(line);
    expect(result).toMatchObject({ ok: true, fields: expected });
    expect(result.ok && result.fields.error).toBeUndefined();
  });

  it('says why a line is not an access-log line, and never throws', () => {
    expect(decodeAccessLog('hello')).toEqual({ ok: false, reason: 'not an access-log line (common or combined format)' });
    expect(decodeAccessLog('1.2.3.4 - - [99/Foo/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1')).toMatchObject({ ok: false, reason: expect.stringContaining('not a date') });
    expect(decodeAccessLog('1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /a"b HTTP/1.0" 200 1')).toMatchObject({ ok: false });
  });
});

describe('web error-log decoder', () => {
  it('decodes every line of loghub Apache_2k.log with the level and text loghub gives', () => {
    const rows = parse(readFileSync(`${FIXTURES}/loghub/Apache/Apache_2k.log_structured.csv`, 'utf8'), { columns: true }) as
      { Time: string; Level: string; Content: string; EventId: string }[];
    const lines = readLines('loghub/Apache/Apache_2k.log');
    expect(rows).toHaveLength(lines.length);
    const levels: Record<string, number> = {};
    let clients = 0;
    lines.forEach((line, i) => {
      const row = rows[i]!;
      const result = decodeWebErrorLog(line, context);
      if (!result.ok) throw new Error(`line ${i + 1}: ${result.reason}`);
      const f = result.fields as { '@timestamp': string; message: string; log: { level: string }; event: { type: string[] }; source?: { ip: string } };
      // Local time in the context's zone (+08:00), which V8 reads from "… GMT+0800".
      expect(f['@timestamp'], `line ${i + 1}`).toBe(new Date(`${row.Time} GMT+0800`).toISOString());
      expect(f.log.level).toBe(row.Level);
      expect(f.event.type).toEqual([row.Level === 'error' ? 'error' : 'info']);
      const client = /^\[client ([^\]]+)\] (.*)$/.exec(row.Content);
      expect(f.message).toBe(client ? client[2] : row.Content);
      expect(f.source?.ip).toBe(client?.[1]);
      levels[f.log.level] = (levels[f.log.level] ?? 0) + 1;
      if (f.source) clients += 1;
    });
    expect(levels).toEqual({ notice: 1405, error: 595 });
    expect(clients).toBe(rows.filter((r) => r.EventId === 'E4').length);
    expect(clients).toBe(32);
  });

  it('reads Apache 2.4 and nginx error lines', () => {
    expect(decodeWebErrorLog('[Wed Oct 11 14:32:52.123456 2017] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:51234] File does not exist: /favicon.ico', context)).toEqual({
      ok: true,
      fields: {
        '@timestamp': '2017-10-11T06:32:52.123Z',
        message: 'File does not exist: /favicon.ico',
        log: { level: 'error' },
        event: { category: ['web'], type: ['error'] },
        apache: { error: { module: 'core' } },
        process: { pid: 35708, thread: { id: 4328636416 } },
        source: { ip: '72.15.99.187', port: 51234 },
      },
    });
    const nginx = '2026/11/26 10:00:00 [error] 1234#0: *5 open() "/usr/share/nginx/html/admin.php" failed (2: No such file or directory), client: 10.1.2.3, server: oa.gov.local, request: "GET /admin.php?x=1 HTTP/1.1", host: "oa.gov.local"';
    expect(decodeWebErrorLog(nginx, context)).toEqual({
      ok: true,
      fields: {
        '@timestamp': '2026-11-26T02:00:00.000Z',
        message: nginx.slice(nginx.indexOf('open()')),
        log: { level: 'error' },
        event: { category: ['web'], type: ['error'] },
        process: { pid: 1234, thread: { id: 0 } },
        nginx: { error: { connection_id: 5 } },
        source: { ip: '10.1.2.3' },
        http: { request: { method: 'GET' }, version: '1.1' },
        url: { original: '/admin.php?x=1', path: '/admin.php', query: 'x=1', domain: 'oa.gov.local' },
      },
    });
    expect(decodeWebErrorLog('2026/11/26 10:00:01 [notice] 1#1: signal process started', context))
      .toMatchObject({ ok: true, fields: { log: { level: 'notice' }, event: { type: ['info'] } } });
  });

  it('refuses lines that are not error-log lines, or have no time', () => {
    expect(decodeWebErrorLog('hello', context)).toEqual({ ok: false, reason: 'not an Apache or nginx error-log line' });
    expect(decodeWebErrorLog('[error] [client 1.2.3.4] no time here', context)).toEqual({ ok: false, reason: 'error-log line has no valid time' });
  });
});

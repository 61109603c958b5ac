import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AssetIndex, CoreErrors, loadConfig, loadInventory, type ShouwangEvent } from '../../../core/index.js';
import { createAppLogFormat, decodeAppLog } from '../../../collectors/decoders/app-log.js';
import type { EcsFields, RecordContext, RecordResult } from '../../../collectors/decoders/types.js';
import { FileDeadLetterSink, FileTailer, type TailSink } from '../../../collectors/index.js';
import { RECORD_FORMATS, recordFormat } from '../../../collectors/decoders/record-formats.js';
import { joinRecords, MAX_RECORD_LINES } from '../../../collectors/record-join.js';

const context: RecordContext = { utcOffset: '+08:00', now: new Date('2026-12-01T03:00:00Z') };
const fields = (result: RecordResult): EcsFields => {
  if (!result.ok) throw new Error(`expected the record to decode, got: ${result.reason}`);
  return result.fields;
};
const reason = (result: RecordResult): string => {
  if (result.ok) throw new Error(`expected a bad record, got ${JSON.stringify(result.fields)}`);
  return result.reason;
};

const JAVA_TRACE = [
  'java.lang.IllegalStateException: 库存不足',
  '\tat com.x.order.OrderService.place(OrderService.java:42)',
  '\tat com.x.order.OrderController.post(OrderController.java:17)',
  'Caused by: java.sql.SQLException: Connection refused',
  '\tat org.postgresql.Driver.connect(Driver.java:285)',
  '\t... 12 more',
];

describe('app-log default patterns', () => {
  it.each([
    ['logback default %d{HH:mm:ss.SSS} [%thread] %-5level %logger{36} - %msg (time only: today at the source offset)',
      '09:15:02.123 [http-nio-8080-exec-1] WARN  com.x.order.OrderService - 库存不足',
      { '@timestamp': '2026-12-01T01:15:02.123Z', log: { level: 'warn', logger: 'com.x.order.OrderService' }, process: { thread: { name: 'http-nio-8080-exec-1' } }, message: '库存不足' }],
    ['logback with yyyy-MM-dd HH:mm:ss.SSS',
      '2026-12-01 09:15:02.123 [main] INFO  c.x.App - started in 3.2 s',
      { '@timestamp': '2026-12-01T01:15:02.123Z', log: { level: 'info', logger: 'c.x.App' }, process: { thread: { name: 'main' } }, message: 'started in 3.2 s' }],
    ['log4j2 DefaultConfiguration %d{HH:mm:ss.SSS} [%t] %-5level %logger{36} - %msg',
      '09:15:02.123 [main] ERROR org.apache.Foo - boom - with dashes',
      { log: { level: 'error', logger: 'org.apache.Foo' }, message: 'boom - with dashes' }],
    ['the common %d [%p] %c - %m (the issue\'s line)',
      '2026-12-01 09:15:02,123 [WARN] com.x.Y - 消息',
      { '@timestamp': '2026-12-01T01:15:02.123Z', log: { level: 'warn', logger: 'com.x.Y' }, message: '消息' }],
    ['%d %-5level [%thread] %logger - %msg with an ISO time and zone',
      '2026-12-01T09:15:02.123+0800 DEBUG [pool-1-thread-3] com.x.Job - tick',
      { '@timestamp': '2026-12-01T01:15:02.123Z', log: { level: 'debug', logger: 'com.x.Job' }, process: { thread: { name: 'pool-1-thread-3' } }, message: 'tick' }],
    ['Python %(asctime)s - %(name)s - %(levelname)s - %(message)s',
      '2026-12-01 09:15:02,123 - myapp.db - WARNING - 连接池已满',
      { '@timestamp': '2026-12-01T01:15:02.123Z', log: { level: 'warning', logger: 'myapp.db' }, message: '连接池已满' }],
    ['Python basicConfig %(levelname)s:%(name)s:%(message)s (no time: the time of reading)',
      'ERROR:root:could not open file: x.txt',
      { '@timestamp': '2026-12-01T03:00:00.000Z', log: { level: 'error', logger: 'root' }, message: 'could not open file: x.txt' }],
  ])('%s', (_name, line, expected) => {
    expect(fields(decodeAppLog(line, context))).toMatchObject({ ...expected, event: { kind: 'event', module: 'app' } });
  });

  it('joins a Java stack trace to its line: error.stack_trace, error.type and error.message', () => {
    const lines = ['2026-12-01 09:15:02,123 [ERROR] com.x.order.OrderService - 下单失败', ...JAVA_TRACE, '2026-12-01 09:15:03,000 [INFO] com.x.App - next'];
    const records = [...joinRecords(lines, RECORD_FORMATS['app-log']!.join!)];
    expect(records).toHaveLength(2);
    expect(fields(decodeAppLog(records[0]!, context))).toMatchObject({
      message: '下单失败', log: { level: 'error' },
      error: { stack_trace: JAVA_TRACE.join('\n'), type: 'java.lang.IllegalStateException', message: '库存不足' },
    });
    expect(fields(decodeAppLog(records[1]!, context))).not.toHaveProperty('error');
  });

  it('joins a Python traceback, blank lines of a chained one included, and takes the exception from its last line', () => {
    const trace = [
      'Traceback (most recent call last):',
      '  File "app.py", line 3, in <module>',
      '    int("x")',
      'ValueError: invalid literal for int() with base 10: \'x\'',
    ];
    const lines = ['2026-12-01 09:15:02,123 - myapp - ERROR - parse failed', ...trace, '', '2026-12-01 09:15:03,000 - myapp - INFO - done'];
    const records = [...joinRecords(lines, RECORD_FORMATS['app-log']!.join!)];
    expect(records).toHaveLength(2);
    expect(fields(decodeAppLog(records[0]!, context))).toMatchObject({
      error: { stack_trace: trace.join('\n'), type: 'ValueError', message: "invalid literal for int() with base 10: 'x'" },
    });
  });

  it('takes a time-only line written before midnight and read after it as yesterday’s', () => {
    const justAfterMidnight = { utcOffset: '+08:00', now: new Date('2026-11-30T16:00:30Z') }; // 00:00:30 on Dec 1 in +08:00
    expect(fields(decodeAppLog('23:59:58.000 [main] INFO  a.B - late', justAfterMidnight))['@timestamp']).toBe('2026-11-30T15:59:58.000Z');
    expect(fields(decodeAppLog('00:00:10.000 [main] INFO  a.B - early', justAfterMidnight))['@timestamp']).toBe('2026-11-30T16:00:10.000Z');
  });

  it.each([
    ['garbage', 'does not match the default application-log patterns'],
    ['', 'does not match'],
    ['2026-13-01 09:15:02,123 [WARN] com.x.Y - bad month', 'time is not a date'],
    ['99:15:02.123 [main] WARN  com.x.Y - bad hour', 'time is not a date'],
    ['\tat com.x.Y.f(Y.java:1)', 'does not match'],
  ])('rejects %j', (line, expected) => {
    expect(reason(decodeAppLog(line, context))).toContain(expected);
  });
});

describe('app-log configured pattern', () => {
  it('reads named groups of its own (pid, host, service too) and joins what does not start a record', () => {
    const pattern = String.raw`^\[(?<timestamp>[^\]]+)\] (?<service>\w+)\[(?<pid>\d+)\] (?<level>\w+) (?<logger>\S+): (?<message>.*)$`;
    const format = recordFormat('app-log', { pattern })!;
    const lines = ['[2026-12-01 09:15:02.5] billing[4242] WARN pay.Gateway: 超时', 'java.net.SocketTimeoutException: Read timed out', '\tat x.Y(Y.java:1)'];
    const [record, ...rest] = [...joinRecords(lines, format.join!)];
    expect(rest).toEqual([]);
    expect(fields(format.decode(record!, context))).toMatchObject({
      '@timestamp': '2026-12-01T01:15:02.500Z', message: '超时', service: { name: 'billing' }, process: { pid: 4242 },
      log: { level: 'warn', logger: 'pay.Gateway' }, error: { type: 'java.net.SocketTimeoutException', message: 'Read timed out' },
    });
    // The defaults do not apply once a pattern is configured.
    expect(reason(format.decode('2026-12-01 09:15:02,123 [WARN] com.x.Y - 消息', context))).toContain('does not match the configured pattern');
  });

  it('refuses a pattern that is no regex or has no message group, naming the reason', () => {
    expect(() => createAppLogFormat({ pattern: '(unclosed' })).toThrow(/not a valid regular expression/);
    expect(() => createAppLogFormat({ pattern: '^(?<level>\\w+)' })).toThrow(/no \(\?<message>…\) group/);
  });

  it('a misconfigured pattern cannot pile a whole file into one record', () => {
    const lines = Array.from({ length: MAX_RECORD_LINES * 2 + 5 }, (_, i) => `no record starts here ${i}`);
    const records = [...joinRecords(lines, RECORD_FORMATS['app-log']!.join!)];
    expect(records.map((r) => r.split('\n').length)).toEqual([MAX_RECORD_LINES, MAX_RECORD_LINES, 5]);
  });
});

describe('app-log file source', () => {
  const root = mkdtempSync(join(tmpdir(), 'shouwang-applog-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));

  it('tails a Java log: the stack trace joins its line, the zone is the source offset, the host maps the system', async () => {
    const dir = mkdtempSync(join(root, 'case-'));
    writeFileSync(join(dir, 'app.log'), [
      '2026-12-01 09:15:02,123 [ERROR] com.x.order.OrderService - 下单失败', ...JAVA_TRACE, '2026-12-01 09:15:03,000 [INFO] com.x.App - next', '',
    ].join('\n'));
    const taken: ShouwangEvent[] = [];
    const sink: TailSink = { saturated: false, write: async (events) => void taken.push(...events) };
    const tailer = await FileTailer.start({
      source: { id: 'orders', paths: [join(dir, '*.log')], format: 'app-log', encoding: 'utf-8', startAt: 'beginning', pollMs: 20, maxLineBytes: 4096, host: 'gaj-jwzh-app01' },
      sink, assets, deadLetters: new FileDeadLetterSink(join(dir, 'dead')), checkpointPath: join(dir, 'cp.json'), utcOffset: '+09:00',
    });
    try {
      await tailer.nextPoll();
      await tailer.nextPoll();
    } finally {
      await tailer.close();
    }
    expect(taken).toHaveLength(2);
    expect(taken[0]).toMatchObject({
      '@timestamp': '2026-12-01T00:15:02.123Z', message: '下单失败', event: { dataset: 'app.log' },
      error: { stack_trace: JAVA_TRACE.join('\n') }, host: { name: 'gaj-jwzh-app01' }, shouwang: { system: 'gaj-jwzh', source: 'orders' },
    });
  });

  it('the config takes logLinePrefix and pattern per source and refuses a pattern that is no regex, naming the field', () => {
    const dir = mkdtempSync(join(root, 'config-'));
    const yaml = (pattern: string) => {
      const path = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(path, [
        'collect:', '  files:', '    - id: app', '      paths: [/var/log/app/*.log]', '      format: app-log', `      pattern: ${JSON.stringify(pattern)}`,
        '    - id: pg', '      paths: [/var/log/postgresql/*.log]', '      format: pgaudit', "      logLinePrefix: '%m [%p] %u@%d %h '", '      host: gaj-hzgl-db01',
        '  http:', '    sources:', '      - { id: pg-http, token: 0123456789abcdef0123, format: pgaudit, logLinePrefix: "%m [%p] ", host: db01 }', '',
      ].join('\n'));
      return path;
    };
    const { config } = loadConfig({ env: {}, file: yaml('^(?<message>.*)$') });
    expect(config.collect.files.map((f) => [f.pattern, f.logLinePrefix, f.host])).toEqual([
      ['^(?<message>.*)$', undefined, undefined], [undefined, '%m [%p] %u@%d %h ', 'gaj-hzgl-db01'],
    ]);
    expect(config.collect.http.sources[0]).toMatchObject({ logLinePrefix: '%m [%p] ', host: 'db01' });
    expect(() => loadConfig({ env: {}, file: yaml('(unclosed') })).toThrow(/collect\.files\[0\]\.pattern: a valid regular expression/);
  });

  it('a bad pattern in a file source is a configuration error naming the source', async () => {
    const dir = mkdtempSync(join(root, 'bad-'));
    const sink: TailSink = { saturated: false, write: async () => undefined };
    await expect(FileTailer.start({
      source: { id: 'broken', paths: [join(dir, '*.log')], format: 'app-log', pattern: '^(?<message>.*', encoding: 'utf-8', startAt: 'beginning', pollMs: 20, maxLineBytes: 4096 },
      sink, assets, deadLetters: new FileDeadLetterSink(join(dir, 'dead')), checkpointPath: join(dir, 'cp.json'),
    })).rejects.toMatchObject({ code: CoreErrors.configInvalid('x', 'y').code, message: expect.stringContaining('collect.files[broken]') });
  });
});

describe('app-log under attack (fixed seed)', () => {
  it('never throws on truncations, flipped characters, random text and huge lines', () => {
    let seed = 1201;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const valid = ['2026-12-01 09:15:02,123 [main] ERROR com.x.Y - 消息 - more', ...JAVA_TRACE].join('\n');
    const inputs: string[] = [];
    for (let cut = 0; cut <= valid.length; cut += 2) inputs.push(valid.slice(0, cut));
    for (let i = 0; i < 3000; i++) {
      const chars = [...valid];
      for (let k = 0; k < 1 + Math.floor(next() * 4); k++) chars[Math.floor(next() * chars.length)] = String.fromCharCode(Math.floor(next() * 0x3000));
      inputs.push(chars.join(''));
    }
    inputs.push(`2026-12-01 09:15:02,123 [${'['.repeat(100_000)}`, `09:15:02.123 [${'a '.repeat(100_000)}`, `${'- '.repeat(100_000)}`, `ERROR:${'x'.repeat(1 << 20)}`);
    for (const input of inputs) {
      const result = decodeAppLog(input, context);
      expect(result.ok || result.reason.length > 0).toBe(true);
    }
    expect(fields(decodeAppLog(`2026-12-01 09:15:02,123 [WARN] com.x.Y - ${'长'.repeat(1 << 20)}`, context)).message).toHaveLength(1 << 20);
  });
});

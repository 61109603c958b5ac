/**
 * Config files for the peers of `npm run bench -- pipeline`: rsyslog (omelasticsearch) and syslog-ng
 * (elasticsearch-http), each taking TCP syslog (newline framing, RFC 3164 and RFC 5424 mixed in one
 * stream), parsing it into JSON fields and bulk-writing it to one Elasticsearch index.
 * Pure functions: the files are checked by test/bench/peer-config.test.ts.
 */

export interface PeerTarget {
  /** The peer's own working directory (queues, persist file, pid). */
  workDir: string;
  /** TCP port the peer listens on, on 127.0.0.1. */
  port: number;
  /** Elasticsearch node, e.g. http://127.0.0.1:9200 (no credentials: the test node has none). */
  elasticsearchUrl: string;
  /** The index every event goes to. */
  index: string;
}

/** Both config languages quote with "…"; a value that would close the quote or the line is refused, not escaped. */
function quoted(name: string, value: string): string {
  if (/["\\\n\r\0`]/.test(value)) throw new Error(`peer config: ${name} holds a character the config cannot carry: ${JSON.stringify(value)}`);
  return value;
}

function port(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65_535) throw new Error(`peer config: ${name} is not a TCP port: ${value}`);
  return value;
}

/** Index names Elasticsearch accepts: lower case, no separators or wildcards. */
function indexName(value: string): string {
  if (!/^[a-z0-9][a-z0-9._-]{0,200}$/.test(value)) throw new Error(`peer config: index name not accepted by Elasticsearch: ${JSON.stringify(value)}`);
  return value;
}

function node(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' || parsed.username || parsed.pathname.replace(/\/$/, '') !== '') {
    throw new Error(`peer config: Elasticsearch URL must be plain http://host:port, got ${JSON.stringify(url)}`);
  }
  return { host: quoted('Elasticsearch host', parsed.hostname), port: port('Elasticsearch port', Number(parsed.port || 80)) };
}

/**
 * rsyslog 8.x: imtcp → its built-in RFC 5424/3164 parsers → a JSON template → omelasticsearch in bulk mode.
 * `esVersion.major=8`: without it rsyslog 8.2302 sends `_type`, which Elasticsearch 8 rejects.
 */
export function rsyslogConfig(target: PeerTarget): string {
  const es = node(target.elasticsearchUrl);
  const dir = quoted('workDir', target.workDir);
  return [
    `global(workDirectory="${dir}")`,
    'module(load="imtcp")',
    'module(load="omelasticsearch")',
    'template(name="shouwang_bench_json" type="list" option.jsonf="on") {',
    '  property(outname="@timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")',
    '  property(outname="host" name="hostname" format="jsonf")',
    '  property(outname="severity" name="syslogseverity-text" format="jsonf")',
    '  property(outname="facility" name="syslogfacility-text" format="jsonf")',
    '  property(outname="program" name="programname" format="jsonf")',
    '  property(outname="procid" name="procid" format="jsonf")',
    '  property(outname="msgid" name="msgid" format="jsonf")',
    '  property(outname="structured_data" name="structured-data" format="jsonf")',
    '  property(outname="message" name="msg" format="jsonf")',
    '}',
    `input(type="imtcp" port="${port('port', target.port)}" address="127.0.0.1" ruleset="shouwang_bench")`,
    'ruleset(name="shouwang_bench" queue.type="LinkedList" queue.size="200000" queue.dequeueBatchSize="1000") {',
    `  action(type="omelasticsearch" server="${es.host}" serverport="${es.port}" searchIndex="${indexName(target.index)}"`,
    `    template="shouwang_bench_json" bulkmode="on" esVersion.major="8" maxbytes="10m"`,
    `    errorfile="${dir}/elasticsearch-errors.json" action.resumeRetryCount="-1")`,
    '}',
  ].join('\n') + '\n';
}

export interface SyslogNgLayout {
  /** e.g. `3.38`, for the `@version:` line. */
  version: string;
  /** The SCL file defining `elasticsearch-http()` (…/scl/elasticsearch/elastic-http.conf). */
  elasticHttpScl: string;
}

/**
 * syslog-ng 3.x: network() with no parsing, then RFC 5424 (`<PRI>1 …`) or RFC 3164 by a junction, since
 * one TCP stream carries both; then `elasticsearch-http()` from the SCL (the http module, JSON body in
 * `format-json --scope rfc5424`). Included by absolute path: the SCL may be unpacked outside /usr.
 */
export function syslogNgConfig(target: PeerTarget, layout: SyslogNgLayout): string {
  node(target.elasticsearchUrl);
  if (!/^\d+\.\d+$/.test(layout.version)) throw new Error(`peer config: syslog-ng version must be like 3.38, got ${JSON.stringify(layout.version)}`);
  const bulkUrl = `${target.elasticsearchUrl.replace(/\/$/, '')}/_bulk`;
  return [
    `@version: ${layout.version}`,
    `@include "${quoted('elasticHttpScl', layout.elasticHttpScl)}"`,
    'options { threaded(yes); keep-hostname(yes); chain-hostnames(no); stats-freq(0); };',
    `source s_bench { network(transport("tcp") ip("127.0.0.1") port(${port('port', target.port)}) flags(no-parse) log-iw-size(100000) max-connections(64)); };`,
    `destination d_es { elasticsearch-http(url("${quoted('Elasticsearch URL', bulkUrl)}") index("${indexName(target.index)}") type("")`,
    '  workers(4) batch-lines(1000) batch-timeout(100)); };',
    'log {',
    '  source(s_bench);',
    '  junction {',
    '    channel { filter { message("^<[0-9]{1,3}>1 "); }; parser { syslog-parser(flags(syslog-protocol)); }; flags(final); };',
    '    channel { parser { syslog-parser(); }; flags(final); };',
    '  };',
    '  destination(d_es);',
    '};',
  ].join('\n') + '\n';
}

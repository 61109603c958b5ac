import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { CoreErrors, counter, type AssetIndex, type Config, type Logger } from '../core/index.js';
import type { EventStore } from '../store/index.js';
import { FileDeadLetterSink } from './dead-letter.js';
import { EventSink } from './event-sink.js';
import type { IngestMetrics } from './metrics.js';
import { SyslogServer } from './sources/syslog-server.js';
import { syslogHandler } from './syslog-collector.js';

export interface Collection {
  sink: EventSink;
  syslogPorts: { udp?: number; tcp?: number; tls?: number };
  /** Stops the listeners, then delivers what they received (to the store or the spool). Safe twice. */
  close(): Promise<void>;
}

/** Starts the configured sources and the sink they share. */
export async function startCollection(options: {
  config: Config;
  store: EventStore;
  assets: AssetIndex;
  registry: Registry;
  metrics: IngestMetrics;
  logger: Logger;
}): Promise<Collection> {
  const { config, logger } = options;
  const { syslog } = config.collect;
  const deadLetters = new FileDeadLetterSink(join(config.dataDir, 'dead-letter'));
  const sink = new EventSink({
    store: options.store, spoolDir: join(config.dataDir, 'spool'), deadLetters, maxSpoolBytes: config.collect.spoolMaxBytes,
    batchSize: config.collect.batchSize, flushIntervalMs: config.collect.flushMs, metrics: options.metrics, logger, name: 'syslog',
  });
  const dropped = counter(options.registry, { name: 'ingest_udp_dropped_total', help: 'UDP syslog messages dropped while the spool was full' });
  if (syslog.tlsPort !== undefined && !(syslog.tlsCert && syslog.tlsKey)) {
    throw CoreErrors.configInvalid('collect.syslog', '  - collect.syslog.tlsCert / tlsKey: required when tlsPort is set, got nothing');
  }
  const server = new SyslogServer({
    host: syslog.host,
    ...(syslog.udpPort !== undefined ? { udpPort: syslog.udpPort } : {}),
    ...(syslog.tcpPort !== undefined ? { tcpPort: syslog.tcpPort } : {}),
    ...(syslog.tlsPort !== undefined ? { tlsPort: syslog.tlsPort, tls: { cert: readFileSync(syslog.tlsCert!), key: readFileSync(syslog.tlsKey!) } } : {}),
    onMessage: syslogHandler({ source: 'syslog', sink, assets: options.assets, deadLetters, utcOffset: config.collect.utcOffset }),
    saturated: () => sink.saturated,
    onDrop: (n) => dropped.inc(n),
  });
  try {
    await server.start();
  } catch (error) {
    await sink.close();
    throw CoreErrors.serviceStart('syslog listener', (error as Error).message);
  }
  let closing: Promise<void> | undefined;
  return {
    sink,
    syslogPorts: server.ports,
    close: () => (closing ??= server.close().then(() => sink.close())),
  };
}

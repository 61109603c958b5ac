import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { CoreErrors, ShouwangError, type AssetIndex, type Config, type Logger, type ShouwangEvent } from '../core/index.js';
import type { EventStore } from '../store/index.js';
import { FileDeadLetterSink } from './dead-letter.js';
import { EventSink } from './event-sink.js';
import type { IngestMetrics } from './metrics.js';
import { FileTailer } from './sources/file-tail.js';
import { HttpSource } from './sources/http-source.js';
import { SyslogServer } from './sources/syslog-server.js';
import { syslogHandler } from './syslog-collector.js';

export interface Collection {
  sink: EventSink;
  syslogPorts: { udp?: number; tcp?: number; tls?: number };
  /** The HTTP ingest port when `collect.http.port` is set. */
  httpPort?: number;
  /** How many `collect.files` sources are being tailed. */
  fileSources: number;
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
  /** Sees every event as it arrives (the analyzers' stream matcher); sources checkpoint after a returned promise. */
  observe?: (events: readonly ShouwangEvent[]) => unknown;
}): Promise<Collection> {
  const { config, logger } = options;
  const { syslog } = config.collect;
  const deadLetters = new FileDeadLetterSink(join(config.dataDir, 'dead-letter'));
  // SQLite has one writer: concurrent batches would only queue inside the store.
  const slots = config.store === 'embedded' ? 1 : config.collect.inFlightBatches;
  const sink = new EventSink({
    store: options.store, spoolDir: join(config.dataDir, 'spool'), deadLetters, maxSpoolBytes: config.collect.spoolMaxBytes,
    batchSize: config.collect.batchSize, flushIntervalMs: config.collect.flushMs, metrics: options.metrics, logger, name: 'syslog',
    inFlight: slots,
    maxMemoryEvents: config.collect.maxMemoryEvents,
    ...(options.observe ? { observe: options.observe } : {}),
  });
  if (syslog.tlsPort !== undefined && !(syslog.tlsCert && syslog.tlsKey)) {
    throw CoreErrors.configInvalid('collect.syslog', '  - collect.syslog.tlsCert / tlsKey: required when tlsPort is set, got nothing');
  }
  const server = new SyslogServer({
    host: syslog.host,
    ...(syslog.udpPort !== undefined ? { udpPort: syslog.udpPort } : {}),
    ...(syslog.tcpPort !== undefined ? { tcpPort: syslog.tcpPort } : {}),
    ...(syslog.tlsPort !== undefined ? { tlsPort: syslog.tlsPort, tls: { cert: readFileSync(syslog.tlsCert!), key: readFileSync(syslog.tlsKey!) } } : {}),
    onMessage: syslogHandler({
      source: 'syslog', sink, assets: options.assets, deadLetters, utcOffset: config.collect.utcOffset, timeZone: config.timeZone, metrics: options.metrics,
      encoding: syslog.encoding, senders: syslog.senders,
    }),
    saturated: () => sink.saturated,
    // Every store slot busy and a batch waiting: TCP senders pause, so memory stays at a few batches.
    whenSinkFree: () => sink.whenFree(),
    // The sink at collect.maxMemoryEvents (all sources counted): every connection pauses, however many there are.
    overloaded: () => sink.overloaded,
    // One connection (a relay) may fill every slot and the batch after them.
    maxInFlight: Math.max(1000, config.collect.batchSize * (slots + 1)),
    onDrop: (n) => options.metrics.dropped.inc({ source: 'syslog' }, n),
    maxMessageBytes: syslog.maxMessageBytes,
    udpReceiveBufferBytes: syslog.udpReceiveBufferBytes,
  });
  try {
    await server.start();
  } catch (error) {
    await sink.close();
    throw CoreErrors.serviceStart('syslog listener', (error as Error).message);
  }
  const unwatchUdp = options.metrics.watchUdpSocket('syslog', { drops: () => server.udpKernelDrops(), bufferBytes: () => server.udpReceiveBufferBytes });
  const { http } = config.collect;
  let httpSource: HttpSource | undefined;
  try {
    httpSource = http.port === undefined ? undefined : new HttpSource({
      host: http.host, port: http.port, sources: http.sources, bodyLimit: http.bodyLimit, maxPendingRecords: http.maxPendingRecords,
      sink, assets: options.assets, deadLetters, utcOffset: config.collect.utcOffset, timeZone: config.timeZone, metrics: options.metrics, logger,
    });
    await httpSource?.start();
  } catch (error) {
    await server.close();
    await sink.close();
    throw error instanceof ShouwangError ? error : CoreErrors.serviceStart('HTTP ingest listener', (error as Error).message);
  }
  // Tailers start last and stop first: the sink closes only after their last batch.
  const tailers: FileTailer[] = [];
  try {
    const ids = config.collect.files.map((source) => source.id);
    const twice = ids.find((id, i) => ids.indexOf(id) !== i);
    if (twice) throw CoreErrors.configInvalid('collect.files', `  - collect.files: source id ${JSON.stringify(twice)} is used twice`);
    for (const source of config.collect.files) {
      tailers.push(await FileTailer.start({
        source, sink, assets: options.assets, deadLetters, metrics: options.metrics, logger, utcOffset: config.collect.utcOffset, timeZone: config.timeZone,
        checkpointPath: join(config.dataDir, 'checkpoints', `files-${source.id}.json`),
        // Every store slot busy, and the next chunk decoded meanwhile; checkpoints still move in order.
        maxInFlight: slots + 1,
      }));
    }
  } catch (error) {
    await Promise.all([server.close(), httpSource?.close(), ...tailers.map((tailer) => tailer.close())]);
    await sink.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    sink,
    syslogPorts: server.ports,
    ...(httpSource ? { httpPort: httpSource.port! } : {}),
    fileSources: tailers.length,
    close: () => (closing ??= Promise.all([server.close().finally(unwatchUdp), httpSource?.close(), ...tailers.map((tailer) => tailer.close())]).then(() => sink.close())),
  };
}

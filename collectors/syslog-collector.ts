import { createHash } from 'node:crypto';
import type { AssetIndex } from '../core/index.js';
import { deadLetter, type DeadLetterSink } from './dead-letter.js';
import type { EventSink } from './event-sink.js';
import { decodeLine } from './line-ingest.js';
import { countIngest, type IngestMetrics } from './metrics.js';
import type { MessageHandler } from './sources/syslog-server.js';

export interface SyslogCollectorOptions {
  source: string;
  sink: EventSink;
  assets: AssetIndex;
  deadLetters: DeadLetterSink;
  utcOffset?: string;
  metrics?: IngestMetrics;
}

/**
 * Turns each received syslog message into an event for the sink. A network message has no position,
 * so its id comes from its content and sender: the same message relayed twice is stored once.
 */
export function syslogHandler(options: SyslogCollectorOptions): MessageHandler {
  const decoder = new TextDecoder('utf-8');
  return async (message, peer) => {
    const text = decoder.decode(message);
    const digest = createHash('sha256').update(message).digest('base64url');
    const line = { text, position: `${peer.address}#${digest}` };
    const decoded = decodeLine(line, options.source, options.assets, { utcOffset: options.utcOffset ?? '+08:00', now: new Date() }, peer);
    countIngest(options.metrics, options.source, { received: 1, [decoded.ok ? 'decoded' : 'failed']: 1 });
    if (decoded.ok) await options.sink.write([decoded.event]);
    else {
      await options.deadLetters.write([deadLetter(options.source, `${peer.address}:${peer.port}`, decoded.reason, text)]);
    }
  };
}

import { createHash } from 'node:crypto';
import type { AssetIndex } from '../core/index.js';
import { deadLetter, type DeadLetterSink } from './dead-letter.js';
import { createTextDecoder, type SourceEncoding, type TextDecodeFn } from './decoders/text-encoding.js';
import type { EventSink } from './event-sink.js';
import { decodeLine } from './line-ingest.js';
import { countIngest, type IngestMetrics } from './metrics.js';
import type { MessageHandler } from './sources/syslog-server.js';

/** A sender that differs from the listener's defaults (an old GBK device, a host logging in UTC). */
export interface SyslogSender {
  address: string;
  encoding?: SourceEncoding;
  utcOffset?: string;
}

export interface SyslogCollectorOptions {
  source: string;
  sink: EventSink;
  assets: AssetIndex;
  deadLetters: DeadLetterSink;
  utcOffset?: string;
  /** Encoding of the messages (default utf-8); a sender listed in `senders` may differ. */
  encoding?: SourceEncoding;
  senders?: readonly SyslogSender[];
  metrics?: IngestMetrics;
}

/** Tags on an event whose message was cut at the cap, or had bytes invalid in its encoding. */
export const TRUNCATED_TAG = 'truncated';
export const ENCODING_INVALID_TAG = 'encoding_invalid';

/** A listener on `::` sees IPv4 senders as `::ffff:10.1.2.3`; the configured address is `10.1.2.3`. */
const plainAddress = (address: string) => (address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address);

/**
 * Turns each received syslog message into an event for the sink. A network message has no position,
 * so its id comes from its content and sender: the same message relayed twice is stored once.
 */
export function syslogHandler(options: SyslogCollectorOptions): MessageHandler {
  const decoders = new Map<SourceEncoding, TextDecodeFn>();
  const decoderFor = (encoding: SourceEncoding) => {
    let decode = decoders.get(encoding);
    if (!decode) decoders.set(encoding, (decode = createTextDecoder(encoding)));
    return decode;
  };
  const utcOffset = options.utcOffset ?? '+08:00';
  const fallback = { decode: decoderFor(options.encoding ?? 'utf-8'), utcOffset };
  // Decided once per sender at start, not per message.
  const senders = new Map((options.senders ?? []).map((sender) => [plainAddress(sender.address), {
    decode: sender.encoding ? decoderFor(sender.encoding) : fallback.decode, utcOffset: sender.utcOffset ?? utcOffset,
  }]));
  return async (message, peer, _transport, info) => {
    const sender = senders.get(plainAddress(peer.address)) ?? fallback;
    const { text, invalid } = sender.decode(message);
    const digest = createHash('sha256').update(message).digest('base64url');
    const line = { text, position: `${peer.address}#${digest}` };
    const decoded = decodeLine(line, options.source, options.assets, { utcOffset: sender.utcOffset, now: new Date() }, peer);
    countIngest(options.metrics, options.source, { received: 1, [decoded.ok ? 'decoded' : 'failed']: 1 });
    const cut = info?.originalBytes;
    if (decoded.ok) {
      const { event } = decoded;
      const tags = [...(cut !== undefined ? [TRUNCATED_TAG] : []), ...(invalid ? [ENCODING_INVALID_TAG] : [])];
      if (tags.length) event.tags = [...(Array.isArray(event.tags) ? (event.tags as string[]) : []), ...tags];
      // The size the sender sent (log.original_size, bytes); event.original keeps only the first maxMessageBytes.
      const size = cut !== undefined ? { original_size: cut } : undefined;
      if (size) event.log = { ...event.log, ...size };
      await options.sink.write([event]);
    } else {
      const reason = [decoded.reason, ...(cut !== undefined ? [`truncated from ${cut} bytes`] : []), ...(invalid ? [ENCODING_INVALID_TAG] : [])];
      await options.deadLetters.write([deadLetter(options.source, `${peer.address}:${peer.port}`, reason.join('; '), text)]);
    }
  };
}

import { hash } from 'node:crypto';
import type { AssetIndex, ShouwangEvent } from '../core/index.js';
import { deadLetter, type DeadLetter, type DeadLetterSink } from './dead-letter.js';
import { createTextDecoder, type SourceEncoding, type TextDecodeFn } from './decoders/text-encoding.js';
import type { EventSink } from './event-sink.js';
import { ENCODING_INVALID_TAG, resolveFormat, type LineContext } from './decoders/resolve-format.js';
import { countIngest, type IngestMetrics } from './metrics.js';
import type { MessageHandler, Peer, ReceivedMessage } from './sources/syslog-server.js';

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
  /** `timeZone`: the zone of timestamps without one when no offset is stated. */
  timeZone?: string;
  /** Encoding of the messages (default utf-8); a sender listed in `senders` may differ. */
  encoding?: SourceEncoding;
  senders?: readonly SyslogSender[];
  metrics?: IngestMetrics;
}

/** Tags on an event whose message was cut at the cap, or had bytes invalid in its encoding. */
export const TRUNCATED_TAG = 'truncated';
export { ENCODING_INVALID_TAG };

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
  const format = resolveFormat({ source: options.source, format: 'syslog', assets: options.assets, ...(options.utcOffset ? { defaultUtcOffset: options.utcOffset } : {}),
    ...(options.timeZone ? { timeZone: options.timeZone } : {}) });
  const fallback: { decode: TextDecodeFn; utcOffset?: string } = { decode: decoderFor(options.encoding ?? 'utf-8') };
  // Decided once per sender at start, not per message. A sender's own zone wins over the inventory's for its host.
  const senders = new Map((options.senders ?? []).map((sender) => [plainAddress(sender.address), {
    decode: sender.encoding ? decoderFor(sender.encoding) : fallback.decode, ...(sender.utcOffset ? { utcOffset: sender.utcOffset } : {}),
  }]));
  // One sender, one read: the sender's decoder, the clock and the sink write are taken once for all its messages.
  const batch = async (messages: readonly ReceivedMessage[], peer: Peer, transport: 'udp' | 'tcp' | 'tls'): Promise<void> => {
    const sender = senders.get(plainAddress(peer.address)) ?? fallback;
    const now = new Date();
    const events: ShouwangEvent[] = [];
    const letters: DeadLetter[] = [];
    for (const { message, originalBytes: cut } of messages) {
      const { text, invalid } = sender.decode(message);
      const digest = hash('sha256', message, 'base64url');
      const line = { text, position: `${peer.address}#${digest}` };
      const context: LineContext = { now, peer, invalid };
      if (sender.utcOffset) context.utcOffset = sender.utcOffset;
      const decoded = format.decode(line, context);
      if (decoded.ok) {
        const { event } = decoded;
        if (cut !== undefined) {
          event.tags = [TRUNCATED_TAG, ...(Array.isArray(event.tags) ? (event.tags as string[]) : [])];
          // The size the sender sent (log.original_size, bytes); event.original keeps only the first maxMessageBytes.
          const size = { original_size: cut };
          event.log = { ...event.log, ...size };
        }
        events.push(event);
      } else {
        const reason = [decoded.reason, ...(cut !== undefined ? [`truncated from ${cut} bytes`] : []), ...(invalid ? [ENCODING_INVALID_TAG] : [])];
        letters.push(deadLetter(options.source, `${peer.address}:${peer.port}`, reason.join('; '), text));
      }
    }
    countIngest(options.metrics, options.source, { received: messages.length, decoded: events.length, failed: letters.length });
    await Promise.all([
      events.length ? deliver(events, transport) : undefined,
      letters.length ? options.deadLetters.write(letters) : undefined,
    ]);
  };
  // UDP cannot pause: while the store is slow and memory is at its bound, to disk (a full spool too: dropped, counted).
  const deliver = async (events: ShouwangEvent[], transport: 'udp' | 'tcp' | 'tls'): Promise<void> => {
    if (transport !== 'udp' || !options.sink.overloaded) await options.sink.write(events);
    else if (!(await options.sink.spill(events))) options.metrics?.dropped.inc({ source: options.source }, events.length);
  };
  const handler: MessageHandler = (message, peer, transport, info) => batch([{ message, ...info }], peer, transport);
  handler.batch = batch;
  return handler;
}

/** One message taken from a stream; `originalBytes` is set when it was longer than the cap and cut. */
export interface SyslogFrame {
  message: Buffer;
  originalBytes?: number;
}

/** 64 KiB, as rsyslog's and syslog-ng's default largest message. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const isDigit = (byte: number) => byte >= 0x30 && byte <= 0x39;

/**
 * Splits a syslog TCP stream into messages (RFC 6587): octet counting (`<len> <msg>`, what RFC 5425
 * and rsyslog's octet-counted framing send) or one message per line.
 *
 * The framing is decided once per connection from its first frame: octet counting only when it starts
 * `<len> <PRI>` with a length within the cap, newline framing otherwise. So a line of garbage that
 * happens to start with digits and a space cannot swallow the lines after it.
 *
 * Memory stays bounded: a message keeps at most `maxMessageBytes`; the rest of a longer one is counted
 * and skipped (up to its line end, or its octet count), and the message is passed on cut, with its size.
 * Pending bytes are kept as a list of copied parts and joined once, so a message arriving in many chunks
 * costs linear time.
 */
export class SyslogFramer {
  readonly #maxMessageBytes: number;
  #mode: 'unknown' | 'octet' | 'line' = 'unknown';
  /** Bytes of a frame header still being read (at most a length, a space and a `<PRI>`). */
  #head: number[] = [];
  /** The current message, cut at the cap. */
  #parts: Buffer[] = [];
  #kept = 0;
  /** Bytes of the current message seen so far, kept or not. */
  #seen = 0;
  /** Inside a newline-framed message. */
  #inLine = false;
  /** Inside an octet-counted message: its announced length. */
  #octets = 0;

  constructor(maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** Bytes held for messages not yet complete; never more than the cap plus a frame header. */
  get retainedBytes(): number {
    return this.#kept + this.#head.length;
  }

  /** The framing this connection uses, once its first frame has shown it. */
  get framing(): 'unknown' | 'octet-counting' | 'newline' {
    return this.#mode === 'unknown' ? 'unknown' : this.#mode === 'octet' ? 'octet-counting' : 'newline';
  }

  /** Feeds bytes; returns the complete messages they finish (with framing removed). */
  push(chunk: Buffer): SyslogFrame[] {
    const frames: SyslogFrame[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.#octets) at = this.#readOctets(chunk, at, frames);
      else if (this.#inLine) at = this.#readLine(chunk, at, frames);
      else at = this.#readHead(chunk, at, frames);
    }
    return frames;
  }

  /** What is left when the connection closes: a last message without its line end. */
  end(): SyslogFrame[] {
    const frames: SyslogFrame[] = [];
    if (this.#head.length) {
      this.#keep(Buffer.from(this.#head));
      this.#head = [];
    }
    if (this.#seen) frames.push(this.#take());
    this.#inLine = false;
    this.#octets = 0;
    return frames;
  }

  /** Between frames: skips stray line ends, then reads just enough of a header to know the frame's kind. */
  #readHead(chunk: Buffer, at: number, frames: SyslogFrame[]): number {
    while (at < chunk.length) {
      const byte = chunk[at]!;
      if (this.#head.length === 0 && (byte === LF || byte === CR)) {
        at += 1;
        continue;
      }
      if (this.#mode === 'line') {
        this.#inLine = true;
        return at;
      }
      this.#head.push(byte);
      at += 1;
      const kind = this.#classify();
      if (kind === 'more') continue;
      const head = Buffer.from(this.#head);
      this.#head = [];
      if (kind === 'line') {
        if (this.#mode === 'unknown') this.#mode = 'line';
        this.#inLine = true;
        this.#readLine(head, 0, frames);
        return at;
      }
      this.#mode = 'octet';
      this.#octets = kind.length;
      this.#readOctets(head, kind.bodyStart, frames);
      return at;
    }
    return at;
  }

  /**
   * `<len> <PRI>` (len without leading zero, PRI of 1–3 digits) makes an octet-counted frame. The first
   * frame must also announce at most the cap; on a connection already octet-counted a longer frame is
   * a long message, cut. Anything else is a line.
   */
  #classify(): 'more' | 'line' | { length: number; bodyStart: number } {
    const head = this.#head;
    const space = head.indexOf(SP);
    const digits = space < 0 ? head.length : space;
    for (let i = 0; i < digits; i += 1) if (!isDigit(head[i]!)) return 'line';
    if (digits > 10 || head[0] === 0x30) return 'line';
    if (space < 0) return 'more';
    const pri = head.slice(space + 1);
    if (pri.length === 0) return 'more';
    if (pri[0] !== 0x3c) return 'line'; // `<`
    let n = 1;
    while (n < pri.length && isDigit(pri[n]!)) n += 1;
    if (n === pri.length) return n > 4 ? 'line' : 'more';
    if (n === 1 || n > 4 || pri[n] !== 0x3e) return 'line'; // `>` after 1–3 digits
    const length = Number(Buffer.from(head.slice(0, digits)).toString('latin1'));
    if (length < n + 1) return 'line';
    if (this.#mode === 'unknown' && length > this.#maxMessageBytes) return 'line';
    return { length, bodyStart: space + 1 };
  }

  #readOctets(chunk: Buffer, at: number, frames: SyslogFrame[]): number {
    const length = this.#octets;
    // The usual case, a whole frame inside one chunk: passed on without a copy.
    if (this.#seen === 0 && length <= this.#maxMessageBytes && chunk.length - at >= length) {
      frames.push({ message: chunk.subarray(at, at + length) });
      this.#octets = 0;
      return at + length;
    }
    const n = Math.min(this.#octets - this.#seen, chunk.length - at);
    this.#keep(chunk.subarray(at, at + n));
    if (this.#seen === this.#octets) {
      frames.push(this.#take());
      this.#octets = 0;
    }
    return at + n;
  }

  #readLine(chunk: Buffer, at: number, frames: SyslogFrame[]): number {
    const lineEnd = chunk.indexOf(LF, at);
    const end = lineEnd < 0 ? chunk.length : lineEnd;
    // The usual case, a whole line inside one chunk: passed on without a copy.
    if (lineEnd >= 0 && this.#seen === 0 && end - at <= this.#maxMessageBytes) {
      frames.push({ message: trimCr(chunk.subarray(at, end)) });
      this.#inLine = false;
      return end + 1;
    }
    this.#keep(chunk.subarray(at, end));
    if (lineEnd < 0) return end;
    frames.push(this.#take());
    this.#inLine = false;
    return end + 1;
  }

  /** Keeps bytes of the current message up to the cap (copied: a chunk is not pinned by a small tail). */
  #keep(bytes: Buffer): void {
    this.#seen += bytes.length;
    const room = this.#maxMessageBytes - this.#kept;
    if (room <= 0 || bytes.length === 0) return;
    const kept = Buffer.from(bytes.subarray(0, room));
    this.#parts.push(kept);
    this.#kept += kept.length;
  }

  #take(): SyslogFrame {
    const message = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#kept);
    const frame: SyslogFrame = { message: this.#inLine ? trimCr(message) : message };
    if (this.#seen > this.#kept) frame.originalBytes = this.#seen;
    this.#parts = [];
    this.#kept = 0;
    this.#seen = 0;
    return frame;
  }
}

function trimCr(message: Buffer): Buffer {
  return message[message.length - 1] === CR ? message.subarray(0, -1) : message;
}

/**
 * Splits a syslog TCP stream into messages (RFC 6587): octet counting (`<len> <msg>`, what RFC 5425
 * and rsyslog's octet-counted framing send) or one message per line. A frame that starts with a
 * digit is octet-counted; `<` starts a newline-framed one. Senders may switch between frames.
 */
export class SyslogFramer {
  #buffer: Buffer = Buffer.alloc(0);
  readonly #maxMessageBytes: number;

  constructor(maxMessageBytes = 64 * 1024) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** Feeds bytes; returns the complete messages they finish (with framing removed). */
  push(chunk: Buffer): Buffer[] {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    const messages: Buffer[] = [];
    for (;;) {
      // Skip stray line ends between frames.
      let start = 0;
      while (start < this.#buffer.length && (this.#buffer[start] === 0x0a || this.#buffer[start] === 0x0d)) start += 1;
      if (start) this.#buffer = this.#buffer.subarray(start);
      if (this.#buffer.length === 0) break;
      const first = this.#buffer[0]!;
      if (first >= 0x30 && first <= 0x39) {
        const space = this.#buffer.indexOf(0x20);
        if (space < 0) {
          if (this.#buffer.length > 10) messages.push(this.#take(this.#buffer.length)); // not a length: pass it on as text
          break;
        }
        const length = Number(this.#buffer.subarray(0, space).toString('latin1'));
        if (!Number.isInteger(length) || space > 9) {
          const end = this.#buffer.indexOf(0x0a);
          if (end < 0) break;
          messages.push(this.#take(end, 1));
          continue;
        }
        if (this.#buffer.length < space + 1 + length) break;
        this.#buffer = this.#buffer.subarray(space + 1);
        messages.push(this.#take(length));
        continue;
      }
      const end = this.#buffer.indexOf(0x0a);
      if (end < 0) {
        // A sender that never sends a line end must not grow our memory without bound.
        if (this.#buffer.length > this.#maxMessageBytes) messages.push(this.#take(this.#buffer.length));
        break;
      }
      messages.push(this.#take(end, 1));
    }
    return messages;
  }

  /** What is left when the connection closes: a last message without its line end. */
  end(): Buffer[] {
    const rest = this.#buffer;
    this.#buffer = Buffer.alloc(0);
    return rest.length ? [rest] : [];
  }

  #take(length: number, skip = 0): Buffer {
    const message = this.#buffer.subarray(0, length);
    this.#buffer = this.#buffer.subarray(length + skip);
    return message[message.length - 1] === 0x0d ? message.subarray(0, -1) : message;
  }
}

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { DEFAULT_MAX_MESSAGE_BYTES, SyslogFramer, type SyslogFrame } from './syslog-framing.js';
import { readUdpKernelDrops } from './udp-drops.js';

export interface Peer {
  address: string;
  port: number;
}

/** What else is known of a message: `originalBytes` when it was longer than the cap and cut. */
export interface MessageInfo {
  originalBytes?: number;
}

/** A message with what else is known of it, as a batch handler receives it. */
export interface ReceivedMessage extends MessageInfo {
  message: Buffer;
}

/**
 * Receives one message; resolves when it may be forgotten (stored or spooled). `batch`, when the handler has one,
 * takes the messages of one TCP/TLS read at once (one sink write and one promise for them all, not one per message).
 */
export type MessageHandler = ((message: Buffer, peer: Peer, transport: 'udp' | 'tcp' | 'tls', info?: MessageInfo) => Promise<void>) & {
  batch?: (messages: readonly ReceivedMessage[], peer: Peer, transport: 'udp' | 'tcp' | 'tls') => Promise<void>;
};

export interface SyslogServerOptions {
  host?: string;
  /** 0 picks a free port; undefined leaves that transport off. */
  udpPort?: number;
  tcpPort?: number;
  tlsPort?: number;
  tls?: TlsOptions;
  onMessage: MessageHandler;
  /** True while the sink cannot take more: UDP cannot pause, so it drops and counts. */
  saturated?: () => boolean;
  /**
   * While the sink has a batch waiting for a free store slot, a promise of the moment it has none waiting:
   * TCP/TLS connections pause until then. Undefined when it can take more.
   */
  whenSinkFree?: () => Promise<void> | undefined;
  /**
   * True while the sink holds its bound of events in memory (`collect.maxMemoryEvents`, every source counted):
   * every TCP/TLS connection pauses until it is below again, so the total stays at the bound however many connect.
   * Read right after each read is handed over, which must reach the sink at once (as syslogHandler does).
   */
  overloaded?: () => boolean;
  onDrop?: (count: number) => void;
  /** Unacknowledged messages per TCP connection before it is paused (backpressure). */
  maxInFlight?: number;
  /** A longer message is cut to this many bytes and passed on with its original size (default 64 KiB). */
  maxMessageBytes?: number;
  /** SO_RCVBUF of the UDP socket (default 8 MiB); Linux caps it at net.core.rmem_max. */
  udpReceiveBufferBytes?: number;
}

/** Syslog over UDP, TCP and TLS (RFC 5426, 6587, 5425). Keeps the sender's address with each message. */
export class SyslogServer {
  readonly #options: SyslogServerOptions;
  #udp: UdpSocket | undefined;
  #udpPort: number | undefined;
  #tcp: Server | undefined;
  #tls: Server | undefined;
  /** Open connections, each with a check that its own unacknowledged messages are below its limit. */
  readonly #sockets = new Map<Socket, () => boolean>();
  readonly #inFlight = new Set<Promise<void>>();
  /** Connections paused because the sink was busy, with a check of their own limit for when it is not. */
  readonly #heldBySink = new Set<Socket>();
  /** While set, every connection is paused: the sink is at its memory bound. Checked again until it is not. */
  #memoryCheck: NodeJS.Timeout | undefined;
  #memoryCheckSoon: NodeJS.Immediate | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: SyslogServerOptions) {
    this.#options = options;
  }

  /** TCP/TLS connections paused for backpressure right now (their senders wait in the kernel's buffers). */
  get pausedConnections(): number {
    return [...this.#sockets.keys()].filter((socket) => socket.isPaused()).length;
  }

  get ports(): { udp?: number; tcp?: number; tls?: number } {
    const port = (server: Server | undefined) => (server?.address() as { port?: number } | null)?.port;
    return {
      ...(this.#udp ? { udp: this.#udp.address().port } : {}),
      ...(this.#tcp ? { tcp: port(this.#tcp)! } : {}),
      ...(this.#tls ? { tls: port(this.#tls)! } : {}),
    };
  }

  /** The UDP socket's receive buffer as the kernel set it (Linux doubles the request, up to rmem_max × 2). */
  get udpReceiveBufferBytes(): number | undefined {
    return this.#closing ? undefined : this.#udp?.getRecvBufferSize();
  }

  /** Datagrams the kernel dropped for the UDP socket (its buffer was full); undefined without UDP or /proc. */
  udpKernelDrops(): number | undefined {
    return this.#udpPort === undefined || this.#closing ? undefined : readUdpKernelDrops(this.#udpPort);
  }

  async start(): Promise<void> {
    const host = this.#options.host ?? '127.0.0.1';
    if (this.#options.udpPort !== undefined) {
      const udp = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
      const max = this.#options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
      udp.on('message', (message, info) => {
        if (this.#options.saturated?.()) {
          this.#options.onDrop?.(1);
          return;
        }
        const text = trimLineEnd(message);
        const peer = { address: info.address, port: info.port };
        if (text.length <= max) this.#track(this.#options.onMessage(text, peer, 'udp'));
        else this.#track(this.#options.onMessage(text.subarray(0, max), peer, 'udp', { originalBytes: text.length }));
      });
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(this.#options.udpPort, host, () => resolve());
      });
      // UDP has no back-pressure: a burst the event loop cannot read at once waits here or is dropped by the kernel.
      udp.setRecvBufferSize(this.#options.udpReceiveBufferBytes ?? 8 << 20);
      this.#udp = udp;
      this.#udpPort = udp.address().port;
    }
    if (this.#options.tcpPort !== undefined) {
      this.#tcp = await this.#listen(createServer((socket) => this.#accept(socket, 'tcp')), this.#options.tcpPort, host);
    }
    if (this.#options.tlsPort !== undefined && this.#options.tls) {
      this.#tls = await this.#listen(createTlsServer(this.#options.tls, (socket) => this.#accept(socket, 'tls')), this.#options.tlsPort, host);
    }
  }

  #listen(server: Server, port: number, host: string): Promise<Server> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server));
    });
  }

  #accept(socket: Socket, transport: 'tcp' | 'tls'): void {
    const framer = new SyslogFramer(this.#options.maxMessageBytes);
    const peer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const limit = this.#options.maxInFlight ?? 1000;
    let waiting = 0;
    this.#sockets.set(socket, () => waiting < limit);
    const { onMessage } = this.#options;
    const deliver = (frames: SyslogFrame[]) => {
      if (frames.length === 0) return;
      waiting += frames.length;
      if (waiting >= limit) socket.pause(); // the sender's TCP window fills; it slows down, nothing is lost
      const settled = (count: number) => () => {
        waiting -= count;
        if (waiting < limit / 2 && socket.isPaused() && !this.#heldBySink.has(socket) && !this.#memoryCheck) socket.resume();
        // Acknowledged events left the sink's memory (once this turn's promise callbacks have run): perhaps below its bound.
        if (this.#memoryCheck) this.#memoryCheckSoon ??= setImmediate(() => this.#releaseForMemory());
      };
      for (const frame of frames) frame.message = trimLineEnd(frame.message);
      if (onMessage.batch) {
        this.#track(onMessage.batch(frames, peer, transport).finally(settled(frames.length)));
        return;
      }
      for (const { message, originalBytes } of frames) {
        this.#track(onMessage(message, peer, transport, originalBytes === undefined ? undefined : { originalBytes }).finally(settled(1)));
      }
    };
    socket.on('data', (chunk: Buffer) => {
      deliver(framer.push(chunk));
      // At the bound, no connection reads on: this read is the last to pass it, whatever the number of connections.
      if (this.#options.overloaded?.()) this.#holdForMemory();
      const free = this.#options.whenSinkFree?.();
      if (free) {
        this.#heldBySink.add(socket);
        socket.pause();
        void free.then(() => this.#releaseHeld());
      }
    });
    socket.on('end', () => deliver(framer.end()));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.#sockets.delete(socket);
      this.#heldBySink.delete(socket);
    });
    if (this.#memoryCheck) socket.pause(); // a sender connecting while the sink is at its bound waits like the others
  }

  /** Resumes the connections held for the sink once it has no batch waiting for a slot. */
  #releaseHeld(): void {
    if (this.#heldBySink.size === 0) return;
    const again = this.#options.whenSinkFree?.();
    if (again) {
      void again.then(() => this.#releaseHeld());
      return;
    }
    for (const socket of this.#heldBySink) {
      this.#heldBySink.delete(socket);
      if (this.#sockets.get(socket)?.() && !this.#memoryCheck) socket.resume();
    }
  }

  /**
   * Pauses every connection until the sink is below its memory bound. What resumes them: their own events acknowledged,
   * else (the memory held by other sources, HTTP or files) a check every 50 ms; the sink drains by itself meanwhile.
   */
  #holdForMemory(): void {
    if (!this.#memoryCheck) {
      this.#memoryCheck = setInterval(() => this.#releaseForMemory(), 50);
      this.#memoryCheck.unref();
    }
    for (const socket of this.#sockets.keys()) socket.pause();
  }

  #releaseForMemory(): void {
    clearImmediate(this.#memoryCheckSoon);
    this.#memoryCheckSoon = undefined;
    if (!this.#memoryCheck || this.#options.overloaded?.()) return;
    clearInterval(this.#memoryCheck);
    this.#memoryCheck = undefined;
    for (const [socket, underLimit] of this.#sockets) {
      if (underLimit() && !this.#heldBySink.has(socket)) socket.resume();
    }
  }

  #track(work: Promise<void>): void {
    const tracked = work.catch(() => undefined).finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }

  /** Stops listening, closes connections, and waits for messages already received. Safe twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const closeServer = (server: Server | undefined) => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      const closing = [closeServer(this.#tcp), closeServer(this.#tls)];
      for (const socket of this.#sockets.keys()) socket.end();
      this.#udp?.close();
      await Promise.all([...closing, ...this.#inFlight]);
      clearInterval(this.#memoryCheck);
      clearImmediate(this.#memoryCheckSoon);
    })();
    return this.#closing;
  }
}

/** Senders (rsyslog's RFC 5424 template among them) end messages with a line end that is not content. */
function trimLineEnd(message: Buffer): Buffer {
  let end = message.length;
  while (end > 0 && (message[end - 1] === 0x0a || message[end - 1] === 0x0d)) end -= 1;
  return end === message.length ? message : message.subarray(0, end);
}

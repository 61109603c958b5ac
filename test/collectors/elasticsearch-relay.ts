import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The Elasticsearch node as the collector reaches it, through a plain HTTP relay: `hold` keeps bulk requests
 * waiting (so several are in flight at once), `cut` makes the node unreachable. A held request cut off is
 * either passed on first, its answer then lost (it landed: the replay meets it again), or never passed on.
 */
export function relayTo(target: string) {
  const held: { body: string; forward: () => void; drop: (landed: boolean) => void }[] = [];
  const state = { hold: false, cut: false, bulks: 0 };
  const relay = (incoming: IncomingMessage, outgoing: ServerResponse, body: Buffer, loseAnswer: boolean) => {
    const upstream = request(new URL(incoming.url!, target), { method: incoming.method, headers: incoming.headers }, (answer) => {
      if (loseAnswer) {
        answer.resume();
        answer.on('end', () => incoming.socket.destroy());
        return;
      }
      outgoing.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(outgoing);
    });
    upstream.on('error', () => incoming.socket.destroy());
    upstream.end(body);
  };
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      if (state.cut) return incoming.socket.destroy();
      const bulk = incoming.url!.startsWith('/_bulk');
      if (bulk) state.bulks += 1;
      if (!bulk || !state.hold) return relay(incoming, outgoing, body, false);
      held.push({
        body: body.toString(),
        forward: () => relay(incoming, outgoing, body, false),
        drop: (landed) => (landed ? relay(incoming, outgoing, body, true) : incoming.socket.destroy()),
      });
    });
  });
  return {
    state,
    held,
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

import { execFileSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Received { path: string; query: URLSearchParams; headers: IncomingMessage['headers']; body: string }

/** A local HTTP receiver that keeps every request; `reply` picks the answer (status, body, headers), or `hold` to answer only at `release()`. */
export async function startReceiver(reply: (req: Received) => { status: number; body?: string; headers?: Record<string, string> } | 'hold' = () => ({ status: 200, body: '{"errcode":0,"errmsg":"ok"}' })) {
  const requests: Received[] = [];
  const held: import('node:http').ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const received = { path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(received);
      const answer = reply(received);
      if (answer === 'hold') return void held.push(res);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`, requests,
    release: () => { for (const res of held.splice(0)) res.writeHead(200).end(); },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The receiver's side of the webhook signature, written from the header's definition (not our signer). */
export function verifyWebhook(secret: string, received: Received): boolean {
  const timestamp = String(received.headers['x-shouwang-timestamp'] ?? '');
  const given = Buffer.from(String(received.headers['x-shouwang-signature'] ?? ''));
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${received.body}`).digest('hex')}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** DingTalk's check as its documentation states it: Base64(HmacSHA256(secret, timestamp + "\n" + secret)), within an hour. */
export function verifyDingtalk(secret: string, received: Received, now: number): boolean {
  const timestamp = received.query.get('timestamp') ?? '';
  const sign = received.query.get('sign') ?? '';
  const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
  return /^\d{13}$/.test(timestamp) && Math.abs(now - Number(timestamp)) < 3_600_000 && sign === expected;
}

/** A self-signed certificate for 127.0.0.1 / localhost (openssl). */
export function selfSignedCert(): { cert: string; key: string; certFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-cert-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8'), certFile: join(dir, 'cert.pem') };
}

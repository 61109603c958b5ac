import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Only our own files, no inline script or style attributes, no framing; the API is same-origin. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function asset(body: Buffer, file: string): Asset {
  return { body, type: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** console/web next to this file when run from source; from dist/console, the source tree's console/web. */
export function webRoot(): string {
  const candidates = [fileURLToPath(new URL('./web', import.meta.url)), fileURLToPath(new URL('../../console/web', import.meta.url))];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (!found) throw new Error(`console web assets not found in ${candidates.join(' or ')}`);
  return found;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/** Loads every asset once at start: the set is small, and a fixed map cannot be walked out of with `..`. */
export function loadAssets(root = webRoot()): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const file of listFiles(root)) {
    if (!(extname(file) in CONTENT_TYPES)) continue;
    assets.set(`/${relative(root, file).split(sep).join('/')}`, asset(readFileSync(file), file));
  }
  const echarts = createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js');
  assets.set('/echarts.min.js', asset(readFileSync(echarts), echarts));
  return assets;
}

function send(reply: FastifyReply, found: Asset, ifNoneMatch: string | undefined): FastifyReply {
  reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    // Names carry no content hash (no build step), so the browser revalidates each time and gets a 304.
    .header('cache-control', 'no-cache')
    .header('etag', found.etag);
  if (ifNoneMatch === found.etag) return reply.status(304).send();
  return reply.type(found.type).send(found.body);
}

/** The web pages: `/` is the single-page app, `/assets/*` its scripts, styles and ECharts. No data, no session. */
export const staticPlugin: FastifyPluginAsync<{ root?: string }> = async (app, options) => {
  const assets = loadAssets(options.root);
  const index = assets.get('/index.html');
  if (!index) throw new Error('console web assets have no index.html');
  app.get('/', (request, reply) => send(reply, index, request.headers['if-none-match']));
  app.get('/assets/*', (request, reply) => {
    const found = assets.get(request.url.split('?')[0]!.slice('/assets'.length));
    if (!found) return reply.callNotFound();
    return send(reply, found, request.headers['if-none-match']);
  });
};

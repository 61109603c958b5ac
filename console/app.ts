import type { KeyObject } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';
import { ShouwangError, type Logger } from '../core/index.js';
import type { Store } from '../store/index.js';
import { alertsApi } from './api-alerts.js';
import { backupApi, type BackupApiOptions } from './api-backup.js';
import type { ApiOptions } from './api-context.js';
import { dataApi } from './api-data.js';
import { inventoryApi, type InventoryApiOptions } from './api-inventory.js';
import { postureApi } from './api-posture.js';
import { rulesApi, type RulesDeps } from './api-rules.js';
import { notifyApi, type NotifyDeps } from './api-notify.js';
import { meNotificationsApi } from './api-me-notifications.js';
import { sessionApi } from './api-session.js';
import { suppressionsApi } from './api-suppressions.js';
import { processFingerprintKey } from './login-fingerprint.js';
import { usersApi } from './api-users.js';
import { ConsoleErrors } from './errors.js';
import { evidenceApi, type EvidenceApiOptions } from './api-evidence.js';
import { healthPlugin, type HealthCheck } from './health.js';
import { metricsPlugin } from './metrics.js';
import { cachedCoverage, type CoverageSource } from './posture/index.js';
import { RouteRegistry } from './routes.js';
import { staticPlugin } from './static.js';
import { DEFAULT_SESSION_OPTIONS, SessionManager, type SessionOptions } from './sessions.js';

export const BODY_LIMIT = 1 << 20;
/** Longest path parameter the router takes: above every route's own limit, so those answer (400, naming the field). */
export const MAX_PARAM_LENGTH = 512;

export interface AppDeps {
  store: Store;
  registry: Registry;
  logger: Logger;
  /** More components for /healthz, e.g. Redis. */
  checks?: Record<string, HealthCheck>;
  metricsToken?: string;
  /** Session lifetimes, cookie flags and login limits; defaults in DEFAULT_SESSION_OPTIONS. */
  sessions?: Partial<SessionOptions>;
  /**
   * Take the client address from X-Forwarded-For, believing only these proxy addresses/CIDRs (never
   * `true`: every hop trusted lets a client write its own address). Default false.
   */
  trustProxy?: false | string | string[];
  /** Backup queues for "verify now" / "drill now" and job progress; without them those routes answer 503. */
  backupQueues?: BackupApiOptions['backupQueues'];
  /** The loaded rules and their on/off switches; without them the rules routes answer 503. */
  rules?: RulesDeps;
  /** Called after an admin replaced the inventory. */
  saveInventory?: InventoryApiOptions['saveInventory'];
  onInventory?: InventoryApiOptions['onInventory'];
  /** `analyze.silentAfter` in seconds, for the posture's audit coverage (default 3600). */
  silentAfterSeconds?: number;
  /** `timeZone`: where the posture trend's days start and the zone the browser shows times in (default Asia/Shanghai). */
  timeZone?: string;
  /** Where the posture reads source silence; default the analyzers' per-source queries cached for 60 s. */
  coverage?: CoverageSource;
  /** Evidence export jobs and where their bundles land; without them the evidence routes are absent. */
  evidence?: { queue: EvidenceApiOptions['evidence']; dataDir: string; publicKey?: KeyObject };
  /** Keys the fingerprint a failed login with an unknown username leaves in the audit trail; default one random key per process. */
  fingerprintKey?: Buffer;
  /** Notification channels and "send test message" (admins); without it those routes are absent. */
  notify?: NotifyDeps;
}

export interface RouteEntry {
  method: string;
  url: string;
}

const ROUTES = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route the app registered, as Fastify saw it (plugins included): what an outside check walks. */
export const routesOf = (app: FastifyInstance): readonly RouteEntry[] => ROUTES.get(app) ?? [];

/** Fastify's own request errors, translated into ours so every answer has a code and a zh-CN/English message. */
function translate(error: FastifyError): ShouwangError | undefined {
  if (error instanceof ShouwangError) return error;
  const status = error.statusCode ?? 500;
  if (status === 413) return ConsoleErrors.requestTooLarge(BODY_LIMIT);
  if (status === 415) return ConsoleErrors.mediaType(String(error.message.split(': ').pop()));
  if (status >= 400 && status < 500) return ConsoleErrors.requestInvalid(error.message);
  return undefined;
}

/** Builds the console without listening, so tests can `inject()` or listen on port 0. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger, bodyLimit: BODY_LIMIT, trustProxy: deps.trustProxy ?? false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Errors the router raises before any route (a path parameter too long, a malformed %-escape): our shape too.
    frameworkErrors: (error, _request, rawReply) => {
      const reply = rawReply as unknown as FastifyReply;
      const known = error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? ConsoleErrors.requestInvalid(`路径参数超过 ${MAX_PARAM_LENGTH} 个字符 / a path parameter is longer than ${MAX_PARAM_LENGTH} characters`)
        : translate(error) ?? ConsoleErrors.requestInvalid(error.message);
      // Answered outside the route hooks: the onSend headers are set here.
      reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-store');
      return reply.status(known.statusCode).send({ code: known.code, message: known.message });
    },
  });
  const routes: RouteEntry[] = [];
  ROUTES.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  // JSON only: without this, Fastify parses text/plain into a string and the answer is a 400 instead of the documented 415.
  app.removeContentTypeParser('text/plain');
  // Answers hold scoped data, tokens and bundles: never cached, never sniffed. Static assets set their own (cacheable) policy.
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = translate(error);
    if (known) {
      if (known.statusCode >= 500) request.log.error({ err: error }, 'request failed');
      if (known.statusCode === 429) reply.header('retry-after', /(\d+)/.exec(known.message)?.[1] ?? '60');
      return reply.status(known.statusCode).send({ code: known.code, message: known.message });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.status(500).send({ code: 'SW_ERR_INTERNAL', message: '内部错误 / internal error' });
  });
  app.setNotFoundHandler((request, reply) => {
    const error = ConsoleErrors.routeNotFound(request.method, request.url.split('?')[0]!);
    return reply.status(404).send({ code: error.code, message: error.message });
  });

  const sessions = new SessionManager(deps.store, { ...DEFAULT_SESSION_OPTIONS, ...deps.sessions });
  await app.register(healthPlugin, {
    checks: { store: () => deps.store.health(), ...deps.checks },
    ...(deps.metricsToken ? { token: deps.metricsToken } : {}),
    hasSession: async (request) => (await sessions.resolve(request)) !== undefined,
  });
  await app.register(metricsPlugin, {
    registry: deps.registry, alerts: deps.store.alerts, ...(deps.metricsToken ? { token: deps.metricsToken } : {}),
  });

  const api: ApiOptions = { store: deps.store, routes: new RouteRegistry(sessions.authenticate), sessions, ...(deps.timeZone ? { timeZone: deps.timeZone } : {}) };
  await app.register(sessionApi, { ...api, ...(deps.timeZone ? { timeZone: deps.timeZone } : {}), fingerprintKey: deps.fingerprintKey ?? processFingerprintKey() });
  await app.register(usersApi, api);
  await app.register(alertsApi, api);
  await app.register(suppressionsApi, api);
  await app.register(dataApi, api);
  await app.register(postureApi, {
    ...api, coverage: deps.coverage ?? cachedCoverage(deps.store.events, deps.silentAfterSeconds ?? 3600), ...(deps.timeZone ? { timeZone: deps.timeZone } : {}),
  });
  await app.register(backupApi, { ...api, ...(deps.backupQueues ? { backupQueues: deps.backupQueues } : {}) });
  await app.register(rulesApi, { ...api, ...(deps.rules ? { rules: deps.rules } : {}) });
  await app.register(inventoryApi, {
    ...api, ...(deps.saveInventory ? { saveInventory: deps.saveInventory } : {}), ...(deps.onInventory ? { onInventory: deps.onInventory } : {}),
  });
  if (deps.evidence) {
    const { queue, dataDir, publicKey } = deps.evidence;
    await app.register(evidenceApi, { ...api, evidence: queue, dataDir, ...(publicKey ? { publicKey } : {}) });
  }
  if (deps.notify) await app.register(notifyApi, { ...api, notify: deps.notify });
  await app.register(meNotificationsApi, api);
  await app.register(staticPlugin);
  return app;
}

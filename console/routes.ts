import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { z } from 'zod';
import { formatPath, isIsoInstant, parseZonedTime } from '../core/index.js';
import { ConsoleErrors } from './errors.js';
import { can, type Permission } from './roles.js';
import type { Auth } from './sessions.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteContext<B, Q, P> {
  request: FastifyRequest;
  reply: FastifyReply;
  body: B;
  query: Q;
  params: P;
  /** Present on every route but the public ones. */
  auth: Auth;
}

export interface RouteSpec<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  method: Method;
  url: string;
  summary: string;
  tag: string;
  /** `public`: no session (login only); `session`: any signed-in user; else the permission needed. */
  access: 'public' | 'session' | Permission;
  body?: B;
  query?: Q;
  params?: P;
  /** For the OpenAPI document; responses are not re-validated at run time. */
  response?: z.ZodType;
  status?: number;
  /** Default `operationIdOf(method, url)`; stable, so OpenAPI links and clients can name the operation. */
  operationId?: string;
  /** OpenAPI 3.1 Link Objects on the success response: where its answer names what another operation takes. */
  links?: Record<string, RouteLink>;
  handler(context: RouteContext<z.output<B>, z.output<Q>, z.output<P>>): Promise<unknown>;
}

type AnySpec = RouteSpec<z.ZodType, z.ZodType, z.ZodType>;

/** An OpenAPI Link Object by operationId; values are runtime expressions such as `$response.body#/items/0/id`. */
export interface RouteLink {
  operationId: string;
  parameters?: Record<string, string>;
  requestBody?: unknown;
  description?: string;
}

/** `GET /api/alerts/:id/related` → `getAlertsByIdRelated`: method, then the path in camel case, parameters as `By…`. */
export function operationIdOf(method: Method, url: string): string {
  const words = url.split('/').filter((part) => part && part !== 'api')
    .flatMap((part) => (part.startsWith(':') ? ['by', ...part.slice(1).split(/[^A-Za-z0-9]+/)] : part.split(/[^A-Za-z0-9]+/)))
    .filter(Boolean);
  return method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

/** zod issues as one line each, with the field path and never the value (it may be a password). */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${formatPath(issue.path) || '(body)'}: ${issue.message}`).join('; ');
}

function parse<S extends z.ZodType>(schema: S | undefined, input: unknown, where: string): z.output<S> {
  if (!schema) return input as z.output<S>;
  const result = schema.safeParse(input ?? (where === 'body' ? undefined : {}));
  if (!result.success) throw ConsoleErrors.requestInvalid(`${where} ${describeIssues(result.error)}`);
  return result.data;
}

/**
 * Registers routes with zod-checked input and keeps them for the OpenAPI document. Validation is ours
 * (in the handler wrapper) rather than Fastify's ajv, so one schema language serves both.
 */
export class RouteRegistry {
  readonly #routes: AnySpec[] = [];
  readonly #authenticate: onRequestHookHandler;

  constructor(authenticate: onRequestHookHandler) {
    this.#authenticate = authenticate;
  }

  add<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined, P extends z.ZodType = z.ZodUndefined>(
    app: FastifyInstance,
    spec: RouteSpec<B, Q, P>,
  ): void {
    this.#routes.push(spec as unknown as AnySpec);
    app.route({
      method: spec.method,
      url: spec.url,
      ...(spec.access === 'public' ? {} : { onRequest: this.#authenticate }),
      handler: async (request, reply) => {
        const auth = request.auth;
        if (spec.access !== 'public' && spec.access !== 'session' && !can(auth!.user.role, spec.access)) {
          throw ConsoleErrors.forbidden(spec.access);
        }
        const context = {
          request, reply, auth: auth!,
          params: parse(spec.params, request.params, 'path'),
          query: parse(spec.query, request.query, 'query'),
          body: parse(spec.body, request.body, 'body'),
        };
        const result = await spec.handler(context);
        if (spec.status) reply.status(spec.status);
        return result;
      },
    });
  }

  /** OpenAPI 3.1 from the registered zod schemas. */
  openApi(): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    const toSchema = (schema: z.ZodType) => {
      const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
      return json;
    };
    const error = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    const operationIds = new Set<string>();
    for (const spec of this.#routes) {
      const operationId = spec.operationId ?? operationIdOf(spec.method, spec.url);
      // A duplicate would make links ambiguous; a clash is a programming error, found by any test that reads /api/docs.
      if (operationIds.has(operationId)) throw new Error(`duplicate operationId ${operationId}`);
      operationIds.add(operationId);
    }
    for (const spec of this.#routes) {
      const path = spec.url.replace(/:(\w+)/g, '{$1}');
      const parameters: unknown[] = [];
      for (const [where, schema] of [['path', spec.params], ['query', spec.query]] as const) {
        if (!schema) continue;
        const json = toSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, property] of Object.entries(json.properties ?? {})) {
          parameters.push({ name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema: property });
        }
      }
      const operationId = spec.operationId ?? operationIdOf(spec.method, spec.url);
      (paths[path] ??= {})[spec.method.toLowerCase()] = {
        operationId,
        summary: spec.summary,
        tags: [spec.tag],
        ...(spec.access === 'public' ? { security: [] } : {}),
        ...(spec.access !== 'public' && spec.access !== 'session' ? { 'x-permission': spec.access } : {}),
        ...(parameters.length ? { parameters } : {}),
        ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(spec.body) } } } } : {}),
        responses: {
          [String(spec.status ?? 200)]: {
            description: 'OK',
            ...(spec.response ? { content: { 'application/json': { schema: toSchema(spec.response) } } } : {}),
            ...(spec.links ? { links: linksOf(spec.links, operationIds, operationId) } : {}),
          },
          400: { description: '请求无效 / invalid request', ...error },
          ...(spec.access === 'public' ? {} : {
            401: { description: '需要登录 / login required', ...error },
            403: { description: '无权限或 CSRF 令牌错误 / forbidden or bad CSRF token', ...error },
          }),
        },
      };
    }
    return {
      openapi: '3.1.0',
      info: { title: '守望 Shouwang console API', version: '0.1.0' },
      paths,
      components: {
        schemas: {
          Error: {
            type: 'object', required: ['code', 'message'],
            properties: { code: { type: 'string' }, message: { type: 'string', description: 'zh-CN / English' } },
          },
        },
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'sw_session' },
          csrf: { type: 'apiKey', in: 'header', name: 'x-csrf-token', description: 'POST/PUT/PATCH/DELETE' },
        },
      },
      security: [{ session: [], csrf: [] }],
    };
  }
}

/** The links of one operation; one naming an operation that is not registered is a programming error. */
function linksOf(links: Record<string, RouteLink>, operationIds: ReadonlySet<string>, from: string): Record<string, RouteLink> {
  for (const [name, link] of Object.entries(links)) {
    if (!operationIds.has(link.operationId)) throw new Error(`link ${name} of ${from} names unknown operation ${link.operationId}`);
  }
  return links;
}

/** A list in the query string: `?level=high&level=critical` or `?level=high,critical`. */
export function queryList<T extends z.ZodType>(item: T) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((value) => (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean))
    // The items get their own checks (enums, patterns) after splitting.
    .pipe(z.array(item).max(100) as unknown as z.ZodType<z.output<T>[], string[]>);
}

// With its offset: the server's own zone must never decide what a zone-less time means. Handed on
// normalised (`…T…Z`), so every store and handler reads exactly the instant checked here.
export const isoTime = z.string().max(64)
  // Documented as date-time, so clients (and Schemathesis) send dates rather than random text.
  .meta({ format: 'date-time' })
  .refine(isIsoInstant, '不是带时区的时间 / not an ISO 8601 date-time with Z or an offset (2026-11-01T00:00:00+08:00)')
  .transform((text) => new Date(parseZonedTime(text, 'UTC')!).toISOString());

/** Paging in every list: size, the `next` cursor of the previous page, order. */
export const pageQuery = {
  size: z.coerce.number().int().min(1).max(1000).optional(),
  after: z.string().max(500).optional(),
  order: z.enum(['asc', 'desc']).optional(),
};

export function pageOf(query: { size?: number | undefined; after?: string | undefined; order?: 'asc' | 'desc' | undefined }) {
  return {
    ...(query.size !== undefined ? { size: query.size } : {}),
    ...(query.after !== undefined ? { after: query.after } : {}),
    ...(query.order !== undefined ? { order: query.order } : {}),
  };
}

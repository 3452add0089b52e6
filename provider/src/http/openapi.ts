import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import type { ErrorList } from '../errors.js';
import { parseWith } from './guard.js';

/**
 * OpenAPI 3.1 documents built from the zod schemas the routes validate with, so the document
 * cannot drift from what is enforced. A surface describes each operation once and mounts it
 * through `route`, which both registers the handlers and records the operation: a route cannot
 * exist undocumented. OpenAPI 3.1's schemas are JSON Schema 2020-12, what `z.toJSONSchema` emits.
 *
 *   const api = createApiSpec({ title: 'Saoma admin API', version: '1' }, { basePath: '/api/admin' });
 *   api.route(router, { method: 'post', path: '/apps', summary: '…', body: appInputSchema,
 *     responses: { 201: { description: 'Created', schema: appSchema } } }, handler);
 *   router.get('/openapi.json', api.serve);
 *
 * An operation may also name the error codes it answers (`errors`, from a capability's closed
 * list): each status then documents exactly those codes. `withInput` turns a handler of parsed
 * input into a route handler, so the one declaration both parses the request and documents it.
 */
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface Operation {
  method: Method;
  /** Express-style, below the base path: `/apps/:appId`. */
  path: string;
  summary: string;
  description?: string;
  tags?: string[];
  /** Path parameters (every one required). */
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** The JSON request body. */
  body?: z.ZodType;
  /** The successful answers; errors are the spec's `errorSchema`, as `default`. */
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  /** Default: the method and path in camelCase (`postAppsAppIdSecret`). */
  operationId?: string;
  /** Security scheme names this operation needs; default: all of the spec's. `[]`: none. */
  security?: string[];
  /** The codes it may answer, each under its status (with the spec's common and auth errors). */
  errors?: ErrorRef[];
}

/** One documented error: its code, status and the text people read. */
export interface ErrorRef {
  code: string;
  status: number;
  description: string;
}

/** `errorsOf(loginError, 'qr_expired', 'not_yours')`: entries of a capability's closed list. */
export function errorsOf<L extends ErrorList>(factory: { list: L }, ...codes: (keyof L & string)[]): ErrorRef[] {
  return codes.map((code) => ({ code, status: factory.list[code][0], description: factory.list[code][1] }));
}

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;
/** What a handler of `withInput` receives: the request's params, query and body, parsed. */
export interface Input<O extends Operation> {
  params: Out<O['params']>;
  query: Out<O['query']>;
  body: Out<O['body']>;
}

/**
 * A route handler that parses params, query and body with the operation's schemas (400
 * invalid_request otherwise) and hands them to `handler`. An absent body is `{}` for an object
 * schema, so its defaults and "required" messages apply.
 */
export function withInput<const O extends Operation>(op: O, handler: (input: Input<O>, req: Request, res: Response) => unknown): RequestHandler {
  return async (req, res) => {
    const body: unknown = req.body ?? (op.body instanceof z.ZodObject ? {} : undefined);
    const input = {
      params: op.params ? parseWith(op.params, req.params) : undefined,
      query: op.query ? parseWith(op.query, req.query) : undefined,
      body: op.body ? parseWith(op.body, body) : undefined,
    } as Input<O>;
    await handler(input, req, res);
  };
}

export interface SpecOptions {
  /** Where the API is mounted: `/api/admin`. */
  basePath: string;
  /** Every error answer's body (our `{error, error_description, request_id}`). */
  errorSchema: z.ZodType;
  /** HTTP security schemes, all required for every operation unless it says otherwise (e.g. a bearer token). */
  securitySchemes?: Record<string, Record<string, unknown>>;
  /** Errors any operation may answer (malformed input, rate limits, outages), when operations list theirs. */
  commonErrors?: ErrorRef[];
  /** Errors every operation that needs a security scheme may answer (a missing or revoked token). */
  authErrors?: ErrorRef[];
}

type JsonSchema = Record<string, unknown>;

/** A zod schema as JSON Schema 2020-12: what clients send (`input`) or receive (`output`). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  // `any` for what JSON Schema cannot say (a transform's result): the request side is exact.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function parameters(schema: z.ZodObject | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const { properties = {}, required = [] } = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(properties).map(([name, s]) => {
    const { description, ...rest } = s;
    return { name, in: where, required: where === 'path' || required.includes(name), schema: rest, ...(description ? { description } : {}) };
  });
}

const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export function createApiSpec(info: { title: string; version: string; description?: string }, opts: SpecOptions) {
  const operations: Operation[] = [];
  let built: JsonSchema | undefined;

  function document(): JsonSchema {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const op of operations) {
      const item = (paths[opts.basePath + openApiPath(op.path)] ??= {});
      item[op.method] = {
        operationId:
          op.operationId ??
          `${op.method}${openApiPath(op.path)
            .replace(/[{}]/g, '')
            .replace(/(^|[/_-])(\w)/g, (_m, _s, c: string) => c.toUpperCase())}`,
        ...(op.security ? { security: op.security.map((name) => ({ [name]: [] })) } : {}),
        summary: op.summary,
        ...(op.description ? { description: op.description } : {}),
        ...(op.tags ? { tags: op.tags } : {}),
        parameters: [...parameters(op.params, 'path'), ...parameters(op.query, 'query')],
        // Optional when an empty object passes (the routes read a missing body as {}).
        ...(op.body
          ? { requestBody: { required: !op.body.safeParse({}).success, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } } }
          : {}),
        responses: {
          ...Object.fromEntries(
            Object.entries(op.responses).map(([status, r]) => [
              status,
              { description: r.description, ...(r.schema ? { content: { 'application/json': { schema: jsonSchema(r.schema, 'output') } } } : {}) },
            ]),
          ),
          ...errorResponses(op),
          default: { description: 'An error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        },
      };
    }
    const security = Object.keys(opts.securitySchemes ?? {}).map((name) => ({ [name]: [] }));
    return {
      openapi: '3.1.0',
      info,
      paths,
      components: { schemas: { Error: jsonSchema(opts.errorSchema, 'output') }, ...(opts.securitySchemes ? { securitySchemes: opts.securitySchemes } : {}) },
      ...(security.length ? { security } : {}),
    };
  }

  /** The operation's own codes (and the spec's common and auth ones), by status: each status admits exactly its codes. */
  function errorResponses(op: Operation): Record<string, unknown> {
    if (!op.errors) return {};
    const secured = op.security ? op.security.length > 0 : Object.keys(opts.securitySchemes ?? {}).length > 0;
    const byStatus = new Map<number, ErrorRef[]>();
    for (const e of [...op.errors, ...(secured ? (opts.authErrors ?? []) : []), ...(opts.commonErrors ?? [])]) {
      const list = byStatus.get(e.status) ?? [];
      if (!list.some((x) => x.code === e.code)) byStatus.set(e.status, [...list, e]);
    }
    return Object.fromEntries(
      [...byStatus]
        .sort(([a], [b]) => a - b)
        .map(([status, list]) => [
          String(status),
          {
            description: list.map((e) => `\`${e.code}\`: ${e.description}`).join('\n'),
            content: {
              'application/json': { schema: { allOf: [{ $ref: '#/components/schemas/Error' }, { properties: { error: { enum: list.map((e) => e.code) } } }] } },
            },
          },
        ]),
    );
  }

  return {
    /** Mounts `handlers` at the operation's method and path on `router`, and documents it. */
    route(router: Router, op: Operation, ...handlers: RequestHandler[]): void {
      operations.push(op);
      built = undefined;
      router[op.method](op.path, ...handlers);
    },
    operations: (): readonly Operation[] => operations,
    /** The OpenAPI 3.1 document (built once, after the routes). */
    document: () => (built ??= document()),
    /** GET handler serving the document. */
    serve: ((_req, res) => void res.json((built ??= document()))) as RequestHandler,
  };
}

export type ApiSpec = ReturnType<typeof createApiSpec>;

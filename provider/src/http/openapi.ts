import type { RequestHandler, Router } from 'express';
import { z } from 'zod';

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
}

export interface SpecOptions {
  /** Where the API is mounted: `/api/admin`. */
  basePath: string;
  /** Every error answer's body (our `{error, error_description, request_id}`). */
  errorSchema: z.ZodType;
  /** HTTP security schemes, all required for every operation (e.g. a bearer token). */
  securitySchemes?: Record<string, Record<string, unknown>>;
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
        operationId: `${op.method}${openApiPath(op.path)
          .replace(/[{}]/g, '')
          .replace(/(^|[/_-])(\w)/g, (_m, _s, c: string) => c.toUpperCase())}`,
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

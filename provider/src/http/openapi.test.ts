import express from 'express';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError, defineErrors } from '../errors.js';
import { createApiSpec, errorsOf, withInput, type Operation } from './openapi.js';

const thingError = defineErrors({ no_thing: [404, 'No such thing.'], thing_locked: [409, 'Locked.'] });

function sample() {
  const spec = createApiSpec(
    { title: 'T', version: '1' },
    {
      basePath: '/api',
      errorSchema: z.object({ error: z.string(), error_description: z.string() }),
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      authErrors: [{ code: 'invalid_token', status: 401, description: 'Sign in.' }],
    },
  );
  const router = express.Router();
  router.use(express.json());
  let seen: unknown;
  const op = {
    method: 'post',
    path: '/things/:id',
    operationId: 'updateThing',
    summary: 'Update a thing',
    params: z.object({ id: z.string().regex(/^t_\w+$/) }),
    query: z.object({ dryRun: z.enum(['yes', 'no']).optional() }),
    body: z.object({ name: z.string().min(1), size: z.number().int().default(1) }),
    responses: { 200: { description: 'Updated', schema: z.object({ id: z.string(), name: z.string() }) } },
    errors: errorsOf(thingError, 'no_thing', 'thing_locked'),
  } as const satisfies Operation;
  spec.route(
    router,
    op,
    withInput(op, (input, _req, res) => {
      seen = input;
      res.json({ id: input.params.id, name: input.body.name });
    }),
  );
  spec.route(
    router,
    { method: 'get', path: '/open', summary: 'Public', security: [], responses: { 200: { description: 'ok' } }, errors: [] },
    (_req, res) => void res.end(),
  );
  return { api: spec, router, seen: () => seen };
}

describe('an API declared once: the request parsed and the OpenAPI 3.1 document from the same declaration', () => {
  it('writes the path, parameters, body, responses and each error code under its status', () => {
    const doc = sample().api.document() as { openapi: string; security: unknown; paths: Record<string, Record<string, Record<string, any>>> };
    expect(doc.openapi).toBe('3.1.0');
    const op = doc.paths['/api/things/{id}'].post;
    // The spec's security applies unless an operation says otherwise.
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(op.security).toBeUndefined();
    expect(doc.paths['/api/open'].get.security).toEqual([]);
    expect(doc.paths['/api/open'].get.responses['401']).toBeUndefined();
    expect(op.parameters).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^t_\\w+$' } },
      { name: 'dryRun', in: 'query', required: false, schema: { type: 'string', enum: ['yes', 'no'] } },
    ]);
    // Input side for the body: a field with a default is optional to send.
    expect(op.requestBody.content['application/json'].schema.required).toEqual(['name']);
    expect(op.responses['200'].content['application/json'].schema.required).toEqual(['id', 'name']);
    expect(op.responses['404'].content['application/json'].schema.allOf[1].properties.error.enum).toEqual(['no_thing']);
    expect(op.responses['409'].description).toBe('`thing_locked`: Locked.');
    expect(op.responses['401'].content['application/json'].schema.allOf[1].properties.error.enum).toEqual(['invalid_token']);
  });

  it('hands the handler only parsed input, defaults applied, and refuses the rest with invalid_request', async () => {
    const { router, seen } = sample();
    const app = express()
      .use(router)
      .use(((err, _req, res, _next) => void res.status((err as AppError).status).json((err as AppError).toJSON())) as express.ErrorRequestHandler);
    const server = app.listen(0);
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const ok = await fetch(`${url}/things/t_1?dryRun=yes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'a', extra: 1 }),
      });
      expect(await ok.json()).toEqual({ id: 't_1', name: 'a' });
      expect(seen()).toEqual({ params: { id: 't_1' }, query: { dryRun: 'yes' }, body: { name: 'a', size: 1 } });
      const bad = await fetch(`${url}/things/nope`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({}) });
      expect(bad.status).toBe(400);
      expect((await bad.json()) as unknown).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('id') });
    } finally {
      server.close();
    }
  });
});

/**
 * /api/admin/openapi.json: an OpenAPI 3.1 document of every admin route, built from the schemas
 * the routes validate with. Real answers of the running API (PostgreSQL + Redis) are validated
 * against it with ajv, and so are the bodies sent, so the document says what the API does.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIRECT_URI, signedInPhone } from '../support/flow.js';
import { closeStarted, startTestProvider, type TestProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { adminApi, adminToken, ensureAdmin, type AdminApi } from './support.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

type Doc = { openapi: string; paths: Partial<Record<string, Partial<Record<string, Operation>>>>; components: { schemas: Record<string, unknown> } };
type Operation = {
  parameters: Array<{ name: string; in: string; required: boolean }>;
  requestBody?: { required: boolean; content: Record<string, { schema: object }> };
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
};

describe.skipIf(skip)('the admin API and its OpenAPI document', () => {
  let p: TestProvider;
  let api: AdminApi;
  let doc: Doc;
  const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
  const compiled = new Map<object, ValidateFunction>();
  const validator = (schema: object) => {
    if (!compiled.has(schema)) compiled.set(schema, ajv.compile({ ...schema, components: doc.components }));
    return compiled.get(schema)!;
  };
  const operation = (method: string, template: string) => {
    const op = doc.paths[`/api/admin${template}`]?.[method.toLowerCase()];
    if (!op) throw new Error(`${method} ${template} is not in the document`);
    return op;
  };
  /** Calls the API and checks the body sent and the answer received against the document. */
  async function call<T = Record<string, any>>(method: string, template: string, params: Record<string, string> = {}, body?: unknown, query = '') {
    const op = operation(method, template);
    if (body !== undefined) {
      const check = validator(op.requestBody!.content['application/json'].schema);
      expect(check(body), `request body of ${method} ${template}: ${ajv.errorsText(check.errors)}`).toBe(true);
    }
    const path = template.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(params[name]));
    const res = await api<T>(method, `${path}${query}`, body);
    const response = op.responses[String(res.status)] ?? op.responses.default;
    expect(response, `${method} ${template} answered ${res.status}, which it does not document`).toBeDefined();
    const check = validator(response.content!['application/json'].schema);
    expect(check(res.body), `${method} ${template} → ${res.status}: ${ajv.errorsText(check.errors)}\n${JSON.stringify(res.body).slice(0, 500)}`).toBe(true);
    return res;
  }

  beforeAll(async () => {
    p = await startTestProvider('services');
    const token = await adminToken(p, 'openapi');
    api = adminApi(p, token);
    await ensureAdmin(p);
    const res = await api<Doc>('GET', '/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
  });
  afterAll(async () => {
    await closeStarted(p);
  });

  it('is OpenAPI 3.1, behind the admin token like the rest, and documents every route', async () => {
    expect(doc.openapi).toBe('3.1.0');
    expect((await adminApi(p, null)('GET', '/openapi.json')).status).toBe(401);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops ?? {}).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented).toHaveLength(49);
    for (const expected of [
      'POST /api/admin/apps',
      'PATCH /api/admin/apps/{appId}',
      'POST /api/admin/apps/{appId}/secret',
      'GET /api/admin/users/{userId}/audit',
      'DELETE /api/admin/users/{userId}/authorizations/{appId}',
      'POST /api/admin/keys/rotate',
      'DELETE /api/admin/keys/{keyId}',
      'DELETE /api/admin/users/{userId}/devices/{deviceId}',
    ]) {
      expect(documented).toContain(expected);
    }
    // The request schemas are the services' own: a strict body refuses unknown fields in both.
    const create = operation('post', '/apps').requestBody!.content['application/json'].schema as { additionalProperties?: boolean; required?: string[] };
    expect(create.additionalProperties).toBe(false);
    expect(create.required).toEqual(['name', 'redirectUris']);
    expect((await api('POST', '/apps', { name: 'x', redirectUris: [REDIRECT_URI], redirect_uris: [] })).status).toBe(400);
  });

  it('describes what the API answers, route by route (ajv against real answers)', async () => {
    const developer = (await call('POST', '/developers', {}, { name: 'OpenAPI Co' })).body;
    await call('GET', '/developers');
    await call('GET', '/developers/{developerId}', { developerId: developer.id });
    await call('PATCH', '/developers/{developerId}', { developerId: developer.id }, { name: 'OpenAPI Company' });

    const app = (
      await call('POST', '/apps', {}, { name: 'Documented', redirectUris: [REDIRECT_URI], developerId: developer.id, callbackDomain: '127.0.0.1:5999' })
    ).body;
    const appId = { appId: app.appId };
    await call('GET', '/apps', {}, undefined, `?developerId=${developer.id}`);
    await call('GET', '/apps/{appId}', appId);
    await call('PATCH', '/apps/{appId}', appId, { description: 'documented', logoUrl: null });
    await call('POST', '/apps/{appId}/secret', appId, { graceSeconds: 60 });
    await call('POST', '/apps/{appId}/disable', appId);
    await call('POST', '/apps/{appId}/enable', appId);
    await call('GET', '/apps/{appId}/usage', appId);
    await call('GET', '/apps/{appId}/audit', appId, undefined, '?limit=5');
    await call('GET', '/apps/{appId}/authorizations', appId);

    const phone = await signedInPhone(p);
    await call('GET', '/users', {}, undefined, `?q=${phone.username}`);
    await call('GET', '/users/{userId}', { userId: phone.username });
    await call('GET', '/users/{userId}/authorizations', { userId: phone.user.id });
    await call('GET', '/users/{userId}/audit', { userId: phone.user.id });
    const notAuthorized = await call('DELETE', '/users/{userId}/authorizations/{appId}', { userId: phone.user.id, appId: app.appId });
    expect(notAuthorized.status).toBe(404); // an error, validated against the Error schema

    const token = (await call('POST', '/tokens', {}, { name: 'documented', expiresInSeconds: 3600 })).body;
    await call('GET', '/tokens');
    await call('DELETE', '/tokens/{tokenId}', { tokenId: token.id });

    const admin = (await call('POST', '/admins', {}, { username: 'documented', password: 'a long enough password' })).body;
    await call('GET', '/admins');
    await call('GET', '/admins/{admin}', { admin: admin.username });
    await call('POST', '/admins/{admin}/password', { admin: admin.id }, { password: 'another long password' });
    await call('POST', '/admins/{admin}/disable', { admin: admin.id });
    await call('POST', '/admins/{admin}/enable', { admin: admin.id });
    await call('DELETE', '/admins/{admin}', { admin: admin.id });

    await call('GET', '/keys');
    await call('POST', '/keys/rotate', {}, { kind: 'cookie', leadSeconds: 60 });

    // People management and identity sources (issue 14).
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const assertionSource = {
      id: 'doc-app',
      kind: 'assertion',
      name: 'Documented app',
      issuer: 'https://doc.example',
      audience: p.issuer,
      jwks: { keys: [await exportJWK(publicKey)] },
      algorithms: ['ES256'],
    };
    await call('POST', '/identity-sources', {}, assertionSource);
    await call(
      'POST',
      '/identity-sources',
      {},
      { id: 'doc-sso', kind: 'oidc', name: 'Documented SSO', issuer: 'https://sso.doc.example', clientId: 'saoma', clientSecret: 's3cret' },
    );
    await call('GET', '/identity-sources');
    await call('GET', '/identity-sources/{sourceId}', { sourceId: 'doc-sso' });
    await call('PATCH', '/identity-sources/{sourceId}', { sourceId: 'doc-sso' }, { name: 'Documented Single Sign-On' });
    await call('POST', '/identity-sources/{sourceId}/disable', { sourceId: 'doc-sso' });
    await call('POST', '/identity-sources/{sourceId}/enable', { sourceId: 'doc-sso' });
    const person = (await call('POST', '/users', {}, { username: 'documented_person', nickname: 'Documented' })).body;
    const linked = (await call('POST', '/users/{userId}/identities', { userId: person.id }, { sourceId: 'doc-app', subject: 'doc-1' })).body;
    await call('GET', '/users/{userId}/identities', { userId: person.id });
    await call('GET', '/users/{userId}', { userId: person.id });
    await call('POST', '/users/{userId}/disable', { userId: person.id });
    await call('POST', '/users/{userId}/enable', { userId: person.id });
    await call('DELETE', '/users/{userId}/identities/{linkId}', { userId: person.id, linkId: linked.identity.id });
    await call('DELETE', '/users/{userId}', { userId: person.id });
    await call('DELETE', '/identity-sources/{sourceId}', { sourceId: 'doc-sso' });

    await call('DELETE', '/apps/{appId}', appId);
    await call('DELETE', '/developers/{developerId}', { developerId: developer.id });
    const missing = await call('GET', '/apps/{appId}', { appId: 'sm-nope' });
    expect(missing.body).toMatchObject({ error: 'not_found', request_id: expect.any(String) });
  });
});

import express, { Router } from 'express';
import { z } from 'zod';
import type { Audit } from '../../accounts/audit.js';
import { appInputSchema, secretRotationSchema, type Apps } from '../../apps/registry.js';
import { notFound } from '../../errors.js';
import { noStore, parseWith } from '../../http/guard.js';
import { createApiSpec, type ApiSpec } from '../../http/openapi.js';
import { refuseNul } from '../../http/refuse-nul.js';
import { rotateInputSchema, type Keyring } from '../../keys/keyring.js';
import type { AdminAccounts } from '../admins.js';
import { actorOf, adminAudit } from '../audit.js';
import type { Developers } from '../developers.js';
import type { AdminUsers } from '../people.js';
import type { AdminTokens } from '../tokens.js';
import { auditQuery, type Usage } from '../usage.js';
import { accountRoutes } from './routes-accounts.js';
import * as out from './schemas.js';
import type { IdentitySources } from '../../identity/sources.js';
import { identityRoutes } from './routes-identity.js';
import { peopleRoutes } from './routes-people.js';

// Printable ASCII: a NUL would reach PostgreSQL (which refuses it in text) as a 500.
const appIdParam = z.object({ appId: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'not an AppID') });
const keyIdParam = z.object({ keyId: z.string().min(1).max(256).describe('The id keys:list shows (a configured JWKS may use any kid)') });
const appListQuery = z.object({ developerId: z.string().min(1).max(64).optional().describe("Only this developer account's apps") });

export interface AdminServices {
  apps: Apps;
  developers: Developers;
  admins: AdminAccounts;
  tokens: AdminTokens;
  usage: Usage;
  users: AdminUsers;
  keyring: Keyring;
  identitySources: IdentitySources;
}

/**
 * Deps of the admin API. Only `apps` and `audit` are required so the router can be mounted
 * before everything else is wired.
 * TODO(issue 5 wiring): make the rest required once app.ts passes createAdministration's services.
 */
export type AdminRouteDeps = { apps: Apps; audit: Audit } & Partial<Omit<AdminServices, 'apps'>>;

/** The admin API's OpenAPI document, for every transport: served at /api/admin/openapi.json. */
function adminApiSpec(): ApiSpec {
  return createApiSpec(
    {
      title: 'Saoma admin API',
      version: '1',
      description:
        'Apps, developer accounts, people, admin tokens, admins and the provider keys (README "Administration"). Over HTTP with `Authorization: Bearer sat_…`; on DATA_DIR/admin.sock without.',
    },
    {
      basePath: '/api/admin',
      errorSchema: out.errorSchema,
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'An admin token (sat_…): npm run admin -- tokens:create' } },
    },
  );
}

/**
 * The admin API (API.md §5). Who may call it is decided by whoever mounts it: the local admin
 * socket (filesystem permissions, see socket.ts) or HTTP with a bearer admin token (auth.ts).
 * Every route is declared with its schemas (http/openapi.ts), which are the services' own.
 */
export function adminRoutes(deps: AdminRouteDeps): Router {
  const { apps, usage, users, keyring } = deps;
  const record = adminAudit(deps.audit);
  const router = Router();
  const spec = adminApiSpec();
  const route = spec.route.bind(null, router);
  router.use(noStore, express.json({ limit: '64kb' }), refuseNul);
  const appIdOf = (params: unknown) => parseWith(appIdParam, params).appId;
  const tags = ['apps'];

  router.get('/openapi.json', spec.serve);
  route(
    {
      method: 'post',
      path: '/apps',
      tags,
      summary: 'Register an app',
      body: appInputSchema,
      responses: { 201: { description: 'The app, with its AppSecret (shown this once)', schema: out.createdAppSchema } },
    },
    async (req, res) => {
      const created = await apps.create(req.body ?? {}, { strictDeveloper: true });
      await record('app.created', actorOf(res), { appId: created.appId, detail: { name: created.name } });
      res.status(201).json(created);
    },
  );
  route(
    {
      method: 'get',
      path: '/apps',
      tags,
      summary: 'List apps',
      query: appListQuery,
      responses: { 200: { description: 'The apps', schema: z.object({ apps: z.array(out.appSchema) }) } },
    },
    async (req, res) => {
      const { developerId } = parseWith(appListQuery, req.query);
      res.json({ apps: await apps.list({ developerId }) });
    },
  );
  route(
    {
      method: 'get',
      path: '/apps/:appId',
      tags,
      summary: 'Show an app',
      params: appIdParam,
      responses: { 200: { description: 'The app', schema: out.appSchema } },
    },
    async (req, res) => {
      res.json(await apps.get(appIdOf(req.params)));
    },
  );
  route(
    {
      method: 'patch',
      path: '/apps/:appId',
      tags,
      summary: 'Change an app (only the fields given; null clears an optional one)',
      params: appIdParam,
      body: appInputSchema.partial(),
      responses: { 200: { description: 'The app', schema: out.appSchema } },
    },
    async (req, res) => {
      const appId = appIdOf(req.params);
      const body = (req.body ?? {}) as object;
      const updated = await apps.update(appId, body);
      await record('app.updated', actorOf(res), { appId, detail: { fields: Object.keys(body) } });
      res.json(updated);
    },
  );
  route(
    {
      method: 'delete',
      path: '/apps/:appId',
      tags,
      summary: 'Delete an app with its authorizations, grants and tokens',
      params: appIdParam,
      responses: { 200: { description: 'What was deleted', schema: out.deletedAppSchema } },
    },
    async (req, res) => {
      const appId = appIdOf(req.params);
      const deleted = await apps.delete(appId);
      await record('app.deleted', actorOf(res), { appId, detail: { name: deleted.name, authorizations: deleted.authorizations, grants: deleted.grants } });
      res.json(deleted);
    },
  );
  route(
    {
      method: 'post',
      path: '/apps/:appId/secret',
      tags,
      summary: 'Issue a new AppSecret (the old one fails at once, or after graceSeconds)',
      params: appIdParam,
      body: secretRotationSchema,
      responses: { 200: { description: 'The new AppSecret (shown this once)', schema: out.rotatedSecretSchema } },
    },
    async (req, res) => {
      const appId = appIdOf(req.params);
      const rotated = await apps.rotateSecret(appId, req.body ?? {});
      await record('app.secret_rotated', actorOf(res), { appId, detail: { previousSecretExpiresAt: rotated.previousSecretExpiresAt } });
      res.json(rotated);
    },
  );
  for (const [action, status] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    route(
      {
        method: 'post',
        path: `/apps/:appId/${action}`,
        tags,
        summary: `${action === 'disable' ? 'Disable' : 'Enable'} an app`,
        params: appIdParam,
        responses: { 200: { description: 'The app', schema: out.appSchema } },
      },
      async (req, res) => {
        const appId = appIdOf(req.params);
        const app = await apps.setStatus(appId, status);
        await record('app.status_changed', actorOf(res), { appId, detail: { status } });
        res.json(app);
      },
    );
  }
  if (usage) {
    route(
      {
        method: 'get',
        path: '/apps/:appId/usage',
        tags,
        summary: "An app's logins in the last 24 hours and 30 days",
        params: appIdParam,
        responses: { 200: { description: 'Counts', schema: out.usageSchema } },
      },
      async (req, res) => {
        res.json(await usage.forApp(appIdOf(req.params)));
      },
    );
    route(
      {
        method: 'get',
        path: '/apps/:appId/audit',
        tags,
        summary: "An app's audit trail, newest first",
        params: appIdParam,
        query: auditQuery,
        responses: { 200: { description: 'Events', schema: out.auditTrailSchema } },
      },
      async (req, res) => {
        res.json(await usage.auditForApp(appIdOf(req.params), req.query));
      },
    );
  }
  if (users) {
    route(
      {
        method: 'get',
        path: '/apps/:appId/authorizations',
        tags,
        summary: 'Who has authorized an app',
        params: appIdParam,
        responses: { 200: { description: 'Authorizations', schema: out.appAuthorizationsSchema } },
      },
      async (req, res) => {
        const appId = appIdOf(req.params);
        await apps.get(appId); // 404 for an unknown app, not an empty list
        res.json({ authorizations: await users.ofApp(appId) });
      },
    );
  }
  if (keyring) {
    // The provider's signing and cookie keys: never their private material.
    const keyTags = ['keys'];
    route(
      {
        method: 'get',
        path: '/keys',
        tags: keyTags,
        summary: 'The ID token signing keys and cookie keys, and when each signs and retires',
        responses: { 200: { description: 'Keys', schema: z.object({ keys: z.array(out.keySchema) }) } },
      },
      async (_req, res) => {
        res.json({ keys: await keyring.list() });
      },
    );
    route(
      {
        method: 'post',
        path: '/keys/rotate',
        tags: keyTags,
        summary: 'New keys: published now, signing after the lead time; the replaced ones retire by themselves',
        body: rotateInputSchema,
        responses: { 201: { description: 'The new keys and those they replace', schema: out.rotatedKeysSchema } },
      },
      async (req, res) => {
        const rotated = await keyring.rotate(req.body ?? {});
        await record('keys.rotated', actorOf(res), { detail: { created: rotated.created.map((k) => k.id), replaced: rotated.replaced.map((k) => k.id) } });
        res.status(201).json(rotated);
      },
    );
    route(
      {
        method: 'delete',
        path: '/keys/:keyId',
        tags: keyTags,
        summary: 'Remove a key at once (it leaked): gone from the JWKS and every instance; a key that signed is replaced in the same step',
        params: keyIdParam,
        responses: { 200: { description: 'The key removed, and the one that signs in its place', schema: out.removedKeySchema } },
      },
      async (req, res) => {
        const removed = await keyring.remove(parseWith(keyIdParam, req.params).keyId);
        await record('keys.removed', actorOf(res), { detail: { removed: removed.removed.id, signing: removed.signing?.id ?? null } });
        res.json(removed);
      },
    );
  }
  const { developers, admins, tokens, identitySources } = deps;
  if (developers && admins && tokens && usage && users) accountRoutes({ route, developers, admins, tokens, usage, users, record });
  if (users) peopleRoutes({ route, users, record });
  if (identitySources) identityRoutes({ route, sources: identitySources, record });

  router.use((_req, _res) => {
    throw notFound('No such admin API endpoint.');
  });
  return router;
}

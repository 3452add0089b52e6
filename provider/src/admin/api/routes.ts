import express, { Router } from 'express';
import { z } from 'zod';
import type { Audit } from '../../accounts/audit.js';
import { notFound } from '../../errors.js';
import { noStore, parseWith } from '../../http/guard.js';
import type { AdminAccounts } from '../admins.js';
import type { Apps } from '../../apps/registry.js';
import { actorOf, adminAudit } from '../audit.js';
import type { Developers } from '../developers.js';
import { refuseNul } from '../../http/refuse-nul.js';
import { accountRoutes } from './routes-accounts.js';
import type { AdminTokens } from '../tokens.js';
import type { Usage } from '../usage.js';
import type { AdminUsers } from '../people.js';
import type { Keyring } from '../../keys/keyring.js';

// Printable ASCII: a NUL would reach PostgreSQL (which refuses it in text) as a 500.
const appIdParam = z.object({ appId: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'not an AppID') });

export interface AdminServices {
  apps: Apps;
  developers: Developers;
  admins: AdminAccounts;
  tokens: AdminTokens;
  usage: Usage;
  users: AdminUsers;
  keyring: Keyring;
}

/**
 * Deps of the admin API. Only `apps` and `audit` are required so the router can be mounted
 * before everything else is wired.
 * TODO(issue 5 wiring): make the rest required once app.ts passes createAdministration's services.
 */
export type AdminRouteDeps = { apps: Apps; audit: Audit } & Partial<Omit<AdminServices, 'apps'>>;

/**
 * The admin API (API.md §5). Who may call it is decided by whoever mounts it: the local admin
 * socket (filesystem permissions, see socket.ts) or HTTP with a bearer admin token (auth.ts).
 */
export function adminRoutes(deps: AdminRouteDeps): Router {
  const { apps, usage, users } = deps;
  const record = adminAudit(deps.audit);
  const router = Router();
  router.use(noStore, express.json({ limit: '64kb' }), refuseNul);
  const appIdOf = (params: unknown) => parseWith(appIdParam, params).appId;

  router.post('/apps', async (req, res) => {
    const created = await apps.create(req.body ?? {}, { strictDeveloper: true });
    await record('app.created', actorOf(res), { appId: created.appId, detail: { name: created.name } });
    res.status(201).json(created);
  });
  router.get('/apps', async (req, res) => {
    const developerId = typeof req.query.developerId === 'string' ? req.query.developerId : undefined;
    res.json({ apps: await apps.list({ developerId }) });
  });
  router.get('/apps/:appId', async (req, res) => {
    res.json(await apps.get(appIdOf(req.params)));
  });
  router.patch('/apps/:appId', async (req, res) => {
    const appId = appIdOf(req.params);
    const updated = await apps.update(appId, req.body ?? {});
    await record('app.updated', actorOf(res), { appId, detail: { fields: Object.keys(req.body ?? {}) } });
    res.json(updated);
  });
  router.delete('/apps/:appId', async (req, res) => {
    const appId = appIdOf(req.params);
    const deleted = await apps.delete(appId);
    await record('app.deleted', actorOf(res), { appId, detail: { name: deleted.name, authorizations: deleted.authorizations, grants: deleted.grants } });
    res.json(deleted);
  });
  router.post('/apps/:appId/secret', async (req, res) => {
    const appId = appIdOf(req.params);
    const rotated = await apps.rotateSecret(appId, req.body ?? {});
    await record('app.secret_rotated', actorOf(res), { appId, detail: { previousSecretExpiresAt: rotated.previousSecretExpiresAt } });
    res.json(rotated);
  });
  for (const [action, status] of [['disable', 'disabled'], ['enable', 'active']] as const) {
    router.post(`/apps/:appId/${action}`, async (req, res) => {
      const appId = appIdOf(req.params);
      const app = await apps.setStatus(appId, status);
      await record('app.status_changed', actorOf(res), { appId, detail: { status } });
      res.json(app);
    });
  }
  if (usage) {
    router.get('/apps/:appId/usage', async (req, res) => {
      res.json(await usage.forApp(appIdOf(req.params)));
    });
    router.get('/apps/:appId/audit', async (req, res) => {
      res.json(await usage.auditForApp(appIdOf(req.params), req.query));
    });
  }
  if (users) {
    router.get('/apps/:appId/authorizations', async (req, res) => {
      const appId = appIdOf(req.params);
      await apps.get(appId); // 404 for an unknown app, not an empty list
      res.json({ authorizations: await users.ofApp(appId) });
    });
  }
  const { keyring } = deps;
  if (keyring) {
    // The provider's signing and cookie keys: never their private material.
    router.get('/keys', async (_req, res) => {
      res.json({ keys: await keyring.list() });
    });
    router.post('/keys/rotate', async (req, res) => {
      const rotated = await keyring.rotate(req.body ?? {});
      await record('keys.rotated', actorOf(res), { detail: { created: rotated.created.map((k) => k.id), replaced: rotated.replaced.map((k) => k.id) } });
      res.status(201).json(rotated);
    });
  }
  const { developers, admins, tokens } = deps;
  if (developers && admins && tokens && usage && users) router.use(accountRoutes({ developers, admins, tokens, usage, users, record }));

  router.use((_req, _res) => {
    throw notFound('No such admin API endpoint.');
  });
  return router;
}

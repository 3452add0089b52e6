import { Router } from 'express';
import { z } from 'zod';
import { parseWith } from '../../http/guard.js';
import type { AdminAccounts } from '../admins.js';
import { actorOf, adminIdOf, type AdminAudit } from '../audit.js';
import type { Developers } from '../developers.js';
import type { AdminTokens } from '../tokens.js';
import type { Usage } from '../usage.js';
import type { AdminUsers } from '../people.js';

const ref = (name: string) => z.object({ [name]: z.string().min(1).max(100) });
const param = (name: string, params: unknown) => parseWith(ref(name), params)[name] as string;
const appIdParam = z.object({ userId: z.string().min(1).max(100), appId: z.string().min(1).max(64) });

export interface AccountRouteDeps {
  developers: Developers;
  admins: AdminAccounts;
  tokens: AdminTokens;
  usage: Usage;
  users: AdminUsers;
  record: AdminAudit;
}

/** Developer accounts, people (users), admin tokens and admin accounts, below /api/admin. */
export function accountRoutes(deps: AccountRouteDeps): Router {
  const { developers, admins, tokens, usage, users, record } = deps;
  const router = Router();

  // Developer accounts: own apps, scope unionid.
  router.post('/developers', async (req, res) => {
    const created = await developers.create(req.body);
    await record('developer.created', actorOf(res), { detail: { developerId: created.id, name: created.name } });
    res.status(201).json(created);
  });
  router.get('/developers', async (_req, res) => {
    res.json({ developers: await developers.list() });
  });
  router.get('/developers/:developerId', async (req, res) => {
    res.json(await developers.get(param('developerId', req.params)));
  });
  router.patch('/developers/:developerId', async (req, res) => {
    const id = param('developerId', req.params);
    const updated = await developers.update(id, req.body);
    await record('developer.updated', actorOf(res), { detail: { developerId: id, name: updated.name } });
    res.json(updated);
  });
  router.delete('/developers/:developerId', async (req, res) => {
    const id = param('developerId', req.params);
    const deleted = await developers.delete(id);
    await record('developer.deleted', actorOf(res), { detail: { developerId: id } });
    res.json(deleted);
  });

  // People: search, their authorizations and activity, revocation.
  router.get('/users', async (req, res) => {
    res.json({ users: await users.search(req.query) });
  });
  router.get('/users/:userId', async (req, res) => {
    res.json(await users.get(param('userId', req.params)));
  });
  router.get('/users/:userId/authorizations', async (req, res) => {
    res.json({ authorizations: (await users.get(param('userId', req.params))).authorizations });
  });
  router.get('/users/:userId/audit', async (req, res) => {
    const user = await users.get(param('userId', req.params));
    res.json(await usage.auditForUser(user.id, req.query));
  });
  router.delete('/users/:userId/authorizations/:appId', async (req, res) => {
    const { userId, appId } = parseWith(appIdParam, req.params);
    const revoked = await users.revoke(userId, appId);
    await record('authorization.revoked', actorOf(res), { userId: revoked.userId, appId, ip: req.ip ?? null, detail: { by: 'admin' } });
    res.json(revoked);
  });

  // Admin tokens (bearer auth for this API over HTTP).
  router.post('/tokens', async (req, res) => {
    const created = await tokens.create(req.body, actorOf(res), adminIdOf(res));
    await record('admin.token_created', actorOf(res), { detail: { tokenId: created.id, name: created.name } });
    res.status(201).json(created);
  });
  router.get('/tokens', async (_req, res) => {
    res.json({ tokens: await tokens.list() });
  });
  router.delete('/tokens/:tokenId', async (req, res) => {
    const revoked = await tokens.revoke(param('tokenId', req.params));
    await record('admin.token_revoked', actorOf(res), { detail: { tokenId: revoked.id, name: revoked.name } });
    res.json(revoked);
  });

  // Admin accounts (console sign-in).
  router.post('/admins', async (req, res) => {
    const created = await admins.create(req.body);
    await record('admin.created', actorOf(res), { detail: { admin: created.username } });
    res.status(201).json(created);
  });
  router.get('/admins', async (_req, res) => {
    res.json({ admins: await admins.list() });
  });
  router.get('/admins/:admin', async (req, res) => {
    res.json(await admins.get(param('admin', req.params)));
  });
  for (const [action, disabled] of [['disable', true], ['enable', false]] as const) {
    router.post(`/admins/:admin/${action}`, async (req, res) => {
      const admin = await admins.setDisabled(param('admin', req.params), disabled);
      await record(disabled ? 'admin.disabled' : 'admin.enabled', actorOf(res), { detail: { admin: admin.username } });
      res.json(admin);
    });
  }
  router.delete('/admins/:admin', async (req, res) => {
    const admin = await admins.remove(param('admin', req.params));
    await record('admin.deleted', actorOf(res), { detail: { admin: admin.username } });
    res.json({ ...admin, deleted: true });
  });
  router.post('/admins/:admin/password', async (req, res) => {
    const admin = await admins.setPassword(param('admin', req.params), req.body);
    await record('admin.password_changed', actorOf(res), { detail: { admin: admin.username } });
    res.json(admin);
  });

  return router;
}

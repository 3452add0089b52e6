import express, { Router } from 'express';
import { z } from 'zod';
import type { Audit } from '../accounts/audit.js';
import { notFound } from '../errors.js';
import { noStore, parseWith } from '../http/guard.js';
import type { Apps } from './apps.js';

const appIdParam = z.object({ appId: z.string().min(1).max(64) });

/**
 * The admin API (API.md §5). Who may call it is decided by whoever mounts it: today the local
 * admin socket (filesystem permissions, see socket.ts); bearer admin tokens come with the
 * console.
 */
export function adminRoutes(deps: { apps: Apps; audit: Audit }): Router {
  const { apps, audit } = deps;
  const router = Router();
  router.use(noStore, express.json({ limit: '64kb' }));

  router.post('/apps', async (req, res) => {
    const created = await apps.create(req.body);
    await audit.record('app.created', { appId: created.appId, detail: { name: created.name } });
    res.status(201).json(created);
  });
  router.get('/apps', async (_req, res) => {
    res.json({ apps: await apps.list() });
  });
  router.get('/apps/:appId', async (req, res) => {
    res.json(await apps.get(parseWith(appIdParam, req.params).appId));
  });
  router.patch('/apps/:appId', async (req, res) => {
    const { appId } = parseWith(appIdParam, req.params);
    const updated = await apps.update(appId, req.body);
    await audit.record('app.updated', { appId, detail: { fields: Object.keys(req.body ?? {}) } });
    res.json(updated);
  });
  router.post('/apps/:appId/secret', async (req, res) => {
    const { appId } = parseWith(appIdParam, req.params);
    const rotated = await apps.rotateSecret(appId);
    await audit.record('app.secret_rotated', { appId });
    res.json(rotated);
  });
  for (const [action, status] of [['disable', 'disabled'], ['enable', 'active']] as const) {
    router.post(`/apps/:appId/${action}`, async (req, res) => {
      const { appId } = parseWith(appIdParam, req.params);
      const app = await apps.setStatus(appId, status);
      await audit.record('app.status_changed', { appId, detail: { status } });
      res.json(app);
    });
  }
  router.use((_req, _res) => {
    throw notFound('No such admin API endpoint.');
  });
  return router;
}

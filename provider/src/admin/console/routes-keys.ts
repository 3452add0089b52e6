import { Router, type Request } from 'express';
import { notFound } from '../../errors.js';
import { actorOf } from '../audit.js';
import { ctxOf, done, formError, send, type ConsoleDeps } from './kit.js';
import { keyPage, keysPage } from './views-keys.js';

const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
/** The form, as parsed by express.urlencoded (console/router.ts). */
const bodyOf = (req: Request) => (req.body ?? {}) as Record<string, unknown>;

/** The provider's keys: list, rotate, remove a leaked one (the same keyring as keys:* and /api/admin/keys). */
export function consoleKeyRoutes(deps: ConsoleDeps): Router {
  const { keyring } = deps.services;
  const { sessions, record } = deps;
  const router = Router();
  const find = async (id: string) => {
    const key = (await keyring.list()).find((k) => k.id === id);
    if (!key) throw notFound(`No key ${id} is in use.`);
    return key;
  };

  router.get('/keys', async (_req, res) => {
    send(res, 200, keysPage(ctxOf(res), await keyring.list()));
  });
  router.post('/keys/rotate', async (req, res) => {
    const v = { kind: text(bodyOf(req).kind), lead: text(bodyOf(req).lead) };
    try {
      // The keyring validates (kind, a lead in range); a lead that is not a number is its error too.
      const rotated = await keyring.rotate({ kind: v.kind || 'all', ...(v.lead ? { leadSeconds: v.lead } : {}) });
      await record('keys.rotated', actorOf(res), { detail: { created: rotated.created.map((k) => k.id), replaced: rotated.replaced.map((k) => k.id) } });
      await done(res, sessions, '/admin/keys', {
        notice: `Rotated: ${rotated.created.map((k) => k.id).join(', ')} published; each signs from the date shown.`,
      });
    } catch (err) {
      send(res, 400, keysPage(ctxOf(res, { error: formError(err) }), await keyring.list(), v));
    }
  });
  router.get('/keys/:keyId', async (req, res) => {
    send(res, 200, keyPage(ctxOf(res), await find(req.params.keyId)));
  });
  router.post('/keys/:keyId/remove', async (req, res) => {
    const key = await find(req.params.keyId);
    // The button is enabled only once the id is typed; checked here again (no script, a stale form).
    if (text(bodyOf(req).confirm) !== key.id) {
      send(res, 400, keyPage(ctxOf(res, { error: `Type ${key.id} to confirm the removal.` }), key));
      return;
    }
    const removed = await keyring.remove(key.id);
    await record('keys.removed', actorOf(res), { detail: { removed: removed.removed.id, signing: removed.signing?.id ?? null } });
    const instead = removed.signing ? ` ${removed.signing.id} signs in its place.` : '';
    await done(res, sessions, '/admin/keys', { notice: `Removed ${removed.removed.id} on every instance.${instead}` });
  });
  return router;
}

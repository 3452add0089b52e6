import { Router, type Request, type Response } from 'express';
import { AppError } from '../../errors.js';
import { actorOf } from '../audit.js';
import { ctxOf, done, formError, send, type ConsoleDeps } from './kit.js';
import { userPage, usersPage } from './views-people.js';

const text = (v: unknown) => (typeof v === 'string' ? v : '');
/** The form, as parsed by express.urlencoded (console/router.ts). */
const bodyOf = (req: Request) => (req.body ?? {}) as Record<string, unknown>;
/** Where a revoke button asked to go back to: only console paths. */
const back = (v: unknown, fallback: string) => (typeof v === 'string' && /^\/admin\/[A-Za-z0-9/_-]*$/.test(v) ? v : fallback);

/** People: search, provision, their sign-in methods and identities, disable/enable, delete, revoke. */
export function consolePeopleRoutes(deps: ConsoleDeps): Router {
  const { users, usage, identitySources } = deps.services;
  const { sessions, record } = deps;
  const router = Router();

  async function showUser(res: Response, ref: string, status = 200, extra: { error?: string; link?: { sourceId: string; subject: string } } = {}) {
    const { authorizations, signInMethods, devices, ...user } = await users.get(ref);
    const [trail, sources] = await Promise.all([usage.auditForUser(user.id, { limit: 25 }), identitySources.list()]);
    send(
      res,
      status,
      userPage(
        ctxOf(res, extra.error ? { error: extra.error } : {}),
        { user, methods: signInMethods, sources, authorizations, devices, audit: trail.events },
        extra.link,
      ),
    );
  }

  router.get('/users', async (req, res) => {
    const q = text(req.query.q).slice(0, 100);
    send(res, 200, usersPage(ctxOf(res), await users.search({ q: q || undefined }), q));
  });
  router.post('/users', async (req, res) => {
    const v = { username: text(bodyOf(req).username).trim(), nickname: text(bodyOf(req).nickname).trim() };
    const password = text(bodyOf(req).password);
    try {
      const created = await users.create({ username: v.username, ...(v.nickname ? { nickname: v.nickname } : {}), ...(password ? { password } : {}) });
      await record('user.created', actorOf(res), { userId: created.id, detail: { username: created.username } });
      await done(res, sessions, `/admin/users/${created.id}`, { notice: `Created ${created.username}.` });
    } catch (err) {
      send(res, 400, usersPage(ctxOf(res, { error: formError(err) }), await users.search({}), '', v));
    }
  });
  router.get('/users/:userId', async (req, res) => {
    await showUser(res, req.params.userId);
  });

  router.post('/users/:userId/identities', async (req, res) => {
    const link = { sourceId: text(bodyOf(req).sourceId), subject: text(bodyOf(req).subject) };
    try {
      const linked = await users.link(req.params.userId, link);
      await record('identity.linked', actorOf(res), {
        userId: linked.userId,
        detail: { sourceId: linked.identity.sourceId, subject: linked.identity.subject },
      });
      await done(res, sessions, `/admin/users/${linked.userId}`, { notice: `Linked ${linked.identity.sourceName} identity "${linked.identity.subject}".` });
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500 || err.code === 'not_found') throw err;
      await showUser(res, req.params.userId, 400, { error: err.description, link });
    }
  });
  router.post('/users/:userId/identities/:linkId/unlink', async (req, res) => {
    const out = await users.unlink(req.params.userId, req.params.linkId);
    await record('identity.unlinked', actorOf(res), { userId: out.userId, detail: { linkId: out.linkId } });
    await done(res, sessions, `/admin/users/${out.userId}`, { notice: 'Identity unlinked.' });
  });

  for (const [action, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    router.post(`/users/:userId/${action}`, async (req, res) => {
      const user = await users.setDisabled(req.params.userId, disabled);
      await record(disabled ? 'user.disabled' : 'user.enabled', actorOf(res), {
        userId: user.id,
        detail: { username: user.username, devicesSignedOut: user.devicesSignedOut },
      });
      const notice = disabled
        ? `${user.username} is disabled: ${user.devicesSignedOut} phone session(s) ended, ${user.grantsRevoked} site authorization(s) revoked.`
        : `${user.username} can sign in again.`;
      await done(res, sessions, `/admin/users/${user.id}`, { notice });
    });
  }
  router.post('/users/:userId/delete', async (req, res) => {
    const { username, id } = await users.get(req.params.userId);
    // The button is enabled only once the username is typed; checked here again (no script, a stale form).
    if (text(bodyOf(req).confirm).trim() !== username) {
      await showUser(res, id, 400, { error: `Type ${username} to confirm the deletion.` });
      return;
    }
    const deleted = await users.remove(id);
    await record('user.deleted', actorOf(res), { userId: deleted.id, detail: { username: deleted.username } });
    await done(res, sessions, '/admin/users', { notice: `Deleted ${deleted.username}.` });
  });

  router.post('/users/:userId/devices/:deviceId/sign-out', async (req, res) => {
    const out = await users.signOutDevice(req.params.userId, req.params.deviceId);
    await record('device.logout', actorOf(res), { userId: out.userId, detail: { deviceId: out.deviceId, by: 'admin' } });
    await done(res, sessions, `/admin/users/${out.userId}`, { notice: `Signed out ${out.deviceId} of ${out.username}.` });
  });

  router.post('/users/:userId/authorizations/:appId/revoke', async (req, res) => {
    const revoked = await users.revoke(req.params.userId, req.params.appId);
    await record('authorization.revoked', actorOf(res), { userId: revoked.userId, appId: revoked.appId, ip: req.ip ?? null, detail: { by: 'admin' } });
    await done(res, sessions, back(bodyOf(req).back, `/admin/users/${revoked.userId}`), {
      notice: `Revoked ${revoked.username}'s authorization for ${revoked.appId}.`,
    });
  });
  return router;
}

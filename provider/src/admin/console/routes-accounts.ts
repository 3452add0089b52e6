import { Router, type Request } from 'express';
import { actorOf } from '../audit.js';
import { adminError } from '../error-codes.js';
import { ctxOf, done, formError, locals, send, type ConsoleDeps } from './kit.js';
import { setSessionCookie } from './session.js';
import { adminsPage, developerPage, developersPage, tokensPage } from './views-accounts.js';

const text = (v: unknown) => (typeof v === 'string' ? v : '');
/** The posted form (urlencoded: strings, or arrays of them); {} when the body was not a form. */
const form = (req: Request) => (req.body ?? {}) as Record<string, unknown>;

/** Developer accounts, API tokens and admin accounts (people: routes-people.ts). */
export function consoleAccountRoutes(deps: ConsoleDeps): Router {
  const { apps, developers, tokens, admins } = deps.services;
  const { sessions, record, issuer } = deps;
  const router = Router();

  router.get('/developers', async (_req, res) => {
    send(res, 200, developersPage(ctxOf(res), await developers.list()));
  });
  router.post('/developers', async (req, res) => {
    const v = { name: text(form(req).name), id: text(form(req).id).trim() };
    try {
      const created = await developers.create({ name: v.name, ...(v.id ? { id: v.id } : {}) });
      await record('developer.created', actorOf(res), { detail: { developerId: created.id, name: created.name } });
      await done(res, sessions, `/admin/developers/${created.id}`, { notice: `Created ${created.name}.` });
    } catch (err) {
      send(res, 400, developersPage(ctxOf(res, { error: formError(err) }), await developers.list(), v));
    }
  });
  router.get('/developers/:id', async (req, res) => {
    const d = await developers.get(req.params.id);
    send(res, 200, developerPage(ctxOf(res), d, await apps.list({ developerId: d.id })));
  });
  router.post('/developers/:id', async (req, res) => {
    const d = await developers.get(req.params.id);
    try {
      const updated = await developers.update(d.id, { name: text(form(req).name) });
      await record('developer.updated', actorOf(res), { detail: { developerId: d.id, name: updated.name } });
      await done(res, sessions, `/admin/developers/${d.id}`, { notice: 'Saved.' });
    } catch (err) {
      send(res, 400, developerPage(ctxOf(res, { error: formError(err) }), d, await apps.list({ developerId: d.id })));
    }
  });
  router.post('/developers/:id/delete', async (req, res) => {
    const d = await developers.get(req.params.id);
    await developers.delete(d.id);
    await record('developer.deleted', actorOf(res), { detail: { developerId: d.id } });
    await done(res, sessions, '/admin/developers', { notice: `Deleted ${d.name}.` });
  });

  router.get('/tokens', async (_req, res) => {
    send(res, 200, tokensPage(ctxOf(res), await tokens.list(), locals(res).flash?.adminToken));
  });
  router.post('/tokens', async (req, res) => {
    try {
      const created = await tokens.create({ name: text(form(req).name) }, actorOf(res), locals(res).session.adminId);
      await record('admin.token_created', actorOf(res), { detail: { tokenId: created.id, name: created.name } });
      await done(res, sessions, '/admin/tokens', { adminToken: { id: created.id, name: created.name, token: created.token } });
    } catch (err) {
      send(res, 400, tokensPage(ctxOf(res, { error: formError(err) }), await tokens.list(), undefined, { name: text(form(req).name) }));
    }
  });
  router.post('/tokens/:id/revoke', async (req, res) => {
    const revoked = await tokens.revoke(req.params.id);
    await record('admin.token_revoked', actorOf(res), { detail: { tokenId: revoked.id, name: revoked.name } });
    await done(res, sessions, '/admin/tokens', { notice: `Revoked token "${revoked.name}".` });
  });

  router.get('/admins', async (_req, res) => {
    send(res, 200, adminsPage(ctxOf(res), await admins.list()));
  });
  router.post('/admins', async (req, res) => {
    const v = { username: text(form(req).username) };
    try {
      const created = await admins.create({ username: v.username, password: text(form(req).password) });
      await record('admin.created', actorOf(res), { detail: { admin: created.username } });
      await done(res, sessions, '/admin/admins', { notice: `Created admin ${created.username}.` });
    } catch (err) {
      send(res, 400, adminsPage(ctxOf(res, { error: formError(err) }), await admins.list(), v));
    }
  });
  // Your own password: the current one first (a session left open is not enough), and every
  // other console session of yours ends; this browser gets a fresh one.
  router.post('/admins/password', async (req, res) => {
    try {
      const { adminId, username } = locals(res).session;
      if (!(await admins.authenticate(username, text(form(req).currentPassword)))) throw adminError('wrong_password');
      const me = await admins.setPassword(adminId, { password: text(form(req).password) });
      await record('admin.password_changed', actorOf(res), { detail: { admin: me.username } });
      await sessions.end(locals(res).sid);
      const { sid } = await sessions.start(me);
      setSessionCookie(req, res, issuer, sid);
      await sessions.setFlash(sid, { notice: 'Your password is changed. Other sessions are signed out.' });
      res.redirect(303, '/admin/admins');
    } catch (err) {
      send(res, 400, adminsPage(ctxOf(res, { error: formError(err) }), await admins.list()));
    }
  });
  for (const [action, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    router.post(`/admins/:id/${action}`, async (req, res) => {
      try {
        const admin = await admins.setDisabled(req.params.id, disabled);
        await record(disabled ? 'admin.disabled' : 'admin.enabled', actorOf(res), { detail: { admin: admin.username } });
        await done(res, sessions, '/admin/admins', { notice: `${admin.username} is ${admin.status}.` });
      } catch (err) {
        const error = formError(err);
        send(res, (err as { status: number }).status, adminsPage(ctxOf(res, { error }), await admins.list()));
      }
    });
  }
  return router;
}

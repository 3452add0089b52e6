import { Router, type Request } from 'express';
import { actorOf } from '../audit.js';
import { ctxOf, done, formError, locals, send, type ConsoleDeps } from './kit.js';
import { appDeletePage, appDetailPage, appFormPage, appFormValues, appsPage, type AppFormValues } from './views-apps.js';

const text = (v: unknown) => (typeof v === 'string' ? v : '');
/** The posted form (urlencoded: strings, or arrays of them); {} when the body was not a form. */
const form = (req: Request) => (req.body ?? {}) as Record<string, unknown>;

/** A textarea of URIs, one per line. */
const lines = (v: string) =>
  v
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);

/** The form as the API body. Empty optional fields: absent on create, cleared (null) on edit. */
function appBody(v: AppFormValues, mode: 'new' | 'edit') {
  const optional = (s: string) => (s.trim() ? s.trim() : mode === 'edit' ? null : undefined);
  return {
    name: v.name,
    redirectUris: lines(v.redirectUris),
    postLogoutRedirectUris: lines(v.postLogoutRedirectUris),
    callbackDomain: optional(v.callbackDomain),
    logoUrl: optional(v.logoUrl),
    homepage: optional(v.homepage),
    description: optional(v.description),
    developerId: v.developerId || undefined,
    tokenEndpointAuthMethod: v.tokenEndpointAuthMethod || undefined,
    idTokenSignedResponseAlg: v.idTokenSignedResponseAlg || undefined,
    requirePkce: v.requirePkce || undefined,
    requireUserVerification: v.requireUserVerification === 'yes',
  };
}

const formValues = (req: Request): AppFormValues => {
  const b = form(req);
  return {
    name: text(b.name),
    redirectUris: text(b.redirectUris),
    postLogoutRedirectUris: text(b.postLogoutRedirectUris),
    callbackDomain: text(b.callbackDomain),
    logoUrl: text(b.logoUrl),
    homepage: text(b.homepage),
    description: text(b.description),
    developerId: text(b.developerId),
    tokenEndpointAuthMethod: text(b.tokenEndpointAuthMethod),
    idTokenSignedResponseAlg: text(b.idTokenSignedResponseAlg),
    requirePkce: text(b.requirePkce),
    requireUserVerification: text(b.requireUserVerification),
  };
};

/** Apps: list, create (secret shown once), show with usage and trail, edit, rotate, disable/enable, delete. */
export function consoleAppRoutes(deps: ConsoleDeps): Router {
  const { apps, developers, usage, users } = deps.services;
  const { sessions, record } = deps;
  const router = Router();

  router.get('/apps', async (_req, res) => {
    send(res, 200, appsPage(ctxOf(res), await apps.list(), await developers.list()));
  });
  router.get('/apps/new', async (_req, res) => {
    send(res, 200, appFormPage(ctxOf(res), 'new', appFormValues(), await developers.list(), apps.signingAlgorithms()));
  });
  router.post('/apps', async (req, res) => {
    const v = formValues(req);
    try {
      const created = await apps.create(appBody(v, 'new'), { strictDeveloper: true });
      await record('app.created', actorOf(res), { appId: created.appId, detail: { name: created.name } });
      await done(res, sessions, `/admin/apps/${created.appId}`, {
        notice: `Created ${created.name}.`,
        appSecret: { appId: created.appId, appSecret: created.appSecret, rotated: false, previousSecretExpiresAt: null },
      });
    } catch (err) {
      send(res, 400, appFormPage(ctxOf(res, { error: formError(err) }), 'new', v, await developers.list(), apps.signingAlgorithms()));
    }
  });

  router.get('/apps/:appId', async (req, res) => {
    const app = await apps.get(req.params.appId);
    const [devs, counts, authorized, trail] = await Promise.all([
      developers.list(),
      usage.forApp(app.appId),
      users.ofApp(app.appId),
      usage.auditForApp(app.appId, { limit: 25 }),
    ]);
    const flash = locals(res).flash;
    const secret = flash?.appSecret?.appId === app.appId ? flash.appSecret : undefined;
    send(
      res,
      200,
      appDetailPage(ctxOf(res), { app, developer: devs.find((d) => d.id === app.developerId) ?? null, usage: counts, authorized, audit: trail.events, secret }),
    );
  });
  router.get('/apps/:appId/edit', async (req, res) => {
    const app = await apps.get(req.params.appId);
    send(res, 200, appFormPage(ctxOf(res), 'edit', appFormValues(app), await developers.list(), apps.signingAlgorithms(), app));
  });
  router.post('/apps/:appId', async (req, res) => {
    const app = await apps.get(req.params.appId);
    const v = formValues(req);
    try {
      const body = appBody(v, 'edit');
      await apps.update(app.appId, body);
      await record('app.updated', actorOf(res), { appId: app.appId, detail: { fields: Object.keys(body) } });
      await done(res, sessions, `/admin/apps/${app.appId}`, { notice: 'Saved.' });
    } catch (err) {
      send(res, 400, appFormPage(ctxOf(res, { error: formError(err) }), 'edit', v, await developers.list(), apps.signingAlgorithms(), app));
    }
  });
  router.post('/apps/:appId/secret', async (req, res) => {
    const rotated = await apps.rotateSecret(req.params.appId, { graceSeconds: text(form(req).graceSeconds) || 0 });
    await record('app.secret_rotated', actorOf(res), { appId: rotated.appId, detail: { previousSecretExpiresAt: rotated.previousSecretExpiresAt } });
    await done(res, sessions, `/admin/apps/${rotated.appId}`, { notice: 'New AppSecret issued.', appSecret: { ...rotated, rotated: true } });
  });
  for (const [action, status] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    router.post(`/apps/:appId/${action}`, async (req, res) => {
      const app = await apps.setStatus(req.params.appId, status);
      await record('app.status_changed', actorOf(res), { appId: app.appId, detail: { status } });
      await done(res, sessions, `/admin/apps/${app.appId}`, { notice: status === 'active' ? `${app.name} is enabled.` : `${app.name} is disabled.` });
    });
  }
  router.get('/apps/:appId/delete', async (req, res) => {
    send(res, 200, appDeletePage(ctxOf(res), await apps.get(req.params.appId)));
  });
  router.post('/apps/:appId/delete', async (req, res) => {
    const app = await apps.get(req.params.appId);
    const typed = text(form(req).confirmName);
    if (typed.trim() !== app.name) {
      send(res, 400, appDeletePage(ctxOf(res, { error: `Type the app's name exactly ("${app.name}") to delete it.` }), app, typed));
      return;
    }
    const deleted = await apps.delete(app.appId);
    await record('app.deleted', actorOf(res), { appId: app.appId, detail: { name: app.name, authorizations: deleted.authorizations, grants: deleted.grants } });
    await done(res, sessions, '/admin/apps', { notice: `Deleted ${app.name} (${app.appId}).` });
  });
  return router;
}

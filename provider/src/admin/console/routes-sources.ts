import { Router, type Request } from 'express';
import { AppError } from '../../errors.js';
import { actorOf } from '../audit.js';
import { ctxOf, done, send, type ConsoleDeps } from './kit.js';
import { sourceForm, sourcePage, sourcesPage, type SourceForm } from './views-sources.js';

const text = (v: unknown) => (typeof v === 'string' ? v : '');
/** The form, as parsed by express.urlencoded (console/router.ts). */
const bodyOf = (req: Request) => (req.body ?? {}) as Record<string, unknown>;
const words = (v: string) => v.split(/[\s,]+/).filter(Boolean);

function formOf(req: Request): SourceForm {
  const b = bodyOf(req);
  const keys = ['id', 'name', 'issuer', 'audience', 'jwksUrl', 'jwks', 'algorithms', 'clientId', 'clientSecret', 'scopes'] as const;
  return Object.fromEntries(keys.map((k) => [k, text(b[k]).trim()])) as SourceForm;
}

/** The form as the API body (`kind` on creation). Empty optional fields are left out; inline keys are parsed here. */
function apiBody(kind: string, v: SourceForm, creating: boolean): Record<string, unknown> {
  let jwks: unknown;
  if (v.jwks) {
    try {
      jwks = JSON.parse(v.jwks);
    } catch {
      throw new AppError('invalid_request', 400, 'Public keys: not valid JSON (a JWK Set looks like {"keys": [...]}).');
    }
  }
  if (kind === 'assertion') {
    return {
      ...(creating ? { kind, ...(v.id ? { id: v.id } : {}) } : {}),
      name: v.name,
      issuer: v.issuer,
      audience: v.audience,
      jwksUrl: v.jwksUrl || null,
      jwks: jwks ?? null,
      algorithms: words(v.algorithms),
    };
  }
  return {
    ...(creating ? { kind, ...(v.id ? { id: v.id } : {}) } : {}),
    name: v.name,
    issuer: v.issuer,
    clientId: v.clientId,
    ...(v.clientSecret ? { clientSecret: v.clientSecret } : {}),
    ...(v.scopes ? { scopes: words(v.scopes) } : {}),
  };
}

const shownError = (err: unknown) => {
  if (err instanceof AppError && err.status < 500 && err.code !== 'unknown_source') return err.description;
  throw err;
};

/** Sign-in sources: list, add (trusted sign-in or SSO), edit, disable/enable, delete. */
export function consoleSourceRoutes(deps: ConsoleDeps): Router {
  const sources = deps.services.identitySources;
  const { sessions, record } = deps;
  const router = Router();

  router.get('/sources', async (_req, res) => {
    send(res, 200, sourcesPage(ctxOf(res), await sources.list()));
  });
  router.post('/sources', async (req, res) => {
    const kind = text(bodyOf(req).kind) === 'oidc' ? 'oidc' : 'assertion';
    const v = formOf(req);
    try {
      const created = await sources.create(apiBody(kind, v, true));
      await record('identity_source.created', actorOf(res), { detail: { sourceId: created.id, kind: created.kind, issuer: created.issuer } });
      await done(res, sessions, `/admin/sources/${created.id}`, { notice: `Added ${created.name}.` });
    } catch (err) {
      send(res, 400, sourcesPage(ctxOf(res, { error: shownError(err) }), await sources.list(), { kind, values: { ...v, clientSecret: '' } }));
    }
  });
  router.get('/sources/:sourceId', async (req, res) => {
    send(res, 200, sourcePage(ctxOf(res), await sources.show(req.params.sourceId)));
  });
  router.post('/sources/:sourceId', async (req, res) => {
    const current = await sources.show(req.params.sourceId);
    const v = formOf(req);
    try {
      const body = apiBody(current.kind, v, false);
      const updated = await sources.update(current.id, body);
      await record('identity_source.updated', actorOf(res), { detail: { sourceId: current.id, fields: Object.keys(body) } });
      await done(res, sessions, `/admin/sources/${updated.id}`, { notice: 'Saved.' });
    } catch (err) {
      send(res, 400, sourcePage(ctxOf(res, { error: shownError(err) }), current, { ...sourceForm(current), ...v, clientSecret: '' }));
    }
  });
  for (const [action, status] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    router.post(`/sources/:sourceId/${action}`, async (req, res) => {
      const s = await sources.setStatus(req.params.sourceId, status);
      await record('identity_source.status_changed', actorOf(res), { detail: { sourceId: s.id, status } });
      await done(res, sessions, `/admin/sources/${s.id}`, { notice: `${s.name} is ${s.status}.` });
    });
  }
  router.post('/sources/:sourceId/delete', async (req, res) => {
    const current = await sources.show(req.params.sourceId);
    if (text(bodyOf(req).confirm).trim() !== current.id) {
      send(res, 400, sourcePage(ctxOf(res, { error: `Type ${current.id} to confirm the deletion.` }), current));
      return;
    }
    const deleted = await sources.delete(current.id);
    await record('identity_source.deleted', actorOf(res), { detail: { sourceId: deleted.id, links: deleted.links } });
    await done(res, sessions, '/admin/sources', { notice: `Deleted ${deleted.name}; ${deleted.links} link(s) removed.` });
  });
  return router;
}

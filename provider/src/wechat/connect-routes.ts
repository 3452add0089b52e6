import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { ClientDirectory } from '../apps/directory.js';
import { noStore } from '../http/guard.js';
import { errorBody, errorHandler } from '../http/render.js';
import { setFramedPageHeaders } from '../http/security.js';
import type { Logger } from '../log.js';
import type { QrImages } from '../login/images.js';
import type { Logins } from '../login/login.js';
import { longPoll, snapshotJson } from '../login/waiting-http.js';
import type { Embeds } from './embed.js';
import { pageError, pageReasonOf } from './errcodes.js';
import { renderEmbedPage, renderErrorPage } from './pages.js';
import {
  appOriginSources,
  authorizationQuery,
  inAppScopes,
  langOf,
  parentOriginAllowed,
  redirectAllowed,
  scopeAllowed,
  stylesheetAllowed,
  WECHAT_SCOPES,
} from './translate.js';

export interface ConnectDeps {
  clients: ClientDirectory;
  logins: Logins;
  embeds: Embeds;
  images: QrImages;
  issuer: string;
  /** oidc-provider's authorization endpoint path (`provider.pathFor('authorization')`). */
  authorizationPath: string;
  /** Login starts and QR creations per address (http/rate-limit.ts qrCreate). */
  qrCreate: RequestHandler;
  /** Unknown embed tokens per address (http/rate-limit.ts embedTokens). */
  embedTokens: RequestHandler;
  log: Logger;
}

const PUBLIC_WECHAT = new URL('../../public/wechat/', import.meta.url);
const asset = (name: string) => fs.readFileSync(fileURLToPath(new URL(name, PUBLIC_WECHAT)), 'utf8');

/** One value per parameter: a repeated one is a malformed request, not a choice. */
const one = z.string().max(2048).optional();
const qrconnectQuery = z.object({
  appid: one,
  redirect_uri: one,
  response_type: one,
  scope: one,
  state: z.string().max(1024).optional(),
  lang: one,
  login_type: one,
  self_redirect: one,
  style: one,
  href: one,
  parent_origin: one,
});

const requesterOf = (req: Request) => ({ ip: req.ip ?? '', userAgent: req.get('user-agent') ?? '', createdAt: new Date().toISOString() });

/**
 * The WeChat surface of a login (API.md §4), for the browser: /connect/qrconnect (→ the OIDC
 * interaction, or the embedded QR), wxLogin.js, and the embedded QR's own endpoints, which adapt
 * the login core (waiting, completion) to an embed token instead of a cookie.
 */
export function connectRoutes(deps: ConnectDeps): Router {
  const { clients, logins, embeds, images, issuer, authorizationPath, log } = deps;
  const router = Router();
  const security = { issuer };
  const wxLogin = asset('wxLogin.js').replace("'__SAOMA_ISSUER__'", JSON.stringify(issuer));
  const frameScript = asset('frame.js');
  const frameCss = asset('frame.css');

  router.get('/connect/wxLogin.js', (_req, res) => {
    // Loaded by other sites' pages.
    res.set({ 'Cache-Control': 'public, max-age=3600', 'Cross-Origin-Resource-Policy': 'cross-origin' });
    res.type('application/javascript').send(wxLogin);
  });
  router.get('/connect/embed/frame.js', (_req, res) => void res.set('Cache-Control', 'public, max-age=3600').type('application/javascript').send(frameScript));
  router.get('/connect/embed/frame.css', (_req, res) => void res.set('Cache-Control', 'public, max-age=3600').type('text/css').send(frameCss));

  /**
   * Validates like WeChat (appid, then redirect_uri on the callback domain, then scope) and
   * shows an error page for anything wrong, never redirecting to an unverified redirect_uri.
   * `scopesOf(scope)` is the entry point's scope rule (null: WeChat's scope error).
   */
  async function validated(req: Request, scopesOf: (scope: string | undefined) => string[] | null) {
    const parsed = qrconnectQuery.safeParse(req.query);
    if (!parsed.success) throw pageError('invalid_request');
    const q = parsed.data;
    const info = q.appid ? await clients.get(q.appid) : null;
    if (!q.appid || !info) throw pageError('invalid_appid');
    if (!q.redirect_uri || !redirectAllowed(q.redirect_uri, info)) throw pageError('invalid_redirect_uri');
    const scopes = scopesOf(q.scope);
    if (!scopes) throw pageError('invalid_scope');
    // wxLogin.js (WeChat's too) sends no response_type; when present it must be `code`.
    if (q.response_type !== undefined && q.response_type !== 'code') throw pageError('invalid_response_type');
    return { q: { ...q, appid: q.appid, redirect_uri: q.redirect_uri }, info, scopes, lang: langOf(q.lang, req.get('accept-language')), state: q.state ?? '' };
  }

  /** A valid request becomes an oidc-provider authorization request (oidc/extensions.ts: the `wechat` response mode). */
  function toAuthorization(res: Response, v: Awaited<ReturnType<typeof validated>>) {
    res.set('Cache-Control', 'no-store');
    res.redirect(
      302,
      `${authorizationPath}?${authorizationQuery({ appid: v.q.appid, redirectUri: v.q.redirect_uri, state: v.state, lang: v.lang, scopes: v.scopes })}`,
    );
  }

  /**
   * WeChat's in-app authorization (Official Account web pages). There is no WeChat app here to
   * authorize inside, so it is the same QR approval as /connect/qrconnect: Auth.js's and grant's
   * WeChat providers use this path by default and work with only the host changed.
   */
  router.get('/connect/oauth2/authorize', deps.qrCreate, async (req, res) => toAuthorization(res, await validated(req, inAppScopes)));

  /** The website login; for the embedded QR (`login_type=jssdk`) an embed session (embed.ts). */
  router.get('/connect/qrconnect', deps.qrCreate, async (req, res) => {
    const v = await validated(req, (scope) => (scopeAllowed(scope) ? WECHAT_SCOPES : null));
    const { q, info, lang, state } = v;
    if (q.login_type !== 'jssdk') {
      toAuthorization(res, v);
      return;
    }

    const parentOrigin = q.parent_origin && parentOriginAllowed(q.parent_origin, info) ? q.parent_origin : null;
    const css = stylesheetAllowed(q.href, info, req.get('sec-fetch-dest') === 'iframe');
    const { token, session } = await embeds.create(
      { appid: q.appid, redirectUri: q.redirect_uri, state, selfRedirect: q.self_redirect === 'true', parentOrigin },
      requesterOf(req),
    );
    res.set('Cache-Control', 'no-store');
    setFramedPageHeaders(res, security, { ancestors: appOriginSources(info), styleSources: css ? [css.source] : [] });
    const snapshot = logins.snapshot(session);
    res.type('html').send(
      renderEmbedPage({
        lang,
        appName: info.name,
        svg: await images.svgOf(session.qrId),
        payload: images.payloadOf(session.qrId),
        style: q.style === 'white' ? 'white' : 'black',
        cssHref: css?.href ?? null,
        config: { token, qrId: session.qrId, status: snapshot.status, expiresAt: snapshot.expiresAt, selfRedirect: q.self_redirect === 'true', parentOrigin },
      }),
    );
  });

  router.use('/connect/embed/:token', noStore, deps.embedTokens);

  const gone = (res: Response) => res.status(404).json(errorBody(pageError('login_expired')));

  router.get('/connect/embed/:token/qr', deps.qrCreate, async (req, res) => {
    const session = await embeds.currentQr(String(req.params.token));
    if (!session) return void gone(res);
    res.json({ ...snapshotJson(logins.snapshot(session)), payload: images.payloadOf(session.qrId), svg: await images.svgOf(session.qrId) });
  });

  /** Long-poll: the same waiting as the QR page's (login/waiting-http.ts). */
  router.get('/connect/embed/:token/status', async (req, res) => {
    const embed = await embeds.load(req.params.token);
    if (!embed) return void gone(res);
    const snapshot = await longPoll(logins, embed.loginId, req);
    if (!snapshot) return void gone(res);
    res.json(snapshot);
  });

  /** A top-level navigation (or the iframe's own, with self_redirect): mint the code and go. */
  router.get('/connect/embed/:token/complete', async (req, res) => {
    const location = await embeds.complete(req.params.token, { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null });
    res.redirect(302, location);
  });

  // /connect errors are pages (shown in the browser or in the site's iframe), JSON for the iframe's scripts.
  router.use(
    '/connect',
    errorHandler(log, (req, res, e) => {
      if (/^\/embed\/[^/]+\/(qr|status)$/.test(req.path)) return void res.json(errorBody(e));
      // An error page carries no capability: any site may see it in its iframe.
      setFramedPageHeaders(res, security, { ancestors: ['*'] });
      const lang = langOf(typeof req.query.lang === 'string' ? req.query.lang : undefined, req.get('accept-language'));
      res.type('html').send(renderErrorPage(pageReasonOf(e), lang));
    }),
  );
  return router;
}

import { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { createQrImages } from '../login/images.js';
import { z } from 'zod';
import { toAppError } from '../http/errors.js';
import { noStore } from '../http/guard.js';
import type { Logger } from '../log.js';
import type { ClientDirectory } from '../apps/directory.js';
import type { Requester } from '../login/machine.js';
import { qrChannel, type QrService, type QrSnapshot } from '../login/store.js';
import type { EphemeralStore } from '../storage/ephemeral.js';
import type { Embeds } from './embed.js';
import { PAGE_ERRORS, WechatPageError } from './errcodes.js';
import { FRAME_CSS, renderEmbedPage, renderErrorPage } from './pages.js';
import { authorizationQuery, inAppScope, langOf, OIDC_SCOPE, parentOriginAllowed, redirectAllowed, scopeAllowed } from './translate.js';
import { FRAME_SCRIPT, wxLoginScript } from './wxlogin-js.js';

export interface ConnectDeps {
  clients: ClientDirectory;
  qr: QrService;
  store: EphemeralStore;
  embeds: Embeds;
  issuer: string;
  /** oidc-provider's authorization endpoint path (`provider.pathFor('authorization')`). */
  authorizationPath: string;
  log: Logger;
}

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
type QrconnectQuery = z.infer<typeof qrconnectQuery>;

const statusQuery = z.object({
  last: z.enum(['pending', 'scanned', 'confirmed', 'denied', 'expired']).optional(),
  wait: z.coerce.number().min(0).max(30).default(25),
});

/** WeChat's `href`: the site's stylesheet for the QR box. https (http on loopback) or a data: URL. */
function vetStylesheet(href: string | undefined): { href: string; source: string } | null {
  if (!href) return null;
  if (/^data:text\/css[;,]/i.test(href)) return { href, source: 'data:' };
  try {
    const url = new URL(href);
    const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
    if (url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) return { href: url.href, source: url.origin };
  } catch {
    /* not a URL: ignored, like a bad href at WeChat */
  }
  return null;
}

/** Pages that live in the site's iframe: embeddable anywhere (see wxlogin-js.ts), tightly scoped. */
function frameHeaders(res: Response, styleSource = ''): void {
  res.removeHeader('X-Frame-Options');
  res.set({
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'Content-Security-Policy': `default-src 'none'; script-src 'self'; style-src 'self' ${styleSource}; img-src 'self' data: https:; connect-src 'self'; frame-ancestors *; base-uri 'none'; form-action 'none'`,
  });
}

const requesterOf = (req: Request): Requester => ({ ip: req.ip ?? '', userAgent: req.get('user-agent') ?? '', createdAt: new Date().toISOString() });

/** The browser side of the facade: /connect/qrconnect, wxLogin.js and the embedded QR's endpoints. */
export function connectRoutes(deps: ConnectDeps): Router {
  const { clients, qr, store, embeds, issuer, authorizationPath, log } = deps;
  const router = Router();
  const { payloadOf, svgOf } = createQrImages(issuer, store);
  const json = (s: QrSnapshot) => ({ ...s, expiresAt: new Date(s.expiresAt).toISOString() });

  router.get('/connect/wxLogin.js', (_req, res) => {
    // Loaded by other sites' pages: say so, in case a global CORP header is ever added.
    res.set({ 'Cache-Control': 'public, max-age=3600', 'Cross-Origin-Resource-Policy': 'cross-origin' });
    res.type('application/javascript').send(wxLoginScript(issuer));
  });
  router.get('/connect/embed/frame.js', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=3600').type('application/javascript').send(FRAME_SCRIPT);
  });
  router.get('/connect/embed/frame.css', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=3600').type('text/css').send(FRAME_CSS);
  });

  /**
   * Validates like WeChat (appid, then redirect_uri on the callback domain, then scope) and
   * shows an error page for anything wrong, never redirecting to an unverified redirect_uri.
   * Returns the request and the OIDC scope it stands for: `oidcScope(scope)` is the entry
   * point's scope rule (null: WeChat's scope error).
   */
  async function validated(req: Request, oidcScope: (scope: string | undefined) => string | null) {
    const parsed = qrconnectQuery.safeParse(req.query);
    if (!parsed.success) throw new WechatPageError('invalid_request');
    const q: QrconnectQuery = parsed.data;
    const info = q.appid ? await clients.get(q.appid) : null;
    if (!q.appid || !info) throw new WechatPageError('invalid_appid');
    if (!q.redirect_uri || !redirectAllowed(q.redirect_uri, info)) throw new WechatPageError('invalid_redirect_uri');
    const scope = oidcScope(q.scope);
    if (!scope) throw new WechatPageError('invalid_scope');
    // wxLogin.js (WeChat's too) sends no response_type; when present it must be `code`.
    if (q.response_type !== undefined && q.response_type !== 'code') throw new WechatPageError('invalid_response_type');
    return { q: q as QrconnectQuery & { appid: string; redirect_uri: string }, info, scope, lang: langOf(q.lang, req.get('accept-language')), state: q.state ?? '' };
  }

  /** A valid request becomes an oidc-provider authorization request (hooks.ts: the `wechat` response mode). */
  function toAuthorization(res: Response, v: Awaited<ReturnType<typeof validated>>) {
    res.set('Cache-Control', 'no-store');
    res.redirect(302, `${authorizationPath}?${authorizationQuery({ appid: v.q.appid, redirectUri: v.q.redirect_uri, state: v.state, lang: v.lang, scope: v.scope })}`);
  }

  /**
   * WeChat's in-app authorization (Official Account web pages). There is no WeChat app here
   * to authorize inside, so it is the same QR approval as /connect/qrconnect: Auth.js's and
   * grant's WeChat providers use this path by default and work with only the host changed.
   */
  router.get('/connect/oauth2/authorize', async (req, res) => toAuthorization(res, await validated(req, inAppScope)));

  /** The website login; for the embedded QR (`login_type=jssdk`) an embed session (embed.ts). */
  router.get('/connect/qrconnect', async (req, res) => {
    const v = await validated(req, (scope) => (scopeAllowed(scope) ? OIDC_SCOPE : null));
    const { q, info, lang, state } = v;
    if (q.login_type !== 'jssdk') return toAuthorization(res, v);

    const parentOrigin = q.parent_origin && parentOriginAllowed(q.parent_origin, info) ? q.parent_origin : null;
    const { token, session } = await embeds.create(
      { appid: q.appid, redirectUri: q.redirect_uri, state, selfRedirect: q.self_redirect === 'true', parentOrigin },
      requesterOf(req),
    );
    const css = vetStylesheet(q.href);
    frameHeaders(res, css?.source);
    const snapshot = qr.snapshot(session);
    res.type('html').send(
      renderEmbedPage({
        lang,
        appName: info.name,
        svg: await svgOf(session.qrId),
        payload: payloadOf(session.qrId),
        style: q.style === 'white' ? 'white' : 'black',
        cssHref: css?.href ?? null,
        config: { token, qrId: session.qrId, status: snapshot.status, expiresAt: snapshot.expiresAt, selfRedirect: q.self_redirect === 'true', parentOrigin },
      }),
    );
  });

  router.use('/connect/embed/:token', noStore);

  const gone = (res: Response) => res.status(404).json({ error: 'login_expired', error_description: PAGE_ERRORS.login_expired.en });

  router.get('/connect/embed/:token/qr', async (req, res) => {
    const session = await embeds.currentQr(req.params.token, requesterOf(req));
    if (!session) return void gone(res);
    res.json({ ...json(qr.snapshot(session)), payload: payloadOf(session.qrId), svg: await svgOf(session.qrId) });
  });

  /** Long-poll: at once if the status differs from `last`, else when it changes or `wait` runs out. */
  router.get('/connect/embed/:token/status', async (req, res) => {
    const parsed = statusQuery.safeParse(req.query);
    const embed = await embeds.load(req.params.token);
    if (!embed) return void gone(res);
    const { last, wait } = parsed.success ? parsed.data : { last: undefined, wait: 0 };
    let wake: () => void = () => {};
    const changed = new Promise<void>((resolve) => (wake = resolve));
    // Subscribe before reading, so a change between the two is never lost.
    const unsubscribe = await store.subscribe(qrChannel(embed.uid), () => wake());
    try {
      const session = await qr.ofInteraction(embed.uid);
      if (!session) return void gone(res);
      const now = qr.snapshot(session);
      if (now.status === last && wait > 0) {
        const until = Math.min(wait * 1000, Math.max(0, now.expiresAt - qr.now()) + 50);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([changed, new Promise<void>((r) => (timer = setTimeout(r, until))), new Promise<void>((r) => req.once('close', r))]);
        clearTimeout(timer);
      }
      const after = await qr.ofInteraction(embed.uid);
      res.json(json(qr.snapshot(after ?? session)));
    } finally {
      await unsubscribe().catch(() => {});
    }
  });

  /** A top-level navigation (or the iframe's own, with self_redirect): mint the code and go. */
  router.get('/connect/embed/:token/complete', async (req, res) => {
    const location = await embeds.complete(req.params.token, { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null });
    res.redirect(302, location);
  });

  router.use('/connect', connectErrorHandler(log));
  return router;
}

/** /connect errors are pages (they are shown in the browser or in the site's iframe). */
function connectErrorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const known = err instanceof WechatPageError;
    if (!known) log.error({ err, path: req.path }, 'wechat connect failed');
    if (res.headersSent) return void res.end();
    const reason = known ? err.reason : 'authorization_failed';
    frameHeaders(res);
    const lang = langOf(typeof req.query.lang === 'string' ? req.query.lang : undefined, req.get('accept-language'));
    res.status(known ? PAGE_ERRORS[reason].status : toAppError(err).status).type('html').send(renderErrorPage(reason, lang));
  };
}

import { Router, type Request, type RequestHandler, type Response } from 'express';
import { noStore } from '../http/guard.js';
import type { Logger } from '../log.js';
import { snsError, snsErrorHandler, type SnsErrorName } from './errcodes.js';
import type { WechatTokens } from './tokens.js';

/**
 * WeChat's server-to-server API (API.md §4): /sns/oauth2/access_token, /sns/oauth2/refresh_token,
 * /sns/auth, /sns/userinfo. GET with query parameters, JSON answers, and every failure is HTTP
 * 200 `{errcode, errmsg}` (errcodes.ts) — including unknown paths, other methods and our own
 * faults, so a WeChat client library never sees a 500 or an HTML page here.
 */
const MAX_PARAM = 2048;

/**
 * A required query parameter. Missing or empty → that parameter's "missing" code, as WeChat
 * answers; repeated or oversized → 40097 invalid args.
 */
function required(req: Request, name: string, missing: SnsErrorName): string {
  const value = req.query[name];
  if (value === undefined || value === '') throw snsError(missing);
  if (typeof value !== 'string' || value.length > MAX_PARAM) throw snsError('invalid_args');
  return value;
}

function grantType(req: Request, expected: string): void {
  if (req.query.grant_type !== expected) throw snsError('invalid_grant_type');
}

export interface SnsDeps {
  tokens: WechatTokens;
  /** Failed calls per address (http/rate-limit.ts wechatFailures). */
  failures: RequestHandler;
  /** Spends a site's quota once a call proved it is that site's (http/rate-limit.ts wechatQuota). */
  quota: (appId: string) => Promise<void>;
  log: Logger;
}

export function snsRoutes(deps: SnsDeps): Router {
  const { tokens, log } = deps;
  const router = Router();
  /** Once a call proved whose it is: the site's quota is spent, and its failures are no stranger's. */
  const authenticated = (res: Response) => async (appId: string) => {
    res.locals.wechatAuthenticated = true;
    await deps.quota(appId);
  };
  router.use('/sns', noStore, deps.failures, (req, _res, next) => next(req.method === 'GET' || req.method === 'HEAD' ? undefined : snsError('require_get')));

  router.get('/sns/oauth2/access_token', async (req, res) => {
    const appid = required(req, 'appid', 'appid_missing');
    const secret = required(req, 'secret', 'appsecret_missing');
    const code = required(req, 'code', 'code_missing');
    grantType(req, 'authorization_code');
    res.json(await tokens.exchangeCode({ appid, secret, code }, authenticated(res)));
  });

  router.get('/sns/oauth2/refresh_token', async (req, res) => {
    const appid = required(req, 'appid', 'appid_missing');
    grantType(req, 'refresh_token');
    const refreshToken = required(req, 'refresh_token', 'refresh_token_missing');
    res.json(await tokens.refresh({ appid, refreshToken }, authenticated(res)));
  });

  router.get('/sns/auth', async (req, res) => {
    const accessToken = required(req, 'access_token', 'access_token_missing');
    const openid = required(req, 'openid', 'openid_missing');
    await tokens.access({ accessToken, openid }, authenticated(res));
    res.json({ errcode: 0, errmsg: 'ok' });
  });

  // `lang` (zh_CN, zh_TW, en) only localises region names in WeChat; Saoma keeps none.
  router.get('/sns/userinfo', async (req, res) => {
    const accessToken = required(req, 'access_token', 'access_token_missing');
    const openid = required(req, 'openid', 'openid_missing');
    res.json(tokens.profile(await tokens.access({ accessToken, openid }, authenticated(res))));
  });

  router.use('/sns', (_req, _res, next) => next(snsError('invalid_url')));
  router.use('/sns', snsErrorHandler(log));
  return router;
}

import express, { Router, type RequestHandler, type Response } from 'express';
import { noStore } from '../http/guard.js';
import type { Logger } from '../log.js';
import { snsError, snsErrorHandler, type SnsErrorName } from './errcodes.js';
import { collectSnsParams, type SnsParams } from './sns-params.js';
import type { WechatTokens } from './tokens.js';

/**
 * WeChat's server-to-server API (API.md §4): /sns/oauth2/access_token, /sns/oauth2/refresh_token,
 * /sns/auth, /sns/userinfo. GET with query parameters or POST with a form body (and the AppID
 * and AppSecret also in HTTP Basic: sns-params.ts), JSON answers, and every failure is HTTP 200
 * `{errcode, errmsg}` (errcodes.ts) — including unknown paths, other methods and our own
 * faults, so a WeChat client library never sees a 500 or an HTML page here.
 */
const params = (res: Response): SnsParams => res.locals.sns as SnsParams;

/** A required parameter. Missing or empty → that parameter's "missing" code, as WeChat answers. */
function required(res: Response, name: string, missing: SnsErrorName): string {
  const value = params(res).get(name);
  if (value === undefined) throw snsError(missing);
  return value;
}

function grantType(res: Response, expected: string): void {
  if (params(res).get('grant_type') !== expected) throw snsError('invalid_grant_type');
}

const METHODS = new Set(['GET', 'HEAD', 'POST']);
/** A form body; anything the parser refuses (too large, bad charset) is WeChat's 40097. */
const formBody: RequestHandler = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 50 });
const parseForm: RequestHandler = (req, res, next) => formBody(req, res, (err?: unknown) => next(err ? snsError('invalid_args') : undefined));

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
  router.use(
    '/sns',
    noStore,
    deps.failures,
    (req, _res, next) => next(METHODS.has(req.method) ? undefined : snsError('require_get')),
    parseForm,
    (req, res, next) => {
      res.locals.sns = collectSnsParams({ query: req.query, body: req.body, authorization: req.get('authorization') });
      next();
    },
  );

  router.all('/sns/oauth2/access_token', async (_req, res) => {
    const appid = required(res, 'appid', 'appid_missing');
    const secret = required(res, 'secret', 'appsecret_missing');
    const code = required(res, 'code', 'code_missing');
    grantType(res, 'authorization_code');
    res.json(await tokens.exchangeCode({ appid, secret, code }, authenticated(res)));
  });

  router.all('/sns/oauth2/refresh_token', async (_req, res) => {
    const appid = required(res, 'appid', 'appid_missing');
    grantType(res, 'refresh_token');
    const refreshToken = required(res, 'refresh_token', 'refresh_token_missing');
    res.json(await tokens.refresh({ appid, refreshToken }, authenticated(res)));
  });

  router.all('/sns/auth', async (_req, res) => {
    const accessToken = required(res, 'access_token', 'access_token_missing');
    const openid = required(res, 'openid', 'openid_missing');
    await tokens.access({ accessToken, openid }, authenticated(res));
    res.json({ errcode: 0, errmsg: 'ok' });
  });

  // `lang` (zh_CN, zh_TW, en) only localises region names in WeChat; Saoma keeps none.
  router.all('/sns/userinfo', async (_req, res) => {
    const accessToken = required(res, 'access_token', 'access_token_missing');
    const openid = required(res, 'openid', 'openid_missing');
    res.json(tokens.profile(await tokens.access({ accessToken, openid }, authenticated(res))));
  });

  router.use('/sns', (_req, _res, next) => next(snsError('invalid_url')));
  router.use('/sns', snsErrorHandler(log));
  return router;
}

import type { ErrorRequestHandler } from 'express';
import { RateLimited } from '../http/rate-limit.js';
import type { Logger } from '../log.js';

/**
 * The WeChat facade's closed list of errors, with WeChat's own codes and `errmsg` texts
 * (Open Platform global return codes), so a site's existing error handling keeps working.
 * Every failure on /sns/* is `{errcode, errmsg}` with HTTP 200, as WeChat answers.
 */
const SNS = {
  system_error: [-1, 'system error'],
  invalid_credential: [40001, 'invalid credential, access_token is invalid or not latest'],
  invalid_grant_type: [40002, 'invalid grant_type'],
  invalid_openid: [40003, 'invalid openid'],
  invalid_appid: [40013, 'invalid appid'],
  invalid_access_token: [40014, 'invalid access_token'],
  invalid_code: [40029, 'invalid code'],
  invalid_refresh_token: [40030, 'invalid refresh_token'],
  invalid_url: [40066, 'invalid url'],
  invalid_args: [40097, 'invalid args'],
  invalid_appsecret: [40125, 'invalid appsecret'],
  code_been_used: [40163, 'code been used'],
  access_token_missing: [41001, 'access_token missing'],
  appid_missing: [41002, 'appid missing'],
  refresh_token_missing: [41003, 'refresh_token missing'],
  appsecret_missing: [41004, 'appsecret missing'],
  code_missing: [41008, 'missing code'],
  openid_missing: [41009, 'missing openid'],
  access_token_expired: [42001, 'access_token expired'],
  refresh_token_expired: [42002, 'refresh_token expired'],
  code_expired: [42003, 'code expired'],
  require_get: [43001, 'require GET method'],
  rate_limited: [45011, 'api minute-quota reach limit  mustslower  retry next minute'],
  api_unauthorized: [48001, 'api unauthorized'],
} as const satisfies Record<string, readonly [number, string]>;

export type SnsErrorName = keyof typeof SNS;

export class WechatError extends Error {
  readonly errcode: number;
  readonly errmsg: string;
  constructor(readonly reason: SnsErrorName) {
    const [errcode, errmsg] = SNS[reason];
    super(errmsg);
    this.name = 'WechatError';
    this.errcode = errcode;
    this.errmsg = errmsg;
  }
}

export const snsError = (reason: SnsErrorName) => new WechatError(reason);

/**
 * Renders anything thrown below /sns as WeChat does: HTTP 200 and `{errcode, errmsg}`. An
 * unexpected error (a store down, a bug) becomes -1 "system error", never a 500 or a page.
 */
export function snsErrorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    // Too many wrong AppSecrets (http/rate-limit.ts verifyClientSecret): WeChat's quota answer.
    const limited = err instanceof RateLimited;
    const e = err instanceof WechatError ? err : snsError(limited ? 'rate_limited' : 'system_error');
    if (!(err instanceof WechatError) && !limited) log.error({ err, path: req.path }, 'wechat api failed');
    if (res.headersSent) return void res.end();
    if (limited) res.set('Retry-After', String(err.retryAfter));
    res.status(200).set('Cache-Control', 'no-store').json({ errcode: e.errcode, errmsg: e.errmsg });
  };
}

/**
 * Errors of the browser-facing /connect pages. WeChat shows "该链接无法访问" with the reason;
 * so do we, in Chinese or English, and never redirect to an unverified redirect_uri.
 */
export const PAGE_ERRORS = {
  invalid_appid: { status: 400, zh: 'AppID 参数错误', en: 'Invalid AppID: no active app has this AppID.' },
  invalid_redirect_uri: {
    status: 400,
    zh: 'redirect_uri 参数错误：回调地址不在该应用的授权回调域内',
    en: "Invalid redirect_uri: it is not on the app's authorization callback domain.",
  },
  invalid_scope: {
    status: 400,
    zh: 'Scope 参数错误或没有 Scope 权限（/connect/qrconnect 用 snsapi_login，/connect/oauth2/authorize 用 snsapi_userinfo 或 snsapi_base）',
    en: 'Invalid scope, or the app has no permission for it (use snsapi_login at /connect/qrconnect, snsapi_userinfo or snsapi_base at /connect/oauth2/authorize).',
  },
  invalid_response_type: { status: 400, zh: 'response_type 参数错误', en: 'Invalid response_type (use code).' },
  invalid_request: { status: 400, zh: '请求参数错误', en: 'The request is malformed.' },
  login_expired: { status: 410, zh: '本次登录已失效，请刷新页面后重新扫码', en: 'This login has expired. Reload the page and scan again.' },
  not_decided: { status: 409, zh: '请先在手机上确认登录', en: 'Confirm the login on your phone first.' },
  authorization_failed: { status: 400, zh: '授权失败，请返回原网站重试', en: 'The authorization failed. Go back to the site and try again.' },
} as const satisfies Record<string, { status: number; zh: string; en: string }>;

export type PageErrorName = keyof typeof PAGE_ERRORS;

export class WechatPageError extends Error {
  constructor(readonly reason: PageErrorName) {
    super(PAGE_ERRORS[reason].en);
    this.name = 'WechatPageError';
  }
}

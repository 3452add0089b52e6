import type { Request } from 'express';
import { AppError, defineErrors } from '../errors.js';
import { currentRequestId, type Logger } from '../log.js';
import { errorHandler } from '../http/render.js';

/**
 * The WeChat facade's closed lists of errors and how the WeChat surface renders an AppError.
 *
 * /sns/*: WeChat's own codes and `errmsg` texts (Open Platform global return codes), so a site's
 * existing error handling keeps working. Every failure is `{errcode, errmsg}` with HTTP 200, as
 * WeChat answers; a rate limit is 45011, anything unexpected -1 "system error".
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

/** An /sns failure: the code is the reason's name, the description WeChat's errmsg. */
export const snsError = defineErrors(
  Object.fromEntries(Object.entries(SNS).map(([name, [errcode, errmsg]]) => [name, [errcode < 0 ? 500 : 400, errmsg] as const])) as {
    [K in SnsErrorName]: readonly [number, (typeof SNS)[K][1]];
  },
);

/**
 * WeChat's `{errcode, errmsg}` for any AppError: ours by name, a limit as 45011, else -1. The
 * request id ends the errmsg as WeChat ends its own (`invalid code, rid: …`): sites already log
 * errmsg, and no library reads a field WeChat does not send.
 */
function wechatBody(e: AppError): { errcode: number; errmsg: string } {
  const name: SnsErrorName = Object.hasOwn(SNS, e.code) ? (e.code as SnsErrorName) : e.status === 429 ? 'rate_limited' : 'system_error';
  const [errcode, errmsg] = SNS[name];
  const requestId = currentRequestId();
  return { errcode, errmsg: requestId ? `${errmsg}, rid: ${requestId}` : errmsg };
}

/** Renders anything thrown below /sns as WeChat does: HTTP 200 `{errcode, errmsg}`, never a 500 or a page. */
export const snsErrorHandler = (log: Logger) =>
  errorHandler(log, (req: Request, res, e) => {
    const body = wechatBody(e);
    // A call that never proved whose it is counts against its address (http/rate-limit.ts
    // wechatFailures); a limit, our own faults and a site's own failed calls do not.
    if (!res.locals.wechatAuthenticated && body.errcode !== -1 && body.errcode !== 45011) res.locals.wechatFailed = true;
    res.status(200).json(body);
  });

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
  rate_limited: { status: 429, zh: '请求过于频繁，请稍后再试', en: 'Too many requests; try again later.' },
  temporarily_unavailable: { status: 503, zh: '服务暂时不可用，请稍后再试', en: 'The service is briefly unavailable; try again shortly.' },
} as const satisfies Record<string, { status: number; zh: string; en: string }>;

export type PageErrorName = keyof typeof PAGE_ERRORS;

/** A /connect page failure (the page text comes from PAGE_ERRORS in the page's language). */
export const pageError = defineErrors(
  Object.fromEntries(Object.entries(PAGE_ERRORS).map(([name, p]) => [name, [p.status, p.en] as const])) as {
    [K in PageErrorName]: readonly [number, string];
  },
);

/** The page reason to show for any AppError: ours by name, else "the authorization failed". */
export const pageReasonOf = (e: AppError): PageErrorName => (e.code in PAGE_ERRORS ? (e.code as PageErrorName) : 'authorization_failed');

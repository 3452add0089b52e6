import type { ErrorRequestHandler } from 'express';
import type Provider from 'oidc-provider';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { escapeHtml, layout } from './html.js';

/** Maps what can go wrong below our JSON APIs to the documented `{error, error_description}`. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { type?: string; status?: number; statusCode?: number; code?: string; name?: string; message?: string };
  // body-parser's own errors: malformed JSON, too large, wrong charset.
  if (e?.type === 'entity.parse.failed') return new AppError('invalid_request', 400, 'The request body is not valid JSON.');
  if (e?.type === 'entity.too.large') return new AppError('invalid_request', 413, 'The request body is too large.');
  if (e?.type && (e.status ?? e.statusCode) && (e.status ?? e.statusCode)! < 500) {
    return new AppError('invalid_request', (e.status ?? e.statusCode)!, e.message ?? 'Bad request.');
  }
  // The router's own 4xx (e.g. a path parameter that is not valid percent-encoding: URIError, 400).
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError('invalid_request', status, e instanceof URIError ? 'The request path is not valid percent-encoding.' : 'Bad request.');
  }
  if (isUnavailable(e)) return new AppError('temporarily_unavailable', 503, 'A backing service is unavailable; try again shortly.', { 'Retry-After': '5' });
  return new AppError('server_error', 500, 'Something went wrong on our side.');
}

/** Redis down, PostgreSQL down: retryable, and said so. */
function isUnavailable(e: { code?: string; name?: string; message?: string }): boolean {
  const text = `${e?.code ?? ''} ${e?.name ?? ''} ${e?.message ?? ''}`;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|MaxRetriesPerRequest|Connection is closed|Stream isn't writeable|P1001|P1017|P2024|DatabaseNotReachable|Can't reach database server|terminating connection|Connection terminated|server closed the connection|Command timed out|None of startup nodes|All sentinels are unreachable|CLUSTERDOWN|TRYAGAIN/i.test(text);
}

/** Query parameters whose values may appear in logs; every other value (secret, code, token...) is masked. */
const SHOWN_PARAMS = new Set(['appid', 'client_id', 'grant_type', 'response_type', 'scope', 'redirect_uri', 'lang', 'last', 'wait', 'prompt', 'ui_locales']);

/** A request URL fit for a log line: WeChat-style APIs carry secrets and codes in the query. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const [name] of params) if (!SHOWN_PARAMS.has(name.toLowerCase())) params.set(name, '[redacted]');
  return `${url.slice(0, q)}?${params.toString().replace(/%5Bredacted%5D/g, '[redacted]')}`;
}

export function jsonErrorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appError = toAppError(err);
    if (appError.status >= 500) log.error({ err, method: req.method, url: redactUrl(req.originalUrl) }, 'request failed');
    if (res.headersSent) return void res.end();
    res.status(appError.status).set(appError.headers).set('Cache-Control', 'no-store').json(appError.toJSON());
  };
}

/**
 * The last handler of the app: whatever no surface handled (e.g. a malformed path parameter on
 * a page route) gets the documented shape for what the client accepts, never Express's default
 * page (which prints the stack trace outside production).
 */
export function finalErrorHandler(log: Logger): ErrorRequestHandler {
  const json = jsonErrorHandler(log);
  return (err, req, res, next) => {
    if (req.accepts(['json', 'html']) !== 'html') return json(err, req, res, next);
    const appError = toAppError(err);
    if (appError.status >= 500) log.error({ err, method: req.method, url: redactUrl(req.originalUrl) }, 'request failed');
    if (res.headersSent) return void res.end();
    res.status(appError.status).set(appError.headers).set('Cache-Control', 'no-store').type('html').send(errorPage(appError));
  };
}

/** A minimal error page in the shared layout (the QR page and oidc-provider have their own). */
export function errorPage(appError: AppError): string {
  const title = 'Error · 出错了';
  return layout(title, `<main class="card error"><h1>Error · <span lang="zh-CN">出错了</span></h1><p class="code">${escapeHtml(appError.code)}</p><p>${escapeHtml(appError.description)}</p></main>`);
}

/**
 * oidc-provider turns every exception into 500 server_error. When the cause is a backing
 * service that does not answer (PostgreSQL, Redis), say so instead: 503
 * `{error: "temporarily_unavailable"}` with Retry-After, so sites and their libraries retry.
 * Redirects to a site (authorization errors) are left as they are.
 */
export function serveOutagesAs503(provider: Provider): void {
  const outages = new WeakSet<object>();
  provider.on('server_error', (ctx: object, err: unknown) => {
    if (toAppError(err).status === 503) outages.add(ctx);
  });
  provider.use(async (ctx, next) => {
    await next();
    if (!outages.has(ctx) || ctx.status < 500) return;
    const appError = toAppError(Object.assign(new Error('unavailable'), { code: 'ECONNREFUSED' }));
    ctx.status = 503;
    ctx.set({ ...appError.headers, 'Cache-Control': 'no-store' });
    if (ctx.accepts('json', 'html') === 'html') {
      ctx.type = 'html';
      ctx.body = errorPage(appError);
    } else {
      ctx.body = appError.toJSON();
    }
  });
}

import type { ErrorRequestHandler, Request, Response } from 'express';
import { AppError, commonError, unavailable } from '../errors.js';
import { currentRequestId, type Logger } from '../log.js';
import { errorCard, layout, plainText } from './html.js';
import { isOutage } from './outage.js';

/**
 * Where errors become HTTP: once per surface. `toAppError` turns whatever was thrown into an
 * AppError (ours as they are; the framework's 4xx; outages as 503; anything else 500), and
 * `errorHandler(log, render)` is the one handler every surface mounts with its renderer:
 * `renderJson` (phone, admin and QR JSON APIs), `renderPage` (a page) or `pageOrJson` (a page
 * for people, JSON for scripts). The WeChat errcode and OAuth renderers adapt the same AppError
 * (wechat/errcodes.ts, oidc/oauth-errors.ts).
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { type?: string; status?: number; statusCode?: number; message?: string } | undefined;
  // body-parser's own errors: malformed JSON, too large, wrong charset.
  if (e?.type === 'entity.parse.failed') return commonError('invalid_request', 'The request body is not valid JSON.');
  if (e?.type === 'entity.too.large') return new AppError('invalid_request', 413, 'The request body is too large.');
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (e?.type) return new AppError('invalid_request', status, e.message ?? 'Bad request.');
    // The router's own 4xx (e.g. a path parameter that is not valid percent-encoding: URIError, 400).
    return new AppError('invalid_request', status, err instanceof URIError ? 'The request path is not valid percent-encoding.' : 'Bad request.');
  }
  // The cause stays attached: metrics (metrics/http.ts) count the outage by the service it names.
  if (isOutage(err)) return Object.assign(unavailable(), { cause: err });
  return commonError('server_error');
}

/** Query parameters whose values may appear in logs; every other value (secret, code, token...) is masked. */
const SHOWN_PARAMS = new Set(['appid', 'client_id', 'grant_type', 'response_type', 'scope', 'redirect_uri', 'lang', 'last', 'wait', 'prompt', 'ui_locales']);

/** A request URL fit for a log line: WeChat-style APIs carry secrets and codes in the query. */
function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const [name] of params) if (!SHOWN_PARAMS.has(name.toLowerCase())) params.set(name, '[redacted]');
  return `${url.slice(0, q)}?${params.toString().replace(/%5Bredacted%5D/g, '[redacted]')}`;
}

export type Render = (req: Request, res: Response, e: AppError) => void;

/**
 * The error handler of a surface: logs what is ours to fix (5xx), never writes twice, sends the
 * error's own headers (Retry-After, WWW-Authenticate) and `no-store`, then renders.
 */
export function errorHandler(log: Logger, render: Render): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e = toAppError(err);
    res.locals.thrown = err as unknown; // for whoever observes the response (metrics/http.ts counts outages)
    if (e.status >= 500) log.error({ err, method: req.method, url: redactUrl(req.originalUrl) }, 'request failed');
    if (res.headersSent) return void res.end();
    res.status(e.status).set(e.headers).set('Cache-Control', 'no-store');
    render(req, res, e);
  };
}

/**
 * An error as our JSON APIs answer it: `{error, error_description}`, plus `request_id` while a
 * request is served (log.ts), so the person reporting it can quote the id its log lines carry.
 */
export function errorBody(e: AppError, body: Record<string, unknown> = e.toJSON()): Record<string, unknown> {
  const requestId = currentRequestId();
  return requestId ? { ...body, request_id: requestId } : body;
}

export const renderJson: Render = (_req, res, e) => void res.json(errorBody(e));

/** A page: `page(e, req)` is the whole HTML document. */
export const renderPage =
  (page: (e: AppError, req: Request) => string): Render =>
  (req, res, e) =>
    void res.type('html').send(page(e, req));

/** People get the page, scripts (which ask for JSON, or call `jsonPaths`) get the JSON shape. */
export const pageOrJson =
  (page: (e: AppError, req: Request) => string, jsonPath?: RegExp): Render =>
  (req, res, e) =>
    req.accepts(['json', 'html']) !== 'html' || jsonPath?.test(req.path) ? renderJson(req, res, e) : renderPage(page)(req, res, e);

/** The plain error page (errors no surface has its own page for). */
const ERROR_TITLE = ['Error', '出错了'] as const;
export const plainErrorPage = (e: AppError) => layout(plainText(ERROR_TITLE), errorCard(e, { title: ERROR_TITLE }));

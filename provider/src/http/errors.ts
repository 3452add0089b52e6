import type { ErrorRequestHandler } from 'express';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';

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
  if (isUnavailable(e)) return new AppError('temporarily_unavailable', 503, 'A backing service is unavailable; try again shortly.', { 'Retry-After': '5' });
  return new AppError('server_error', 500, 'Something went wrong on our side.');
}

/** Redis down, PostgreSQL down: retryable, and said so. */
function isUnavailable(e: { code?: string; name?: string; message?: string }): boolean {
  const text = `${e?.code ?? ''} ${e?.name ?? ''} ${e?.message ?? ''}`;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|MaxRetriesPerRequest|Connection is closed|Stream isn't writeable|P1001|P1017|P2024|DatabaseNotReachable|terminating connection/i.test(text);
}

export function jsonErrorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appError = toAppError(err);
    if (appError.status >= 500) log.error({ err, method: req.method, url: req.originalUrl }, 'request failed');
    if (res.headersSent) return void res.end();
    res.status(appError.status).set(appError.headers).set('Cache-Control', 'no-store').json(appError.toJSON());
  };
}

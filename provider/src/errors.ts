/**
 * One error type for our own surfaces. Routes throw `AppError`; each surface renders it once
 * (phone/admin JSON here, OAuth errors by oidc-provider, WeChat errcodes in wechat/).
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
    this.name = 'AppError';
  }

  toJSON() {
    return { error: this.code, error_description: this.description };
  }
}

export const badRequest = (description: string, code = 'invalid_request') => new AppError(code, 400, description);
export const unauthorized = (description = 'A valid bearer token is required') =>
  new AppError('invalid_token', 401, description, { 'WWW-Authenticate': 'Bearer' });
export const notFound = (description = 'Not found') => new AppError('not_found', 404, description);

/** Thrown when a backing service (Redis, PostgreSQL) does not answer: 503, retryable. */
export const unavailable = (description = 'A backing service is unavailable; try again shortly') =>
  new AppError('temporarily_unavailable', 503, description, { 'Retry-After': '5' });

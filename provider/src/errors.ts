/**
 * One error type for every surface. A capability declares its closed list of codes once
 * (`defineErrors`, e.g. login/error-codes.ts) and throws `AppError`s from it; each surface
 * renders them once (http/render.ts: JSON API, HTML page, OAuth; wechat/errcodes.ts: errcode).
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

/** A capability's closed list: code → [HTTP status, the text people read]. */
export type ErrorList = Record<string, readonly [status: number, description: string]>;

/**
 * The factory for one list: `loginError('qr_expired')`, or with a more specific text. Only the
 * listed codes type-check, so a capability cannot invent a code on the spot.
 */
export function defineErrors<const L extends ErrorList>(list: L) {
  const make = (code: keyof L & string, description?: string, headers?: Record<string, string>) =>
    new AppError(code, list[code][0], description ?? list[code][1], headers);
  return Object.assign(make, { list });
}

/** Codes any surface may answer with, whatever the capability. */
export const commonError = defineErrors({
  invalid_request: [400, 'The request is malformed.'],
  invalid_token: [401, 'A valid bearer token is required.'],
  invalid_origin: [403, 'This request did not come from a page of this login service. Go back and try again from the page itself.'],
  not_found: [404, 'Not found.'],
  conflict: [409, 'Something changed at the same moment; try again.'],
  rate_limited: [429, 'Too many requests; try again later.'],
  server_error: [500, 'Something went wrong on our side.'],
  temporarily_unavailable: [503, 'A backing service is unavailable; try again shortly.'],
});

export const unauthorized = (description = 'A valid bearer token is required') => commonError('invalid_token', description, { 'WWW-Authenticate': 'Bearer' });
export const notFound = (description = 'Not found') => commonError('not_found', description);

/** Thrown when a backing service (Redis, PostgreSQL) does not answer: 503, retryable. */
export const unavailable = (description?: string, retryAfter = 5) => commonError('temporarily_unavailable', description, { 'Retry-After': String(retryAfter) });

/** Too many requests: 429 with Retry-After (whole seconds). */
export const rateLimited = (retryAfter: number, description = `Too many requests; try again in ${retryAfter} seconds.`) =>
  commonError('rate_limited', description, { 'Retry-After': String(retryAfter) });

import type { RequestHandler } from 'express';
import { nanoid } from 'nanoid';
import { withRequestId } from '../log.js';

/** What a proxy may hand us: short and plain, so it cannot forge log structure or bloat lines. */
const ACCEPTED = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * `X-Request-Id` on every request: the trusted proxy's (TRUST_PROXY, so one id follows a request
 * through the proxy's logs and ours) when it looks sane, otherwise a fresh one. Echoed in the
 * response, carried by every log line of the request (log.ts) and by its error body. Without
 * TRUST_PROXY any client could set it, so it is ignored: a client must not choose the id our
 * logs file its requests under. Mount first.
 */
export function requestIds(opts: { trustProxy: boolean }): RequestHandler {
  return (req, res, next) => {
    const given = opts.trustProxy ? req.get('x-request-id') : undefined;
    const id = given !== undefined && ACCEPTED.test(given) ? given : nanoid();
    res.set('X-Request-Id', id);
    withRequestId(id, next);
  };
}

import type { RequestHandler } from 'express';
import { commonError } from '../../errors.js';
import type { AdminTokens } from '../tokens.js';

const challenge = (error?: string) => ({ 'WWW-Authenticate': `Bearer realm="saoma-admin"${error ? `, error="${error}"` : ''}` });

/**
 * `Authorization: Bearer sat_…` for /api/admin over HTTP. Enforces: a header is present, it is
 * a bearer token, the token exists, is not revoked or expired, and its owner is an active admin. Every failure is the same 401 JSON
 * shape with a Bearer challenge (RFC 6750 §3); which check failed is said in words only.
 * Sets `res.locals.actor` to "token:<name>" for the audit trail.
 */
export function requireAdminToken(tokens: AdminTokens): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (!header)
      throw commonError(
        'invalid_token',
        'This API needs an admin token: Authorization: Bearer sat_… (npm run admin -- tokens:create --name NAME).',
        challenge(),
      );
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw commonError('invalid_token', 'The Authorization header must be "Bearer <admin token>".', challenge('invalid_request'));
    const token = await tokens.verify(match[1]);
    if (!token) throw commonError('invalid_token', 'The admin token is unknown or revoked.', challenge('invalid_token'));
    res.locals.actor = `token:${token.name}`;
    // Whatever this token creates acts for the same admin (a token cannot outlive its owner's rights).
    res.locals.adminId = token.ownerId;
    next();
  };
}

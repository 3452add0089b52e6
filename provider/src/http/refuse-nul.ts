import type { RequestHandler } from 'express';
import { commonError } from '../errors.js';

/** True when any string in a parsed body or query (at any depth) contains a NUL character. */
function hasNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (depth > 20 || value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([k, v]) => k.includes('\0') || hasNul(v, depth + 1));
}

/**
 * PostgreSQL text cannot hold NUL (U+0000): a query with one fails, which would surface as a
 * 500. Refuse it at the edge instead, in the path (%00), the query and the parsed body.
 * Mount after the body parser.
 */
export const refuseNul: RequestHandler = (req, _res, next) => {
  if (/%00/i.test(req.originalUrl) || hasNul(req.query) || hasNul(req.body)) {
    throw commonError('invalid_request', 'Text must not contain NUL characters.');
  }
  next();
};

import type { RequestHandler } from 'express';
import type { z } from 'zod';
import { commonError } from '../errors.js';

/** Parse input at the edge: a handler only ever sees values its schema accepted. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const message = result.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
    throw commonError('invalid_request', message);
  }
  return result.data;
}

/** `Cache-Control: no-store` on everything that carries auth state (RFC 6749 §5.1). */
export const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  res.set('Pragma', 'no-cache');
  next();
};

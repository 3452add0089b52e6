import type { Request } from 'express';

/** A request cookie's value by name (the raw header: no cookie-parsing middleware is mounted). */
export function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

import type { RequestHandler, Response } from 'express';
import { AppError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { AdminAudit } from '../audit.js';
import type { AdminServices } from '../api/routes.js';
import type { PageContext } from './html.js';
import type { ConsoleSession, ConsoleSessions, Flash } from './session.js';

export interface ConsoleDeps {
  services: AdminServices;
  record: AdminAudit;
  sessions: ConsoleSessions;
  issuer: string;
  log: Logger;
  /** Counts failed sign-ins (http/rate-limit.ts `adminLogin`); answers 429 JSON, shown here as the sign-in page. */
  loginLimiter: RequestHandler;
}

/** What every console handler gets about the signed-in admin (res.locals.console). */
export interface ConsoleLocals {
  sid: string;
  session: ConsoleSession;
  flash: Flash | null;
}

export const locals = (res: Response) => res.locals.console as ConsoleLocals;

/** Page context: who is signed in, the CSRF token for forms, and a notice from the last action. */
export const ctxOf = (res: Response, extra: Partial<PageContext> = {}): PageContext => {
  const l = locals(res);
  return { admin: { username: l.session.username }, csrf: l.session.csrf, notice: l.flash?.notice, ...extra };
};

export const send = (res: Response, status: number, body: string) => void res.status(status).type('html').send(body);

/** After a successful POST: remember what to show once, then see-other to a page (no re-POST on reload). */
export async function done(res: Response, sessions: ConsoleSessions, to: string, flash: Flash = {}) {
  if (Object.keys(flash).length) await sessions.setFlash(locals(res).sid, flash);
  res.redirect(303, to);
}

/** A 4xx from a service is shown on the form it came from; anything else goes to the error page. */
export function formError(err: unknown): string {
  if (err instanceof AppError && err.status < 500) return err.description;
  throw err;
}

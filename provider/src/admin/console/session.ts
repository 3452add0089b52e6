import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { cookieOf } from '../../http/cookies.js';
import type { EphemeralStore } from '../../storage/ephemeral.js';

/**
 * Console sessions live in the ephemeral store (Redis in production), not in a table:
 * - they are short-lived by nature, and the store expires them itself (no cleanup job);
 * - every instance sharing Redis sees them, as it sees oidc-provider's own sessions;
 * - on the embedded default (memory store) a restart signs admins out, which is harmless.
 * The cookie holds a random id; the store key is its SHA-256, so a copy of Redis holds no
 * usable session. Each record carries its CSRF token (synchronizer pattern, checked on every
 * POST together with the Origin check) and the admin id, re-checked on every request so a
 * disabled admin is out at once.
 */
const SESSION_IDLE_MS = 2 * 3600 * 1000;
const SESSION_MAX_MS = 12 * 3600 * 1000;
/** A secret waiting to be shown once (after create/rotate) is gone after this even if never shown. */
const FLASH_TTL_MS = 10 * 60 * 1000;

export interface ConsoleSession {
  adminId: string;
  username: string;
  csrf: string;
  createdAt: number;
}

/** What the next page shows once: a notice, and at most one secret (AppSecret or admin token). */
export interface Flash {
  notice?: string;
  appSecret?: { appId: string; appSecret: string; rotated: boolean; previousSecretExpiresAt: string | null };
  adminToken?: { id: string; name: string; token: string };
}

const key = (sid: string) => `admin:session:${createHash('sha256').update(sid).digest('base64url')}`;
const flashKey = (sid: string) => `${key(sid)}:flash`;

export type ConsoleSessions = ReturnType<typeof createConsoleSessions>;

export function createConsoleSessions(store: EphemeralStore) {
  return {
    /** A new session (a new id on every sign-in: no fixation). */
    async start(admin: { id: string; username: string }): Promise<{ sid: string; session: ConsoleSession }> {
      const sid = randomBytes(32).toString('base64url');
      const session = { adminId: admin.id, username: admin.username, csrf: randomBytes(32).toString('base64url'), createdAt: Date.now() };
      await store.set(key(sid), JSON.stringify(session), SESSION_IDLE_MS);
      return { sid, session };
    },

    /** The live session for a cookie value, its idle timer restarted; null when missing or past its maximum age. */
    async load(sid: string | undefined): Promise<ConsoleSession | null> {
      if (!sid || !/^[A-Za-z0-9_-]{43}$/.test(sid)) return null;
      const raw = await store.get(key(sid));
      if (!raw) return null;
      const session = JSON.parse(raw) as ConsoleSession;
      const left = session.createdAt + SESSION_MAX_MS - Date.now();
      if (left <= 0) {
        await store.del(key(sid), flashKey(sid));
        return null;
      }
      await store.set(key(sid), raw, Math.min(SESSION_IDLE_MS, left));
      return session;
    },

    async end(sid: string | undefined) {
      if (sid) await store.del(key(sid), flashKey(sid));
    },

    async setFlash(sid: string, flash: Flash) {
      await store.set(flashKey(sid), JSON.stringify(flash), FLASH_TTL_MS);
    },

    /** Read-once: of two concurrent page loads, only the one whose delete removed the key shows it. */
    async takeFlash(sid: string): Promise<Flash | null> {
      const raw = await store.get(flashKey(sid));
      if (!raw || (await store.del(flashKey(sid))) !== 1) return null;
      return JSON.parse(raw) as Flash;
    },
  };
}

export function csrfMatches(session: ConsoleSession, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The cookie: HttpOnly, SameSite=Strict, Path=/admin. Over TLS (the request came in over https,
 * directly or per X-Forwarded-Proto with TRUST_PROXY, or the issuer is https) it is Secure.
 */
const COOKIE = 'saoma_admin';
const isSecure = (req: Request, issuer: string) => req.secure || issuer.startsWith('https:');

export const readSessionCookie = (req: Request): string | undefined => cookieOf(req, COOKIE);

export function setSessionCookie(req: Request, res: Response, issuer: string, sid: string) {
  res.cookie(COOKIE, sid, { httpOnly: true, sameSite: 'strict', secure: isSecure(req, issuer), path: '/admin', maxAge: SESSION_MAX_MS });
}

export function clearSessionCookie(req: Request, res: Response, issuer: string) {
  res.clearCookie(COOKIE, { httpOnly: true, sameSite: 'strict', secure: isSecure(req, issuer), path: '/admin' });
}

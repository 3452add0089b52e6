import express, { Router } from 'express';
import { z } from 'zod';
import type { Audit } from '../accounts/audit.js';
import type { Authorizations } from '../accounts/authorizations.js';
import { nicknameSchema, passwordSchema, usernameSchema, type Users } from '../accounts/users.js';
import { notFound } from '../errors.js';
import { noStore, parseWith } from '../http/guard.js';
import type { ClientDirectory } from '../apps/directory.js';
import { loginError } from '../login/error-codes.js';
import type { Logins } from '../login/login.js';
import type { QrSession } from '../login/machine.js';
import { mobileError } from './error-codes.js';
import { sameNetwork } from './network.js';
import { requireDevice, type DeviceTokens } from './device-tokens.js';

export interface MobileDeps {
  users: Users;
  tokens: DeviceTokens;
  logins: Logins;
  clients: ClientDirectory;
  authorizations: Authorizations;
  audit: Audit;
  /** Scans per user (http/rate-limit.ts); runs after the device token is checked. */
  scanLimit?: express.RequestHandler;
}

const QR_ID = /^[A-Za-z0-9_-]{16,64}$/;

/** The scanned text is a QR URL (`ISSUER/q/:qrId`, from any host the phone reached us on) or a bare qrId. */
export function qrIdFromPayload(payload: string): string | null {
  const text = payload.trim();
  if (QR_ID.test(text)) return text;
  try {
    const match = /^\/q\/([A-Za-z0-9_-]{16,64})\/?$/.exec(new URL(text).pathname);
    return match ? match[1] : null;
  } catch {
    return null;
  }
}

const registerBody = z.object({ username: usernameSchema, password: passwordSchema, nickname: nicknameSchema.optional() });
/** No control characters (PostgreSQL text refuses NUL; none belongs in a name). */
const printable = (max: number) => z.string().max(max).regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters');
const loginBody = z.object({ username: printable(64).min(1), password: z.string().min(1).max(256), deviceName: printable(100).optional() });
const scanBody = z.object({ payload: z.string().min(1).max(2048) });
const qrIdParam = z.object({ qrId: z.string().regex(QR_ID, 'not a QR id') });
const appIdParam = z.object({ appId: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'not an AppID') });

/** The phone app's API (API.md §3). */
export function mobileRoutes(deps: MobileDeps): Router {
  const { users, tokens, logins, clients, authorizations, audit } = deps;
  const router = Router();
  const auth = requireDevice(tokens);
  router.use(noStore, express.json({ limit: '16kb' }));
  const who = (req: express.Request) => ({ ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null });

  router.post('/register', async (req, res) => {
    const body = parseWith(registerBody, req.body);
    const user = await users.register(body);
    res.status(201).json({ user });
  });

  router.post('/login', async (req, res) => {
    const body = parseWith(loginBody, req.body);
    const user = await users.authenticate(body.username, body.password);
    if (!user) throw mobileError('invalid_credentials');
    const token = await tokens.issue(user.id, body.deviceName);
    await audit.record('device.login', { userId: user.id, ...who(req), detail: { deviceName: body.deviceName ?? null } });
    res.json({ token, user });
  });

  router.post('/logout', auth, async (req, res) => {
    await tokens.revoke(res.locals.deviceSessionId!);
    await audit.record('device.logout', { userId: res.locals.user!.id, ...who(req) });
    res.status(204).end();
  });

  router.get('/me', auth, (_req, res) => {
    res.json({ user: res.locals.user });
  });

  router.post('/scans', auth, deps.scanLimit ?? ((_req, _res, next) => next()), async (req, res) => {
    const { payload } = parseWith(scanBody, req.body);
    const qrId = qrIdFromPayload(payload);
    if (!qrId) throw mobileError('invalid_qr');
    const session = await logins.scan(qrId, res.locals.user!, who(req));
    res.json(await describe(session, req));
  });

  /**
   * What a login link asks, without scanning it: a link opened from a chat or a page must show
   * the request and wait for a tap (the browser hears nothing until then, not even who looked).
   */
  router.get('/requests/:qrId', auth, async (req, res) => {
    const { qrId } = parseWith(qrIdParam, req.params);
    const session = await logins.get(qrId);
    if (!session) throw loginError('qr_not_found');
    const status = logins.snapshot(session).status;
    if (status === 'expired') throw loginError('qr_expired');
    if (status !== 'pending' && session.userId !== res.locals.user!.id) throw loginError('already_scanned');
    res.json({ ...(await describe(session, req)), status });
  });

  /** The login as the phone shows it: the app, what it gets, who asks from where. */
  async function describe(session: QrSession, req: express.Request) {
    const client = await clients.get(session.clientId);
    if (!client) throw notFound('The app asking to log in is no longer available.');
    return {
      qrId: session.qrId,
      app: { appId: session.clientId, name: client.name, logoUrl: client.logoUrl, homepage: client.homepage, domain: domainOf(client.redirectUris) },
      scopes: session.scopes,
      requester: { ...session.requester, sameNetworkAsPhone: sameNetwork(session.requester.ip, req.ip ?? '') },
      expiresAt: new Date(session.expiresAt).toISOString(),
    };
  }

  for (const decision of ['confirm', 'deny'] as const) {
    router.post(`/scans/:qrId/${decision}`, auth, async (req, res) => {
      const { qrId } = parseWith(qrIdParam, req.params);
      const session = await logins.decide(qrId, res.locals.user!.id, decision, who(req));
      res.json({ status: session.status });
    });
  }

  router.get('/scans/:qrId', auth, async (req, res) => {
    const { qrId } = parseWith(qrIdParam, req.params);
    const session = await logins.get(qrId);
    if (!session) throw loginError('qr_not_found');
    if (session.userId !== res.locals.user!.id) throw loginError('not_yours');
    res.json(logins.snapshot(session));
  });

  router.get('/authorizations', auth, async (_req, res) => {
    res.json({ authorizations: await authorizations.listForUser(res.locals.user!.id) });
  });

  router.delete('/authorizations/:appId', auth, async (req, res) => {
    const { appId } = parseWith(appIdParam, req.params);
    await authorizations.revoke(res.locals.user!.id, appId);
    await audit.record('authorization.revoked', { userId: res.locals.user!.id, appId, ...who(req) });
    res.status(204).end();
  });

  router.get('/activity', auth, async (_req, res) => {
    res.json({ events: await audit.forUser(res.locals.user!.id) });
  });

  router.use((_req, _res) => {
    throw notFound('No such phone API endpoint.');
  });
  return router;
}

/** The site's domain as the person should judge it: the host its redirect URIs point at. */
function domainOf(redirectUris: string[]): string | null {
  const hosts = [...new Set(redirectUris.map((u) => new URL(u).host))];
  return hosts.length ? hosts.join(', ') : null;
}

import express, { Router } from 'express';
import { z } from 'zod';
import type { Audit } from '../accounts/audit.js';
import type { Authorizations } from '../accounts/authorizations.js';
import { accountError } from '../accounts/error-codes.js';
import type { SignInMethods } from '../accounts/sign-in-methods.js';
import { nicknameSchema, passwordSchema, usernameSchema, type Users } from '../accounts/users.js';
import type { ClientDirectory } from '../apps/directory.js';
import { notFound } from '../errors.js';
import { errorsOf, type ErrorRef } from '../http/openapi.js';
import { loginError } from '../login/error-codes.js';
import type { Logins } from '../login/login.js';
import type { QrSession } from '../login/machine.js';
import type { PhoneRouteKit } from './api.js';
import { mobileError } from './error-codes.js';
import { sameNetwork } from './network.js';
import * as s from './schemas.js';
import type { DeviceTokens } from './device-tokens.js';
import type { PhoneSignIn } from './sign-in.js';

/** Whether confirming needs a passkey, and the check itself (passkeys/confirm-gate.ts). */
export interface ConfirmGate {
  required(clientId: string): Promise<boolean>;
  /** The errors `check` may throw, for the contract. */
  errors: ErrorRef[];
  /** Throws unless the confirm may go on (a fresh, verified passkey assertion when required). */
  check(input: { qrId: string; clientId: string; userId: string; passkey: unknown }): Promise<void>;
}

export interface MobileDeps {
  users: Users;
  tokens: DeviceTokens;
  signIn: PhoneSignIn;
  methods: SignInMethods;
  logins: Logins;
  clients: ClientDirectory;
  authorizations: Authorizations;
  audit: Audit;
  gate: ConfirmGate;
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

const qrIdParam = z.object({ qrId: z.string().regex(QR_ID, 'not a QR id') });
const appIdParam = z.object({ appId: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'not an AppID') });
const APP_GONE: ErrorRef = { code: 'not_found', status: 404, description: 'The app asking to log in is no longer available.' };
const deviceTag = ['Account'];
const scanTag = ['Scans'];

/** The phone app's accounts, scans and authorizations (API.md §3); declared on the phone API's contract. */
export function mobileRoutes(kit: PhoneRouteKit, deps: MobileDeps): Router {
  const { users, logins, clients, authorizations, audit } = deps;
  const { api, auth, who } = kit;
  const router = Router();
  const noLimit: express.RequestHandler = (_req, _res, next) => next();

  api.route(
    router,
    {
      method: 'post',
      path: '/register',
      operationId: 'register',
      tags: deviceTag,
      summary: 'Create a Saoma account with a username and password (the account is not signed in yet)',
      body: z.object({ username: usernameSchema, password: passwordSchema, nickname: nicknameSchema.optional() }),
      responses: { 201: { description: 'Created', schema: z.object({ user: s.userSchema }) } },
      errors: errorsOf(accountError, 'username_taken'),
    },
    [],
    async ({ body }, _req, res) => {
      res.status(201).json({ user: await users.register(body) });
    },
  );

  api.route(
    router,
    {
      method: 'post',
      path: '/login',
      operationId: 'signInWithPassword',
      tags: deviceTag,
      summary: 'Sign in with a username and password: a device token',
      body: z.object({ username: s.printable(64).min(1), password: z.string().min(1).max(256), deviceName: s.deviceNameSchema.optional() }),
      responses: { 200: { description: 'Signed in', schema: s.signedInSchema } },
      errors: [...errorsOf(mobileError, 'invalid_credentials'), ...errorsOf(accountError, 'account_disabled')],
    },
    [],
    async ({ body }, req, res) => {
      const user = await users.authenticate(body.username, body.password);
      if (!user) throw mobileError('invalid_credentials');
      res.json(await deps.signIn(user, { method: 'password', deviceName: body.deviceName }, who(req)));
    },
  );

  api.route(
    router,
    {
      method: 'post',
      path: '/logout',
      operationId: 'signOut',
      tags: deviceTag,
      security: ['deviceToken'],
      summary: 'Sign this device out: its token stops working at once, on every instance',
      responses: { 204: { description: 'Signed out' } },
    },
    [auth],
    async (_input, req, res) => {
      await deps.tokens.revokeOwn(res.locals.user!.id, res.locals.deviceSessionId!);
      await audit.record('device.logout', { userId: res.locals.user!.id, ...who(req) });
      res.status(204).end();
    },
  );

  api.route(
    router,
    {
      method: 'get',
      path: '/devices',
      operationId: 'devices',
      tags: deviceTag,
      security: ['deviceToken'],
      summary: 'The devices signed in to this account, last used first',
      description: 'A phone that was lost or sold can be signed out from another one (DELETE /devices/{deviceId}).',
      responses: { 200: { description: 'Signed-in devices', schema: z.object({ devices: z.array(s.deviceSchema) }) } },
    },
    [auth],
    async (_input, _req, res) => {
      const current = res.locals.deviceSessionId;
      res.json({ devices: (await deps.tokens.listOf(res.locals.user!.id)).map((d) => ({ ...d, current: d.id === current })) });
    },
  );

  api.route(
    router,
    {
      method: 'post',
      path: '/devices/sign-out-others',
      operationId: 'signOutOtherDevices',
      tags: deviceTag,
      security: ['deviceToken'],
      summary: 'Sign out every other device of this account (this one stays signed in), on every instance at once',
      responses: { 200: { description: 'How many devices were signed out', schema: z.object({ signedOut: z.number().int() }) } },
    },
    [auth],
    async (_input, req, res) => {
      const userId = res.locals.user!.id;
      const signedOut = await deps.tokens.revokeAllOf(userId, res.locals.deviceSessionId);
      if (signedOut) await audit.record('device.logout', { userId, ...who(req), detail: { others: signedOut, from: res.locals.deviceSessionId } });
      res.json({ signedOut });
    },
  );

  const NO_SUCH_DEVICE = 'No device of this account is signed in with that id.';
  api.route(
    router,
    {
      method: 'delete',
      path: '/devices/:deviceId',
      operationId: 'signOutDevice',
      tags: deviceTag,
      security: ['deviceToken'],
      summary: 'Sign out one of this account’s devices: its token stops working at once, on every instance',
      params: z.object({ deviceId: z.string().min(1).max(64) }),
      responses: { 204: { description: 'Signed out' } },
      errors: [{ code: 'not_found', status: 404, description: NO_SUCH_DEVICE }],
    },
    [auth],
    async ({ params }, req, res) => {
      const userId = res.locals.user!.id;
      if (!(await deps.tokens.revokeOwn(userId, params.deviceId))) throw notFound(NO_SUCH_DEVICE);
      await audit.record('device.logout', { userId, ...who(req), detail: { deviceId: params.deviceId, from: res.locals.deviceSessionId } });
      res.status(204).end();
    },
  );

  api.route(
    router,
    {
      method: 'get',
      path: '/me',
      operationId: 'me',
      tags: deviceTag,
      security: ['deviceToken'],
      summary: 'Who is signed in, and the ways this account can sign in',
      responses: { 200: { description: 'The account', schema: s.meSchema } },
    },
    [auth],
    async (_input, _req, res) => {
      const user = res.locals.user!;
      res.json({ user, signInMethods: await deps.methods.of(user.id) });
    },
  );

  api.route(
    router,
    {
      method: 'post',
      path: '/scans',
      operationId: 'scan',
      tags: scanTag,
      security: ['deviceToken'],
      summary: 'Scan a login QR code: binds it to this person and says who is asking',
      description: 'The payload is the QR text (`<issuer>/q/<qrId>`) or a bare qrId. The browser that shows the code is told who scanned.',
      body: z.object({ payload: z.string().min(1).max(2048) }),
      responses: { 200: { description: 'The login to decide on', schema: s.scanSchema } },
      errors: [
        ...errorsOf(mobileError, 'invalid_qr'),
        ...errorsOf(loginError, 'qr_not_found', 'qr_expired', 'already_scanned', 'already_decided', 'conflict'),
        APP_GONE,
      ],
    },
    [auth, deps.scanLimit ?? noLimit],
    async ({ body }, req, res) => {
      const qrId = qrIdFromPayload(body.payload);
      if (!qrId) throw mobileError('invalid_qr');
      const session = await logins.scan(qrId, res.locals.user!, who(req));
      res.json(await describe(session, req));
    },
  );

  api.route(
    router,
    {
      method: 'get',
      path: '/requests/:qrId',
      operationId: 'loginRequest',
      tags: scanTag,
      security: ['deviceToken'],
      summary: 'What a login link asks, without scanning it',
      description:
        'A link opened from a chat or a page must show the request and wait for a tap: the browser hears nothing until the scan, not even who looked.',
      params: qrIdParam,
      responses: { 200: { description: 'The login and its state', schema: s.scanSchema.extend({ status: s.snapshotSchema.shape.status }) } },
      errors: [...errorsOf(loginError, 'qr_not_found', 'qr_expired', 'already_scanned'), APP_GONE],
    },
    [auth],
    async ({ params }, req, res) => {
      const session = await logins.get(params.qrId);
      if (!session) throw loginError('qr_not_found');
      const status = logins.snapshot(session).status;
      if (status === 'expired') throw loginError('qr_expired');
      if (status !== 'pending' && session.userId !== res.locals.user!.id) throw loginError('already_scanned');
      res.json({ ...(await describe(session, req)), status });
    },
  );

  /** The login as the phone shows it: the app, what it gets, who asks from where, whether Confirm needs a passkey. */
  async function describe(session: QrSession, req: express.Request) {
    const client = await clients.get(session.clientId);
    if (!client) throw notFound('The app asking to log in is no longer available.');
    return {
      qrId: session.qrId,
      app: { appId: session.clientId, name: client.name, logoUrl: client.logoUrl, homepage: client.homepage, domain: domainOf(client.redirectUris) },
      scopes: session.scopes,
      requester: { ...session.requester, sameNetworkAsPhone: sameNetwork(session.requester.ip, req.ip ?? '') },
      expiresAt: new Date(session.expiresAt).toISOString(),
      passkeyRequired: await deps.gate.required(session.clientId),
    };
  }

  const decisionErrors = errorsOf(loginError, 'qr_not_found', 'qr_expired', 'not_scanned', 'not_yours', 'already_decided', 'conflict');
  api.route(
    router,
    {
      method: 'post',
      path: '/scans/:qrId/confirm',
      operationId: 'confirm',
      tags: scanTag,
      security: ['deviceToken'],
      summary: 'Confirm the scanned login: the browser goes on to the site',
      description:
        'When the scan said `passkeyRequired`, send `passkey`: the assertion for the options of POST /scans/{qrId}/confirm/options, made with user verification.',
      params: qrIdParam,
      body: z.object({ passkey: z.unknown().optional().describe('A WebAuthn AuthenticationResponseJSON (when the scan said passkeyRequired)') }),
      bodyRequired: false,
      responses: { 200: { description: 'Confirmed', schema: s.decisionSchema } },
      errors: [...decisionErrors, ...deps.gate.errors],
    },
    [auth],
    async ({ params, body }, req, res) => {
      const userId = res.locals.user!.id;
      const current = await logins.get(params.qrId);
      // The gate meets every login this person could still confirm: scanned by them, or not scanned
      // yet (a scan landing between this read and the decision must not let the confirm skip it).
      // Anything else (another's, decided, expired) cannot be confirmed: it gets the core's error.
      const open = current?.status === 'pending' || (current?.userId === userId && current.status === 'scanned');
      if (current && open) await deps.gate.check({ qrId: params.qrId, clientId: current.clientId, userId, passkey: body.passkey });
      const session = await logins.decide(params.qrId, userId, 'confirm', who(req));
      res.json({ status: session.status });
    },
  );

  api.route(
    router,
    {
      method: 'post',
      path: '/scans/:qrId/deny',
      operationId: 'deny',
      tags: scanTag,
      security: ['deviceToken'],
      summary: 'Deny the scanned login: final; the browser is told, the site gets access_denied',
      params: qrIdParam,
      responses: { 200: { description: 'Denied', schema: s.decisionSchema } },
      errors: decisionErrors,
    },
    [auth],
    async ({ params }, req, res) => {
      const session = await logins.decide(params.qrId, res.locals.user!.id, 'deny', who(req));
      res.json({ status: session.status });
    },
  );

  api.route(
    router,
    {
      method: 'get',
      path: '/scans/:qrId',
      operationId: 'scanStatus',
      tags: scanTag,
      security: ['deviceToken'],
      summary: 'The state of a login this person scanned',
      params: qrIdParam,
      responses: { 200: { description: 'Its state now', schema: s.snapshotSchema } },
      errors: errorsOf(loginError, 'qr_not_found', 'not_yours'),
    },
    [auth],
    async ({ params }, _req, res) => {
      const session = await logins.get(params.qrId);
      if (!session) throw loginError('qr_not_found');
      if (session.userId !== res.locals.user!.id) throw loginError('not_yours');
      res.json(logins.snapshot(session));
    },
  );

  api.route(
    router,
    {
      method: 'get',
      path: '/authorizations',
      operationId: 'authorizations',
      tags: ['Authorizations'],
      security: ['deviceToken'],
      summary: 'The apps this person approved, most recent first',
      responses: { 200: { description: 'Approved apps', schema: z.object({ authorizations: z.array(s.authorizationSchema) }) } },
    },
    [auth],
    async (_input, _req, res) => {
      res.json({ authorizations: await authorizations.listForUser(res.locals.user!.id) });
    },
  );

  api.route(
    router,
    {
      method: 'delete',
      path: '/authorizations/:appId',
      operationId: 'revokeAuthorization',
      tags: ['Authorizations'],
      security: ['deviceToken'],
      summary: 'Revoke an app: its tokens for this person stop working at once; the next login asks again',
      params: appIdParam,
      responses: { 204: { description: 'Revoked' } },
      errors: [{ code: 'not_found', status: 404, description: 'You have not authorized this app.' }],
    },
    [auth],
    async ({ params }, req, res) => {
      await authorizations.revoke(res.locals.user!.id, params.appId);
      await audit.record('authorization.revoked', { userId: res.locals.user!.id, appId: params.appId, ...who(req) });
      res.status(204).end();
    },
  );

  api.route(
    router,
    {
      method: 'get',
      path: '/activity',
      operationId: 'activity',
      tags: ['Authorizations'],
      security: ['deviceToken'],
      summary: "This person's recent sign-ins, scans, decisions and revocations (50, newest first)",
      responses: { 200: { description: 'Recent events', schema: z.object({ events: z.array(s.activitySchema) }) } },
    },
    [auth],
    async (_input, _req, res) => {
      res.json({ events: await audit.forUser(res.locals.user!.id) });
    },
  );

  return router;
}

/** The site's domain as the person should judge it: the host its redirect URIs point at. */
function domainOf(redirectUris: string[]): string | null {
  const hosts = [...new Set(redirectUris.map((u) => new URL(u).host))];
  return hosts.length ? hosts.join(', ') : null;
}

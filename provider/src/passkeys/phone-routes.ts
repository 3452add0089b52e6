import { Router } from 'express';
import { z } from 'zod';
import type { Audit } from '../accounts/audit.js';
import { accountError } from '../accounts/error-codes.js';
import type { Users } from '../accounts/users.js';
import { errorsOf } from '../http/openapi.js';
import { loginError } from '../login/error-codes.js';
import type { Logins } from '../login/login.js';
import type { PhoneRouteKit } from '../mobile/api.js';
import * as s from '../mobile/schemas.js';
import type { PhoneSignIn } from '../mobile/sign-in.js';
import { passkeyError } from './error-codes.js';
import type { Passkeys } from './passkeys.js';
import { authenticationResponseSchema, creationOptionsSchema, registrationResponseSchema, requestOptionsSchema } from './schemas.js';

const tags = ['Passkeys'];
const passkeyIdParam = z.object({ passkeyId: z.string().regex(/^[A-Za-z0-9_-]{1,1024}$/, 'not a passkey id') });
const qrIdParam = z.object({ qrId: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'not a QR id') });
const ceremonyErrors = errorsOf(passkeyError, 'passkey_challenge_invalid', 'passkey_invalid');
const recentErrors = errorsOf(passkeyError, 'recent_sign_in_required');
const recentNote = 'else 403 recent_sign_in_required: a device token alone, stolen or on an unlocked phone, must not add its holder’s passkey';

/** Passkeys on the phone API: add, list, remove; sign in with one; options for confirming with one. */
export function passkeyPhoneRoutes(kit: PhoneRouteKit, deps: { passkeys: Passkeys; users: Users; logins: Logins; signIn: PhoneSignIn; audit: Audit }): Router {
  const { api, auth, who } = kit;
  const { passkeys } = deps;
  const router = Router();

  api.route(
    router,
    {
      method: 'post',
      path: '/passkeys/options',
      operationId: 'passkeyRegistrationOptions',
      tags,
      security: ['deviceToken'],
      summary: 'Start adding a passkey: WebAuthn creation options (the challenge is single-use, 5 minutes)',
      description: `Only for a device session signed in within the last 10 minutes (${recentNote}).`,
      responses: { 200: { description: 'PublicKeyCredentialCreationOptionsJSON', schema: creationOptionsSchema } },
      errors: recentErrors,
    },
    [auth],
    async (_input, _req, res) => {
      res.json(await passkeys.registrationOptions(res.locals.user!, res.locals.signedInAt!));
    },
  );

  api.route(
    router,
    {
      method: 'post',
      path: '/passkeys',
      operationId: 'addPasskey',
      tags,
      security: ['deviceToken'],
      summary: 'Finish adding a passkey: the RegistrationResponseJSON the authenticator made (user verification required)',
      body: z.object({ response: registrationResponseSchema, name: s.printable(64).trim().min(1).optional() }),
      responses: { 201: { description: 'Added', schema: z.object({ passkey: s.passkeySchema }) } },
      description: `Only for a device session signed in within the last 10 minutes (${recentNote}).`,
      errors: [...ceremonyErrors, ...errorsOf(passkeyError, 'passkey_exists'), ...recentErrors],
    },
    [auth],
    async ({ body }, req, res) => {
      const user = res.locals.user!;
      const passkey = await passkeys.register(user.id, res.locals.signedInAt!, body.response, body.name);
      await deps.audit.record('passkey.added', { userId: user.id, ...who(req), detail: { passkeyId: passkey.id, name: passkey.name } });
      res.status(201).json({ passkey });
    },
  );

  api.route(
    router,
    {
      method: 'get',
      path: '/passkeys',
      operationId: 'passkeys',
      tags,
      security: ['deviceToken'],
      summary: "This account's passkeys",
      responses: { 200: { description: 'Passkeys', schema: z.object({ passkeys: z.array(s.passkeySchema) }) } },
    },
    [auth],
    async (_input, _req, res) => {
      res.json({ passkeys: await passkeys.list(res.locals.user!.id) });
    },
  );

  api.route(
    router,
    {
      method: 'delete',
      path: '/passkeys/:passkeyId',
      operationId: 'removePasskey',
      tags,
      security: ['deviceToken'],
      summary: 'Remove a passkey from this account (the authenticator keeps its copy until deleted there)',
      params: passkeyIdParam,
      responses: { 204: { description: 'Removed' } },
      description: `Only for a device session signed in within the last 10 minutes (${recentNote}).`,
      errors: [...errorsOf(passkeyError, 'passkey_not_found', 'last_sign_in_method'), ...recentErrors],
    },
    [auth],
    async ({ params }, req, res) => {
      const userId = res.locals.user!.id;
      await passkeys.remove(userId, res.locals.signedInAt!, params.passkeyId);
      await deps.audit.record('passkey.removed', { userId, ...who(req), detail: { passkeyId: params.passkeyId } });
      res.status(204).end();
    },
  );

  api.route(
    router,
    {
      method: 'post',
      path: '/login/passkey/options',
      operationId: 'passkeySignInOptions',
      tags,
      summary: 'Start signing in with a passkey: WebAuthn request options (no username: any passkey of this site)',
      responses: { 200: { description: 'PublicKeyCredentialRequestOptionsJSON', schema: requestOptionsSchema } },
    },
    [],
    async (_input, _req, res) => {
      res.json(await passkeys.loginOptions());
    },
  );

  api.route(
    router,
    {
      method: 'post',
      path: '/login/passkey',
      operationId: 'signInWithPasskey',
      tags,
      summary: 'Sign in with a passkey: the AuthenticationResponseJSON (user verification required) for a device token',
      body: z.object({ response: authenticationResponseSchema, deviceName: s.deviceNameSchema.optional() }),
      responses: { 200: { description: 'Signed in', schema: s.signedInSchema } },
      errors: [...ceremonyErrors, ...errorsOf(passkeyError, 'passkey_unknown'), ...errorsOf(accountError, 'account_disabled', 'account_not_found')],
    },
    [],
    async ({ body }, req, res) => {
      const userId = await passkeys.login(body.response);
      const user = await deps.users.active(userId);
      res.json(await deps.signIn(user, { method: 'passkey', deviceName: body.deviceName }, who(req)));
    },
  );

  api.route(
    router,
    {
      method: 'post',
      path: '/scans/:qrId/confirm/options',
      operationId: 'confirmOptions',
      tags: ['Scans'],
      security: ['deviceToken'],
      summary: 'Options for confirming a scanned login with a passkey (when the scan said passkeyRequired)',
      description:
        "Only this account's passkeys, user verification required; the assertion is accepted for this QR only, once. Send it as `passkey` in POST /scans/{qrId}/confirm.",
      params: qrIdParam,
      responses: { 200: { description: 'PublicKeyCredentialRequestOptionsJSON', schema: requestOptionsSchema } },
      errors: [...errorsOf(passkeyError, 'no_passkey'), ...errorsOf(loginError, 'qr_not_found', 'not_yours')],
    },
    [auth],
    async ({ params }, _req, res) => {
      const userId = res.locals.user!.id;
      const session = await deps.logins.get(params.qrId);
      if (!session) throw loginError('qr_not_found');
      if (session.userId !== userId) throw loginError('not_yours');
      res.json(await passkeys.confirmOptions(userId, params.qrId));
    },
  );

  return router;
}

import { Router } from 'express';
import { z } from 'zod';
import { accountError } from '../accounts/error-codes.js';
import type { Users } from '../accounts/users.js';
import { errorsOf } from '../http/openapi.js';
import type { PhoneRouteKit } from '../mobile/api.js';
import * as s from '../mobile/schemas.js';
import type { PhoneSignIn } from '../mobile/sign-in.js';
import type { createAssertionVerifier } from './assertions.js';
import { identityError } from './error-codes.js';
import type { Federation } from './federation.js';
import type { IdentityLinks } from './links.js';
import { sourceIdSchema } from './source-input.js';
import type { IdentitySources } from './sources.js';
import { cookieOf } from '../http/cookies.js';
import { ssoCookies } from './web-routes.js';

const tags = ['Sign-in'];

export interface IdentityPhoneDeps {
  sources: IdentitySources;
  links: IdentityLinks;
  verifyAssertion: ReturnType<typeof createAssertionVerifier>;
  federation: Federation;
  users: Users;
  signIn: PhoneSignIn;
  issuer: string;
}

/** Trusted sign-in (the organisation's own app), the federated sign-in handoff, and what the sign-in screen offers. */
export function identityPhoneRoutes(kit: PhoneRouteKit, deps: IdentityPhoneDeps): Router {
  const { api, who } = kit;
  const router = Router();
  const { handoff } = ssoCookies(deps.issuer);

  api.route(
    router,
    {
      method: 'get',
      path: '/sign-in-options',
      operationId: 'signInOptions',
      tags,
      summary: 'How people can sign in here: password, passkey, and the organisation sign-ins (OpenID Connect) configured',
      responses: {
        200: {
          description: 'The options',
          schema: z.object({
            password: z.boolean(),
            passkey: z.boolean(),
            sso: z.array(
              z.object({ id: z.string(), name: z.string(), url: z.string().describe('Open in the browser (the web app): it returns to /app signed in') }),
            ),
          }),
        },
      },
    },
    [],
    async (_input, _req, res) => {
      const sso = await deps.sources.active('oidc');
      res.json({ password: true, passkey: true, sso: sso.map((x) => ({ ...x, url: `/app/sso/${x.id}` })) });
    },
  );

  api.route(
    router,
    {
      method: 'post',
      path: '/login/assertion',
      operationId: 'signInWithAssertion',
      tags,
      summary: "Trusted sign-in: the organisation's backend signed a short-lived JWT about the person; exchange it for a device token",
      description:
        "RFC 7523-style JWT bearer assertion. Header: `alg` one of the source's algorithms (asymmetric), `kid` of one of its keys. Claims: `iss` = the source issuer, `aud` = the source audience, `sub` = the person's stable id at the organisation, `jti` unique (single-use), `exp` at most 5 minutes ahead, optional `nbf`, `iat`, `name`/`nickname`, `picture` (refreshed on every sign-in). The person is linked by (source, sub), and created on first sign-in.",
      body: z.object({
        source: sourceIdSchema.describe('The identity source id an admin registered'),
        assertion: z.string().min(1).max(8192).describe('The compact JWS'),
        deviceName: s.deviceNameSchema.optional(),
      }),
      responses: { 200: { description: 'Signed in', schema: s.signedInSchema } },
      errors: [
        ...errorsOf(
          identityError,
          'invalid_assertion',
          'unsupported_algorithm',
          'unknown_key',
          'invalid_signature',
          'wrong_issuer',
          'wrong_audience',
          'assertion_expired',
          'assertion_not_yet_valid',
          'assertion_lifetime_too_long',
          'missing_claim',
          'assertion_replayed',
          'unknown_source',
          'source_disabled',
          'wrong_source_kind',
          'source_unreachable',
        ),
        ...errorsOf(accountError, 'account_disabled'),
      ],
    },
    [],
    async ({ body }, req, res) => {
      const source = await deps.sources.get(body.source);
      if (!source) throw identityError('unknown_source');
      const claims = await deps.verifyAssertion(source, body.assertion);
      const user = await deps.links.signInAs(source, claims.sub, claims);
      res.json(await deps.signIn(user, { method: 'assertion', sourceId: source.id, deviceName: body.deviceName }, who(req)));
    },
  );

  api.route(
    router,
    {
      method: 'post',
      path: '/login/sso',
      operationId: 'signInWithSsoHandoff',
      tags,
      summary: 'Finish a federated sign-in: the one-time code the callback put in /app#sso=… (60 s) for a device token',
      description:
        'Only from the browser that went through the sign-in: the callback set a cookie for this path that the claim must carry, so a code planted in another browser signs nobody in.',
      body: z.object({ code: z.string().min(16).max(128), deviceName: s.deviceNameSchema.optional() }),
      responses: { 200: { description: 'Signed in', schema: s.signedInSchema } },
      errors: [...errorsOf(identityError, 'sso_code_invalid'), ...errorsOf(accountError, 'account_disabled', 'account_not_found')],
    },
    [],
    async ({ body }, req, res) => {
      const { userId, sourceId } = await deps.federation.claim(body.code, cookieOf(req, handoff.name));
      res.clearCookie(handoff.name, { path: handoff.path });
      const user = await deps.users.active(userId);
      res.json(await deps.signIn(user, { method: 'sso', sourceId, deviceName: body.deviceName }, who(req)));
    },
  );

  return router;
}

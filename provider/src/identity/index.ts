import type { Logger } from '../log.js';
import type { EphemeralStore } from '../storage/ephemeral.js';
import type { PrismaClient } from '../storage/generated/client.ts';
import { createAssertionVerifier } from './assertions.js';
import { createFederation } from './federation.js';
import { createKeySets } from './key-sets.js';
import { createIdentityLinks } from './links.js';
import { createSecretBox } from './secret-box.js';
import { createIdentitySources } from './sources.js';

/**
 * Identity sources: where people's identities come from besides Saoma's own accounts.
 *
 *   sources.ts     the registry admins edit (cached, changes published to every instance)
 *   links.ts       person ↔ (source, subject): link or provision on sign-in; admins link/unlink
 *   assertions.ts  trusted sign-in: the organisation's backend-signed JWT (jose), jti single-use
 *   federation.ts  "Sign in with <organisation SSO>" on the web app (openid-client, code + PKCE)
 *   phone-routes.ts / web-routes.ts   the surfaces
 *
 * `createIdentity` is what every process needs (the admin CLI too); `createIdentitySignIn` adds
 * what only a running provider does: verify assertions and run federated sign-ins.
 */
export type Identity = Awaited<ReturnType<typeof createIdentity>>;

export async function createIdentity(deps: {
  prisma: PrismaClient;
  store: EphemeralStore | null;
  identifierSecret: string | null | undefined;
  issuer: string;
}) {
  const sources = await createIdentitySources({ prisma: deps.prisma, store: deps.store, secrets: createSecretBox(deps.identifierSecret), issuer: deps.issuer });
  const links = createIdentityLinks(deps.prisma);
  return { sources, links, close: () => sources.close() };
}

export function createIdentitySignIn(identity: Identity, deps: { store: EphemeralStore; issuer: string; log: Logger; now?: () => number }) {
  return {
    verifyAssertion: createAssertionVerifier({ store: deps.store, keySets: createKeySets(), now: deps.now, log: deps.log }),
    federation: createFederation({ sources: identity.sources, links: identity.links, store: deps.store, issuer: deps.issuer, log: deps.log }),
  };
}

import { createAudit } from './accounts/audit.js';
import { createAuthorizations } from './accounts/authorizations.js';
import { createSignInMethods } from './accounts/sign-in-methods.js';
import { createUsers } from './accounts/users.js';
import { createAdministration } from './admin/administration.js';
import { createAppRegistry } from './apps/index.js';
import type { Config } from './config.js';
import { createIdentity } from './identity/index.js';
import type { Logger } from './log.js';
import { createDeviceTokens, DEVICE_REVOKED } from './mobile/device-tokens.js';
import type { IdTokenAlg } from './oidc/keys.js';
import { createPayloads } from './oidc/payloads.js';
import { createPasskeys } from './passkeys/passkeys.js';
import type { Keyring } from './keys/keyring.js';
import type { EphemeralStore } from './storage/ephemeral.js';
import type { PrismaClient } from './storage/generated/client.ts';

/**
 * The services behind every surface, wired once, without HTTP: the running provider (app.ts)
 * and the admin CLI with no provider running (admin/cli/transport.ts) build the same ones.
 * @public for the phone surfaces (issue 14, in flight); unexport if that does not land.
 */
export type Services = Awaited<ReturnType<typeof createServices>>;

export async function createServices(deps: {
  config: Pick<Config, 'QR_TTL' | 'issuer' | 'passkeys' | 'DEVICE_SESSION_IDLE_DAYS'>;
  prisma: PrismaClient;
  store: EphemeralStore;
  /** False when no other process shares the store (the CLI on the embedded database): nothing to tell. */
  shared?: boolean;
  /** The ID token algorithms there are keys for (oidc/keys.ts): what an app may pick. */
  signingAlgs: readonly IdTokenAlg[];
  /** Seals identity sources' client secrets (identity/secret-box.ts); absent only in a CLI without the keys. */
  identifierSecret: string | null | undefined;
  /** The provider's signing and cookie keys (keys/keyring.ts), for the admin API. */
  keyring: Keyring;
  log: Logger;
}) {
  const { prisma, store, log } = deps;
  const payloads = createPayloads({ store, prisma });
  const registry = await createAppRegistry({
    prisma,
    store: deps.shared === false ? null : store,
    revoke: (appId) => payloads.revokeApp(appId),
    signingAlgs: deps.signingAlgs,
  });
  const users = createUsers(prisma);
  const audit = createAudit(prisma, log);
  const authorizations = createAuthorizations(prisma, store, payloads);
  // Phones' device sessions; a revocation is published so every instance drops its cached copy.
  const devices = createDeviceTokens(prisma, (message) => store.publish(DEVICE_REVOKED, message), {
    idleMs: deps.config.DEVICE_SESSION_IDLE_DAYS * 24 * 3600_000,
  });
  const identity = await createIdentity({
    prisma,
    store: deps.shared === false ? null : store,
    identifierSecret: deps.identifierSecret,
    issuer: deps.config.issuer,
  });
  const passkeys = createPasskeys({ prisma, store, settings: deps.config.passkeys });
  const methods = createSignInMethods({ prisma, passkeys, identities: identity.links });
  const administration = createAdministration({
    prisma,
    apps: registry.apps,
    audit,
    authorizations,
    keyring: deps.keyring,
    qrTtlSeconds: deps.config.QR_TTL,
    people: { users, devices, payloads, links: identity.links, sources: identity.sources, methods },
  });
  return {
    payloads,
    registry,
    apps: registry.apps,
    clients: registry.directory,
    users,
    audit,
    authorizations,
    devices,
    identity,
    passkeys,
    methods,
    administration,
    async close() {
      await registry.close();
      await identity.close();
      await audit.settled();
    },
  };
}

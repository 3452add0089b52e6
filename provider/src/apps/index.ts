import type { IdTokenAlg } from '../oidc/keys.js';
import type { EphemeralStore } from '../storage/ephemeral.js';
import type { PrismaClient } from '../storage/generated/client.ts';
import { createClientDirectory } from './directory.js';
import { APPS_CHANGED, createApps } from './registry.js';

/**
 * The app registry: registered websites (writes, registry.ts), the cached directory every
 * request reads (directory.ts) and the change channel between them: a change on any instance
 * (or from the CLI) is published, and every instance drops its cached entry at once.
 */
export async function createAppRegistry(deps: {
  prisma: PrismaClient;
  /** Shared with the other instances; null when nothing else can be listening (the CLI on the embedded database). */
  store: EphemeralStore | null;
  /** Ends everything issued to an app (oidc/payloads.ts `revokeApp`). */
  revoke: (appId: string) => Promise<number>;
  /** The ID token algorithms there are keys for. */
  signingAlgs: readonly IdTokenAlg[];
}) {
  const { prisma, store } = deps;
  const directory = createClientDirectory(prisma);
  const apps = createApps(prisma, {
    changed: async (appId) => {
      directory.invalidate(appId);
      await store?.publish(APPS_CHANGED, appId);
    },
    revoke: deps.revoke,
    signingAlgs: deps.signingAlgs,
  });
  const stopListening = store ? await store.subscribe(APPS_CHANGED, (appId) => directory.invalidate(appId)) : async () => {};
  // Changes published while pub/sub was down are lost: start the cache afresh.
  const stopResubscribed = store?.onResubscribed(() => directory.invalidate()) ?? (() => {});
  return {
    apps,
    directory,
    async close() {
      stopResubscribed();
      await stopListening().catch(() => {});
    },
  };
}

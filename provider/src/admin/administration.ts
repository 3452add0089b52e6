import type { Audit } from '../accounts/audit.js';
import type { Authorizations } from '../accounts/authorizations.js';
import type { Keyring } from '../keys/keyring.js';
import type { PrismaClient } from '../storage/generated/client.ts';
import { createAdminAccounts } from './admins.js';
import type { Apps } from '../apps/registry.js';
import { createDevelopers } from './developers.js';
import { adminRoutes, type AdminServices } from './api/routes.js';
import { createAdminTokens } from './tokens.js';
import { createUsage } from './usage.js';
import { createAdminUsers, type PeopleDeps } from './people.js';

export interface AdministrationDeps {
  prisma: PrismaClient;
  apps: Apps;
  audit: Audit;
  authorizations: Authorizations;
  keyring: Keyring;
  /** QR_TTL in seconds: a scan undecided for longer counts as expired. */
  qrTtlSeconds: number;
  /** People management: accounts, their sessions, identities and sign-in methods. */
  people: PeopleDeps;
}

export type Administration = ReturnType<typeof createAdministration>;

/**
 * Everything an admin can do, built once: the services and the admin API router (mounted as is
 * on the local admin socket; http.ts puts it on the web behind bearer tokens, with the console).
 */
export function createAdministration(deps: AdministrationDeps) {
  const { prisma, apps, audit } = deps;
  const services: AdminServices = {
    apps,
    developers: createDevelopers(prisma),
    admins: createAdminAccounts(prisma),
    tokens: createAdminTokens(prisma),
    usage: createUsage(prisma, { qrTtlMs: deps.qrTtlSeconds * 1000 }),
    users: createAdminUsers(prisma, deps.authorizations, deps.people),
    identitySources: deps.people.sources,
    keyring: deps.keyring,
  };
  const api = adminRoutes({ ...services, audit });

  return {
    ...services,
    audit,
    /** The admin API without authentication: for the local socket only (socket.ts). */
    api,
  };
}

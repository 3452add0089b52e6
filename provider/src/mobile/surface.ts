import type { Router, RequestHandler } from 'express';
import type { Services } from '../services.js';
import type { ClientDirectory } from '../apps/directory.js';
import { createIdentitySignIn } from '../identity/index.js';
import { identityPhoneRoutes } from '../identity/phone-routes.js';
import { identityWebRoutes } from '../identity/web-routes.js';
import type { Logger } from '../log.js';
import type { Logins } from '../login/login.js';
import { createConfirmGate } from '../passkeys/confirm-gate.js';
import { passkeyPhoneRoutes } from '../passkeys/phone-routes.js';
import type { EphemeralStore } from '../storage/ephemeral.js';
import { createPhoneApi, phoneApiRouter, phoneKit } from './api.js';
import { mobileRoutes } from './routes.js';
import { createPhoneSignIn } from './sign-in.js';

/**
 * The phone's surface, assembled: one contract (`api`) that every capability's phone routes
 * declare on — accounts and scans (routes.ts), passkeys, identity sources — the sign-in every
 * method ends in, the passkey gate on Confirm, and the browser side of federated sign-in.
 */
export function phoneSurface(deps: {
  services: Services;
  logins: Logins;
  clients: ClientDirectory;
  store: EphemeralStore;
  issuer: string;
  /** Every Confirm tap needs a passkey (REQUIRE_USER_VERIFICATION). */
  requireUserVerification: boolean;
  scanLimit: RequestHandler;
  log: Logger;
  now: () => number;
}): { api: Router; web: Router; contract: ReturnType<typeof createPhoneApi> } {
  const { services, logins, clients } = deps;
  const { users, audit, authorizations, identity, passkeys, methods, devices: tokens } = services;
  const signIn = createPhoneSignIn({ tokens, audit });
  const { verifyAssertion, federation } = createIdentitySignIn(identity, { store: deps.store, issuer: deps.issuer, log: deps.log, now: deps.now });
  const gate = createConfirmGate({ passkeys, clients, everywhere: deps.requireUserVerification });
  const contract = createPhoneApi();
  const kit = phoneKit(contract, tokens);
  const routes = [
    mobileRoutes(kit, { users, tokens, signIn, methods, logins, clients, authorizations, audit, gate, scanLimit: deps.scanLimit }),
    passkeyPhoneRoutes(kit, { passkeys, users, logins, signIn, audit }),
    identityPhoneRoutes(kit, { sources: identity.sources, links: identity.links, verifyAssertion, federation, users, signIn, issuer: deps.issuer }),
  ];
  return { api: phoneApiRouter(contract, routes, deps.issuer), web: identityWebRoutes({ federation, issuer: deps.issuer, log: deps.log }), contract };
}

import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { ClientDirectory } from '../apps/directory.js';
import { commonError } from '../errors.js';
import { parseWith } from '../http/guard.js';
import { errorsOf } from '../http/openapi.js';
import type { ConfirmGate } from '../mobile/routes.js';
import { passkeyError } from './error-codes.js';
import type { Passkeys } from './passkeys.js';
import { authenticationResponseSchema } from './schemas.js';

/**
 * User verification at confirm time: when the deployment (REQUIRE_USER_VERIFICATION) or the
 * app (requireUserVerification) asks for it, a Confirm tap counts only with a fresh passkey
 * assertion made with user verification, for this QR, by the person who scanned it. The device
 * token alone (a phone left unlocked, a stolen token) is then not enough to approve a login.
 * A person without a passkey is told to add one; the QR stays scanned, so they can deny.
 * Kept out of the login core: the core knows "who decided", the phone surface knows how they proved it.
 */
export function createConfirmGate(deps: { passkeys: Passkeys; clients: ClientDirectory; everywhere: boolean }): ConfirmGate {
  const required = async (clientId: string) => deps.everywhere || !!(await deps.clients.get(clientId))?.requireUserVerification;
  return {
    required,
    errors: [
      ...errorsOf(passkeyError, 'user_verification_required', 'no_passkey', 'passkey_invalid', 'passkey_unknown', 'passkey_challenge_invalid'),
      ...errorsOf(commonError, 'invalid_request'),
    ],
    async check({ qrId, clientId, userId, passkey }) {
      if (!(await required(clientId))) return;
      if (passkey === undefined || passkey === null) {
        throw (await deps.passkeys.count(userId)) ? passkeyError('user_verification_required') : passkeyError('no_passkey');
      }
      const response = parseWith(authenticationResponseSchema, passkey) as unknown as AuthenticationResponseJSON;
      await deps.passkeys.verifyConfirm(userId, qrId, response);
    },
  };
}

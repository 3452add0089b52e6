import type { Audit } from '../accounts/audit.js';
import type { PublicUser } from '../accounts/users.js';
import type { Who } from '../login/ports.js';
import type { DeviceTokens } from './device-tokens.js';

/** How a phone signed in: shown in the audit trail ("device.login"). */
export type SignInMethod = 'password' | 'passkey' | 'assertion' | 'sso';

export type PhoneSignIn = ReturnType<typeof createPhoneSignIn>;

/**
 * The one way a phone gets a device session, whatever proved who the person is (password,
 * passkey, the organisation's assertion, federated sign-in): a device token, and the trail.
 * Callers have already refused disabled people.
 */
export function createPhoneSignIn(deps: { tokens: DeviceTokens; audit: Audit }) {
  return async (user: PublicUser, how: { method: SignInMethod; sourceId?: string; deviceName?: string }, who: Who) => {
    const token = await deps.tokens.issue(user.id, how.deviceName);
    await deps.audit.record('device.login', {
      userId: user.id,
      ...who,
      detail: { deviceName: how.deviceName ?? null, method: how.method, ...(how.sourceId ? { source: how.sourceId } : {}) },
    });
    return { token, user };
  };
}

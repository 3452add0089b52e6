import { defineErrors } from '../errors.js';

/** Passkeys (WebAuthn): the closed list of errors. */
export const passkeyError = defineErrors({
  passkey_challenge_invalid: [400, 'This passkey request has expired or was already used. Try again.'],
  passkey_invalid: [401, 'The passkey response could not be verified (wrong site, wrong challenge, no user verification, or a bad signature).'],
  passkey_unknown: [401, 'This passkey is not registered here (it may have been removed).'],
  passkey_not_found: [404, 'This account has no such passkey.'],
  passkey_exists: [409, 'This passkey is already registered.'],
  last_sign_in_method: [409, 'This passkey is your only way to sign in. Add another passkey first, then remove this one.'],
  user_verification_required: [403, 'This login must be confirmed with your passkey (fingerprint, face or screen lock). Confirm again and use it.'],
  no_passkey: [403, 'This login must be confirmed with a passkey, and your account has none. Add one under Account, then scan the code again.'],
  recent_sign_in_required: [403, 'Adding or removing a passkey needs a recent sign-in. Sign out, sign in again on this phone, and try again.'],
});

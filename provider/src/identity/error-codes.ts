import { defineErrors } from '../errors.js';

/**
 * Identity sources and linked identities: the closed list of errors. Trusted sign-in refusals
 * are 401 with a code naming the check that failed, so the organisation's developers can tell
 * a clock problem (`assertion_expired`) from a key rotation (`unknown_key`) from an attack
 * (`assertion_replayed`); the person is told only that the sign-in failed.
 */
export const identityError = defineErrors({
  // trusted sign-in (assertions)
  invalid_assertion: [401, 'The assertion is not a signed JWT (compact JWS with a JSON payload).'],
  unsupported_algorithm: [401, "The assertion's algorithm is not one this identity source allows (never none, never HS*)."],
  unknown_key: [401, "No key of this identity source matches the assertion's kid."],
  invalid_signature: [401, 'The assertion signature does not verify with the identity source key.'],
  wrong_issuer: [401, 'The assertion iss is not this identity source issuer.'],
  wrong_audience: [401, 'The assertion aud does not name this Saoma deployment as the source expects.'],
  assertion_expired: [401, 'The assertion has expired (exp is in the past).'],
  assertion_not_yet_valid: [401, 'The assertion is not valid yet (nbf or iat is in the future).'],
  assertion_lifetime_too_long: [401, 'The assertion lives too long: exp may be at most 5 minutes ahead.'],
  missing_claim: [401, 'The assertion lacks a required claim (sub, jti and exp are required).'],
  assertion_replayed: [401, 'This assertion was already used (its jti is single-use). Ask your backend for a new one.'],
  // sources
  unknown_source: [404, 'No such identity source.'],
  source_disabled: [403, 'This identity source is disabled; sign in another way or ask the administrator.'],
  source_unreachable: [503, "The identity source's keys or discovery document could not be fetched; try again shortly."],
  source_exists: [409, 'An identity source with this id, or of this kind with this issuer, already exists.'],
  wrong_source_kind: [400, 'This identity source is of the other kind for this operation.'],
  // federated sign-in (OIDC)
  sso_state_invalid: [400, 'This sign-in link has expired or was opened in another browser. Start the sign-in again.'],
  sso_failed: [400, 'The organisation sign-in did not complete.'],
  sso_code_invalid: [400, 'This sign-in has expired or was already used. Start the sign-in again.'],
  // links
  identity_taken: [409, 'This identity is already linked to another person.'],
  link_not_found: [404, 'This person has no such linked identity.'],
});

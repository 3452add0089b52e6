import { createHash } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Logger } from '../log.js';
import type { EphemeralStore } from '../storage/ephemeral.js';
import { identityError } from './error-codes.js';
import type { createKeySets } from './key-sets.js';
import { ASSERTION_ALGS } from './source-input.js';
import type { SourceRecord } from './sources.js';

/** An assertion may be valid for at most this long from now: it is a one-shot sign-in, not a session. */
const MAX_ASSERTION_LIFETIME_S = 5 * 60;
/** Clock skew allowed between the organisation's backend and Saoma, in seconds. */
const CLOCK_TOLERANCE_S = 30;

const ASYMMETRIC = new Set<string>(ASSERTION_ALGS);
const jtiKey = (sourceId: string, jti: string) => `identity:jti:${sourceId}:${createHash('sha256').update(jti).digest('base64url')}`;

export type VerifiedAssertion = JWTPayload & { sub: string; jti: string; exp: number };

/**
 * Trusted sign-in (RFC 7523's JWT bearer assertion, used as a phone sign-in): checks, in order,
 *  - the source is active;
 *  - the header's `alg` is one the source allows, and asymmetric (never `none`, never HS*:
 *    an HMAC keyed with the public key would let anyone sign);
 *  - the signature, with the source's key for `kid` (jose; remote sets are cached);
 *  - `iss` is the source's issuer, `aud` names its audience, `exp` is not past and `nbf`/`iat`
 *    are not ahead (30 s tolerance); `sub`, `jti` and `exp` are present;
 *  - `exp` is at most 5 minutes ahead;
 *  - `jti` was never used with this source: set-if-absent in the ephemeral store until the
 *    assertion expires, so of concurrent presentations exactly one passes.
 * Failures are the identity list's codes; the jti is spent only by an assertion that passed
 * every other check (a forged one cannot burn a real one's jti).
 */
export function createAssertionVerifier(deps: { store: EphemeralStore; keySets: ReturnType<typeof createKeySets>; now?: () => number; log?: Logger }) {
  const now = deps.now ?? Date.now;

  return async function verifyAssertion(source: SourceRecord, jwt: string): Promise<VerifiedAssertion> {
    if (!source.active) throw identityError('source_disabled');
    if (source.kind !== 'assertion' || !source.audience)
      throw identityError('wrong_source_kind', `"${source.id}" is an OpenID Connect source: people sign in with it on the phone web app.`);

    let alg: unknown;
    try {
      alg = decodeProtectedHeader(jwt).alg;
    } catch {
      throw identityError('invalid_assertion');
    }
    if (typeof alg !== 'string' || !ASYMMETRIC.has(alg) || !(source.algorithms as string[]).includes(alg)) {
      throw identityError(
        'unsupported_algorithm',
        `The assertion is signed with ${JSON.stringify(alg)}; this identity source accepts ${source.algorithms.join(', ')}.`,
      );
    }

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, deps.keySets.of(source), {
        algorithms: source.algorithms,
        issuer: source.issuer,
        audience: source.audience,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['sub', 'jti', 'exp'],
        currentDate: new Date(now()),
      }));
    } catch (err) {
      throw refusal(err, source, deps.log);
    }
    const { sub, jti, exp } = payload;
    if (typeof sub !== 'string' || !sub || sub.length > 255 || typeof jti !== 'string' || !jti || jti.length > 255 || typeof exp !== 'number') {
      throw identityError('missing_claim', 'sub and jti must be non-empty strings of at most 255 characters.');
    }
    const nowS = now() / 1000;
    // jose checks iat only against a maximum age, which would make iat required: it is optional here.
    if (typeof payload.iat === 'number' && payload.iat - nowS > CLOCK_TOLERANCE_S) throw identityError('assertion_not_yet_valid');
    if (exp - nowS > MAX_ASSERTION_LIFETIME_S + CLOCK_TOLERANCE_S) throw identityError('assertion_lifetime_too_long');

    // Kept until the assertion could no longer pass the exp check anyway.
    const ttlMs = Math.max(1_000, Math.ceil((exp + CLOCK_TOLERANCE_S - nowS) * 1000));
    if (!(await deps.store.setIfAbsent(jtiKey(source.id, jti), '1', ttlMs))) throw identityError('assertion_replayed');
    return payload as VerifiedAssertion;
  };
}

/** jose's error, as the check that failed. */
function refusal(err: unknown, source: SourceRecord, log?: Logger) {
  if (err instanceof errors.JWTExpired) return identityError('assertion_expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return identityError('missing_claim', `The assertion lacks "${err.claim}" (sub, jti and exp are required).`);
    if (err.claim === 'iss') return identityError('wrong_issuer');
    if (err.claim === 'aud') return identityError('wrong_audience');
    if (err.claim === 'nbf' || err.claim === 'iat') return identityError('assertion_not_yet_valid');
    return identityError('invalid_assertion', `The assertion's "${err.claim}" claim is not valid.`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return identityError('unsupported_algorithm');
  if (err instanceof errors.JWKSNoMatchingKey) return identityError('unknown_key');
  // No kid, and more than one key of the source fits: the assertion, not the source, is at fault.
  if (err instanceof errors.JWKSMultipleMatchingKeys) {
    return identityError('unknown_key', 'Several keys of this identity source could verify the assertion: name the one that signed it with kid.');
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return identityError('invalid_signature');
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported || err instanceof errors.JWKInvalid) {
    return identityError('invalid_assertion');
  }
  // The remote key set did not answer, or answered nonsense: ours (or theirs) to fix, retryable.
  log?.warn({ err: err instanceof Error ? err.message : String(err), source: source.id }, 'identity source keys unavailable');
  return identityError('source_unreachable');
}

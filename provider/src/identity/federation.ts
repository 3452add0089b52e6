import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { boundedFetch } from './bounded-fetch.js';
import { newSecret } from '../accounts/secrets.js';
import type { PublicUser } from '../accounts/users.js';
import type { Logger } from '../log.js';
import type { EphemeralStore } from '../storage/ephemeral.js';
import { identityError } from './error-codes.js';
import type { IdentityLinks } from './links.js';
import { ssoCallbackUrl, type IdentitySources, type SourceRecord } from './sources.js';

/** From "Sign in with…" to the callback: long enough to type a password and pass MFA. */
const ATTEMPT_MS = 10 * 60_000;
/** From the callback to the phone app claiming its device session (one redirect). */
const HANDOFF_MS = 60_000;

const sha256 = (v: string) => createHash('sha256').update(v).digest('base64url');
const attemptKey = (state: string) => `identity:sso:${sha256(state)}`;
const handoffKey = (code: string) => `identity:sso-handoff:${sha256(code)}`;

interface Attempt {
  sourceId: string;
  verifier: string;
  nonce: string;
  /** SHA-256 of the browser's binding cookie: only the browser that started may finish. */
  binding: string;
}

/** A finished sign-in waiting for the phone app; claimed only with the same browser's binding. */
interface Handoff {
  userId: string;
  sourceId: string;
  binding: string;
}

export type Federation = ReturnType<typeof createFederation>;

/**
 * Federated sign-in on the phone web app: "Sign in with <organisation SSO>" is OpenID Connect's
 * authorization code flow with PKCE, state and nonce against the source's issuer (openid-client),
 * Saoma being the relying party. The attempt lives server-side (ephemeral store, single-use)
 * and is bound to the browser that started it by a cookie, so a callback URL planted in someone
 * else's browser (login CSRF) completes nothing. The person is linked by (source, `sub`).
 * The callback hands the phone app a one-time code (60 s) in the URL fragment, which it
 * exchanges for a device session through the phone API (POST /login/sso), from the same
 * browser: a code is a bearer link, and one planted in another browser (/app#sso=<the
 * attacker's code>) would sign that browser in as the attacker (login CSRF once more).
 */
export function createFederation(deps: { sources: IdentitySources; links: IdentityLinks; store: EphemeralStore; issuer: string; log?: Logger }) {
  const { sources, store } = deps;
  const configs = new Map<string, { version: string; config: Promise<oidc.Configuration> }>();

  /** Discovery, once per source version (a failed discovery is retried next time). */
  function configOf(source: SourceRecord): Promise<oidc.Configuration> {
    const hit = configs.get(source.id);
    if (hit?.version === source.version) return hit.config;
    const secret = sources.clientSecret(source);
    const insecure = new URL(source.issuer).protocol === 'http:'; // loopback only (source-input.ts)
    const config = oidc
      .discovery(new URL(source.issuer), source.clientId!, undefined, secret ? oidc.ClientSecretBasic(secret) : oidc.None(), {
        execute: insecure ? [oidc.allowInsecureRequests] : [],
        timeout: 5,
        // Its body types are Uint8Array-flavoured; fetch takes them as they are.
        [oidc.customFetch]: (url, options) => boundedFetch(url, options as RequestInit),
      })
      .catch((err: unknown) => {
        configs.delete(source.id);
        deps.log?.warn({ err: (err as Error).message, source: source.id }, 'identity source discovery failed');
        throw identityError('source_unreachable');
      });
    configs.set(source.id, { version: source.version, config });
    return config;
  }

  async function usable(sourceId: string): Promise<SourceRecord> {
    const source = await sources.get(sourceId);
    if (!source) throw identityError('unknown_source');
    if (source.kind !== 'oidc') throw identityError('wrong_source_kind', `"${source.id}" is a trusted sign-in source for the organisation's own app.`);
    if (!source.active) throw identityError('source_disabled');
    return source;
  }

  return {
    /** Where to send the browser, and the binding cookie to set on it. */
    async begin(sourceId: string): Promise<{ url: string; binding: string }> {
      const source = await usable(sourceId);
      const config = await configOf(source);
      const [state, nonce, verifier, binding] = [oidc.randomState(), oidc.randomNonce(), oidc.randomPKCECodeVerifier(), newSecret()];
      const attempt: Attempt = { sourceId, verifier, nonce, binding: sha256(binding) };
      await store.set(attemptKey(state), JSON.stringify(attempt), ATTEMPT_MS);
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: ssoCallbackUrl(deps.issuer, sourceId),
        scope: source.scopes.join(' '),
        state,
        nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      return { url: url.href, binding };
    },

    /**
     * The callback: checks the attempt (known, this source, this browser; then spent), redeems
     * the code (openid-client checks state, PKCE, the ID token's signature, iss, aud and nonce),
     * signs the person in by (source, sub), and returns a one-time handoff code.
     */
    async finish(sourceId: string, callbackUrl: URL, binding: string | undefined): Promise<{ code: string; user: PublicUser }> {
      const state = callbackUrl.searchParams.get('state') ?? '';
      const raw = state ? await store.get(attemptKey(state)) : null;
      const attempt = raw ? (JSON.parse(raw) as Attempt) : null;
      if (!attempt || attempt.sourceId !== sourceId || !binding || sha256(binding) !== attempt.binding) throw identityError('sso_state_invalid');
      if ((await store.del(attemptKey(state))) !== 1) throw identityError('sso_state_invalid'); // a concurrent callback spent it
      const upstreamError = callbackUrl.searchParams.get('error');
      if (upstreamError) throw identityError('sso_failed', `The organisation sign-in answered "${upstreamError.slice(0, 64)}".`);

      const source = await usable(sourceId);
      const config = await configOf(source);
      let claims: oidc.IDToken;
      let accessToken: string;
      try {
        const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: attempt.verifier,
          expectedState: state,
          expectedNonce: attempt.nonce,
          idTokenExpected: true,
        });
        claims = tokens.claims()!;
        accessToken = tokens.access_token;
      } catch (err) {
        deps.log?.warn({ err: (err as Error).message, source: sourceId }, 'federated sign-in failed');
        throw identityError('sso_failed');
      }
      // Profile claims may come only from userinfo (the ID token is allowed to carry just `sub`).
      const profile =
        claims.name || claims.nickname || claims.picture
          ? claims
          : { ...claims, ...(await oidc.fetchUserInfo(config, accessToken, claims.sub).catch(() => ({}))) };
      const user = await deps.links.signInAs(source, claims.sub, profile);
      const code = newSecret();
      const handoff: Handoff = { userId: user.id, sourceId, binding: attempt.binding };
      await store.set(handoffKey(code), JSON.stringify(handoff), HANDOFF_MS);
      return { code, user };
    },

    /**
     * The phone app claims the device session a callback prepared: once, within 60 s, from the
     * browser that started the sign-in (`binding`, its cookie). Another browser's claim spends
     * nothing, so a planted code cannot burn the real one either.
     */
    async claim(code: string, binding: string | undefined): Promise<{ userId: string; sourceId: string }> {
      const raw = await store.get(handoffKey(code));
      const handoff = raw ? (JSON.parse(raw) as Handoff) : null;
      if (!handoff || !binding || sha256(binding) !== handoff.binding) throw identityError('sso_code_invalid');
      if ((await store.del(handoffKey(code))) !== 1) throw identityError('sso_code_invalid');
      return { userId: handoff.userId, sourceId: handoff.sourceId };
    },
  };
}

import { customAlphabet } from 'nanoid';
import type { ClientDirectory } from '../apps/directory.js';
import { AppError } from '../errors.js';
import type { Logins } from '../login/login.js';
import type { QrSession, Requester } from '../login/machine.js';
import type { Who } from '../login/ports.js';
import { asWechat } from '../oidc/flows.js';
import type { OidcGrants } from '../oidc/grant-issuer.js';
import type { EphemeralStore } from '../storage/ephemeral.js';
import { pageError } from './errcodes.js';
import { callbackUrl, redirectAllowed, WECHAT_SCOPES } from './translate.js';

/**
 * Embedded logins (wxLogin.js, see the design note in provider/public/wechat/frame.js): a login
 * that lives in a cross-site iframe, where no provider cookie can be set or sent. Instead of an
 * oidc-provider interaction (bound to its cookie), the iframe holds an unguessable embed token:
 * `wechat:embed:<token>` carries the validated request (appid, redirect_uri, state...) and names
 * the login in the core (login/), which is the ordinary one: same phone API, same state machine,
 * same requester binding, same completion (every durable write before the single-use claim).
 * Completing mints the same single-use 600 s AuthorizationCode under the approved grant, so the
 * code is redeemed exactly like any other WeChat-style code.
 */
const EMBED_TTL_MS = 30 * 60 * 1000;
/** 32 symbols of 64: 192 random bits. */
const newToken = customAlphabet('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-', 32);
const TOKEN = /^[A-Za-z0-9_-]{32}$/;

export interface EmbedRequest {
  appid: string;
  redirectUri: string;
  state: string;
  selfRedirect: boolean;
  /** The embedding page's origin when it is one of the app's own (translate.ts parentOriginAllowed). */
  parentOrigin: string | null;
}

interface EmbedSession extends EmbedRequest {
  /** The login core's id for this login (the role an interaction uid plays for OIDC). */
  loginId: string;
}

export type Embeds = ReturnType<typeof createEmbeds>;

export function createEmbeds(deps: { logins: Logins; store: EphemeralStore; clients: ClientDirectory; grants: Pick<OidcGrants, 'mintCode'> }) {
  const { logins, store, clients, grants } = deps;
  const key = (token: string) => `wechat:embed:${token}`;

  async function load(token: string): Promise<EmbedSession | null> {
    if (!TOKEN.test(token)) return null;
    const raw = await store.get(key(token));
    return raw ? (JSON.parse(raw) as EmbedSession) : null;
  }

  return {
    /** A new embedded login; the browser asking now is the requester the phone will be shown, for good. */
    async create(request: EmbedRequest, requester: Requester): Promise<{ token: string; session: QrSession }> {
      const token = newToken();
      const s: EmbedSession = { ...request, loginId: `wxembed_${newToken()}` };
      await store.set(key(token), JSON.stringify(s), EMBED_TTL_MS);
      const session = await logins.currentQr(s.loginId, { request: { clientId: s.appid, scopes: WECHAT_SCOPES }, requester, ttlMs: EMBED_TTL_MS });
      return { token, session };
    },

    load,

    /** The QR the iframe should show now (rotated once expired, for the same requester), or null for an unknown token. */
    async currentQr(token: string): Promise<QrSession | null> {
      const s = await load(token);
      return s ? logins.currentQr(s.loginId) : null;
    },

    /** Where the browser goes once the phone decided: `redirect_uri?code&state`, or `?state` if denied. */
    async complete(token: string, who: Who): Promise<string> {
      const s = await load(token);
      if (!s) throw pageError('login_expired');
      // The app may have changed (disabled, new callback domain) since the QR was shown.
      const info = await clients.get(s.appid);
      if (!info) throw pageError('invalid_appid');
      if (!redirectAllowed(s.redirectUri, info)) throw pageError('invalid_redirect_uri');

      let done;
      try {
        done = await logins.complete(s.loginId, who, {
          via: 'wechat-embed',
          prepare: (approval) =>
            asWechat(() =>
              grants.mintCode({
                clientId: approval.clientId,
                grantId: approval.grantId,
                accountId: approval.accountId,
                redirectUri: s.redirectUri,
                scope: approval.scopes.join(' '),
              }),
            ),
        });
      } catch (err) {
        if (err instanceof AppError && err.code === 'not_decided') throw pageError('not_decided');
        if (err instanceof AppError && err.status < 500) throw pageError('login_expired');
        throw err;
      }
      await store.del(key(token)).catch(() => 0); // spent; the claim already makes it single-use
      return callbackUrl(s.redirectUri, done.denied ? { state: s.state } : { code: done.prepared, state: s.state });
    },
  };
}

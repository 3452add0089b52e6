import { customAlphabet } from 'nanoid';
import type Provider from 'oidc-provider';
import type { Audit } from '../accounts/audit.js';
import type { Authorizations } from '../accounts/authorizations.js';
import { AppError } from '../errors.js';
import type { ClientDirectory } from '../apps/directory.js';
import type { QrSession, Requester } from '../login/machine.js';
import type { QrService } from '../login/store.js';
import type { EphemeralStore } from '../storage/ephemeral.js';
import { WechatPageError } from './errcodes.js';
import { callbackUrl, OIDC_SCOPE, OIDC_SCOPES, redirectAllowed } from './translate.js';

/**
 * Embedded logins (wxLogin.js, see the design note in wxlogin-js.ts): a login that lives in a
 * cross-site iframe, where no provider cookie can be set or sent. Instead of an oidc-provider
 * interaction (which is bound to its cookie), the iframe holds an unguessable embed token:
 * `wechat:embed:<token>` in the ephemeral store carries the validated request (appid,
 * redirect_uri, state...) and names the QR session, which is the ordinary one (same phone API,
 * same state machine, same single-use claim). Completing mints the same Grant and the same
 * single-use 600 s AuthorizationCode through oidc-provider's models, so the code is redeemed
 * exactly like any other.
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
  /** The QR service's key for this login (the role an interaction uid plays for OIDC). */
  uid: string;
}

export type Embeds = ReturnType<typeof createEmbeds>;

export function createEmbeds(deps: {
  provider: Provider;
  qr: QrService;
  store: EphemeralStore;
  clients: ClientDirectory;
  authorizations: Authorizations;
  audit: Audit;
}) {
  const { provider, qr, store, clients, authorizations, audit } = deps;
  const key = (token: string) => `wechat:embed:${token}`;

  async function load(token: string): Promise<EmbedSession | null> {
    if (!TOKEN.test(token)) return null;
    const raw = await store.get(key(token));
    return raw ? (JSON.parse(raw) as EmbedSession) : null;
  }

  const qrOf = (s: EmbedSession, requester: Requester) => qr.current({ uid: s.uid, clientId: s.appid, scopes: OIDC_SCOPES, requester });

  /** The decided QR, claimed exactly once (the QR service's compare-and-set). */
  async function claim(s: EmbedSession): Promise<QrSession> {
    const current = await qr.ofInteraction(s.uid);
    if (!current) throw new WechatPageError('login_expired');
    try {
      return await qr.claim(current.qrId);
    } catch (err) {
      if (err instanceof AppError && err.code === 'not_decided') throw new WechatPageError('not_decided');
      if (err instanceof AppError && err.status < 500) throw new WechatPageError('login_expired');
      throw err;
    }
  }

  return {
    async create(request: EmbedRequest, requester: Requester): Promise<{ token: string; session: QrSession }> {
      const token = newToken();
      const s: EmbedSession = { ...request, uid: `wxembed_${newToken()}` };
      await store.set(key(token), JSON.stringify(s), EMBED_TTL_MS);
      return { token, session: await qrOf(s, requester) };
    },

    load,

    /** The QR the iframe should show now: the same until it expires, then a fresh one. */
    async currentQr(token: string, requester: Requester): Promise<QrSession | null> {
      const s = await load(token);
      return s ? qrOf(s, requester) : null;
    },

    /** Where the browser goes once the phone decided: `redirect_uri?code&state`, or `?state` if denied. */
    async complete(token: string, who: { ip: string | null; userAgent: string | null }): Promise<string> {
      const s = await load(token);
      if (!s) throw new WechatPageError('login_expired');
      // The app may have changed (disabled, new callback domain) since the QR was shown.
      const info = await clients.get(s.appid);
      const client = await provider.Client.find(s.appid);
      if (!info || !client) throw new WechatPageError('invalid_appid');
      if (!redirectAllowed(s.redirectUri, info)) throw new WechatPageError('invalid_redirect_uri');

      const decided = await claim(s);
      await store.del(key(token));
      if (decided.status === 'denied') {
        await audit.record('login.denied', { userId: decided.userId, appId: s.appid, ...who });
        return callbackUrl(s.redirectUri, { state: s.state });
      }

      const accountId = decided.userId!;
      const grant = new provider.Grant({ accountId, clientId: s.appid });
      grant.addOIDCScope(OIDC_SCOPE);
      const grantId = await grant.save();
      const code = new provider.AuthorizationCode({
        client,
        accountId,
        grantId,
        gty: 'authorization_code',
        redirectUri: s.redirectUri,
        scope: OIDC_SCOPE,
        amr: ['qr'],
        authTime: Math.floor(Date.now() / 1000),
        expiresWithSession: false,
      });
      const value = await code.save();
      await authorizations.recordApproval(accountId, s.appid, OIDC_SCOPES);
      await audit.record('login.completed', { userId: accountId, appId: s.appid, ...who, detail: { scopes: OIDC_SCOPES, via: 'wechat-embed' } });
      return callbackUrl(s.redirectUri, { code: value, state: s.state });
    },
  };
}

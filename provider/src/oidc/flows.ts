import { AsyncLocalStorage } from 'node:async_hooks';
import { isWechatRequest } from './extensions.js';

/**
 * Which protocol issued a code or refresh token, stored with it (adapter.ts), so each is
 * redeemed only with the checks of the flow that issued it: an OIDC code only at /token (with
 * its redirect_uri and PKCE), a WeChat-style one at /sns too; the secret-less WeChat refresh
 * only for refresh tokens issued through /sns.
 */
export type Flow = 'wechat' | 'oidc';

/** Where the flow travels in the stored payload (oidc-provider ignores fields it does not know). */
export const FLOW_FIELD = 'saomaFlow';

const issuing = new AsyncLocalStorage<Flow>();

/** Issue what `fn` saves as the WeChat flow's (the /sns API, the embedded QR). */
export const asWechat = <T>(fn: () => Promise<T>): Promise<T> => issuing.run('wechat', fn);

/** The flow being served: explicit, or an authorization request marked `response_mode=wechat`. */
export const currentFlow = (): Flow => issuing.getStore() ?? (isWechatRequest() ? 'wechat' : 'oidc');

/** The flow a stored payload records (older records, without one, count as OIDC's). */
export const flowOf = (stored: Record<string, unknown> | undefined): Flow => (stored?.[FLOW_FIELD] === 'wechat' ? 'wechat' : 'oidc');

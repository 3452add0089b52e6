import { createHmac } from 'node:crypto';

/**
 * WeChat-style identifiers, derived rather than stored so they never drift:
 * - openid: one per (user, app) — the OIDC pairwise `sub`; two apps cannot correlate a user.
 * - unionid: one per (user, developer account) — shared by one developer's apps only.
 * Both are HMACs under IDENTIFIER_SECRET; changing that secret changes every identifier.
 */
export function openid(secret: string, appId: string, userId: string): string {
  return `o${mac(secret, `openid:${appId}:${userId}`)}`;
}

export function unionid(secret: string, developerId: string, userId: string): string {
  return `u${mac(secret, `unionid:${developerId}:${userId}`)}`;
}

function mac(secret: string, input: string): string {
  // 144 bits, URL-safe, 24 characters: unguessable and compact like WeChat's 28-char openid.
  return createHmac('sha256', secret).update(input).digest().subarray(0, 18).toString('base64url');
}

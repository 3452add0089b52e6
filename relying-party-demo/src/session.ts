import type { Request } from 'express';
import type { SignedIn } from './pages.js';
import type { WechatSignedIn } from './wechat-pages.js';

/** What the OIDC path remembers between /login and /callback (one login at a time per browser). */
export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** A WeChat-style login in progress: the state the site generated (CSRF check at the callback). */
export interface PendingWechat {
  state: string;
  via: 'redirect' | 'embedded';
  /** epoch ms */
  at: number;
}

/** The demo's cookie session: at most one signed-in identity, from either path. */
export interface DemoSession {
  pending?: PendingLogin;
  user?: SignedIn;
  wechatPending?: PendingWechat[];
  wechat?: WechatSignedIn;
}

export const session = (req: Request) => (req.session ?? {}) as DemoSession;
